"""Renders made but not yet written down, kept so a retry after an outage does not pay again.

A render that succeeded while the catalog or the asset store was down cannot be stored; its
activity fails (an outage, so it is retried) and the retry would call the vendor again. The
worker keeps such results in memory, by take and provider, and the retry stores the kept one
instead. Retries of a local activity run in the same worker, and most retries of a regular one
land there too; a result is kept only until it is stored, and a bounded number of them.
"""

from __future__ import annotations

from collections import OrderedDict

from providers.base import RenderResult

KEPT = 64
"""Results kept at most (oldest dropped first): an outage longer than this many renders in flight
costs a render again, never a shot."""


class UnsavedRenders:
    """Render results waiting to be stored, by ``(take_id, provider)``."""

    def __init__(self, limit: int = KEPT) -> None:
        self.limit = limit
        self._results: OrderedDict[tuple[str, str], RenderResult] = OrderedDict()

    def keep(self, take_id: str, provider: str, result: RenderResult) -> None:
        """Hold ``result`` until :meth:`stored` is called for it."""
        self._results[(take_id, provider)] = result
        while len(self._results) > self.limit:
            self._results.popitem(last=False)

    def kept(self, take_id: str, provider: str) -> RenderResult | None:
        """A result an earlier attempt made and could not store, if this worker still holds it."""
        return self._results.get((take_id, provider))

    def stored(self, take_id: str, provider: str) -> None:
        """The result is in the catalog: forget it."""
        self._results.pop((take_id, provider), None)
