"""What the render cache gave a batch: how many takes reused an earlier render, and what that saved.

A reused take made no call, so the call table and the spend know nothing of it; its take row
names the take it came from (``cached_from``) and keeps the model that rendered it, which prices
the render it did not have to pay for (:func:`studio.spending.prices.price_of`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from studio.spending.money import usd
from studio.spending.prices import price_of

__all__ = ["NOTHING_REUSED", "CacheSavings", "cache_line", "cache_savings"]


@dataclass(frozen=True)
class CacheSavings:
    """A batch's takes that came from the render cache.

    Attributes:
        enabled: The batch may reuse earlier renders (not launched with ``--no-cache`` or ``cache = false``).
        takes: Takes whose image was reused from an earlier identical take.
        saved_usd: What rendering them would have cost, from the price table (rounded to 6 places).
    """

    enabled: bool
    takes: int
    saved_usd: float

    def to_json(self) -> dict[str, Any]:
        """``{"enabled", "takes", "saved_usd"}``."""
        return {"enabled": self.enabled, "takes": self.takes, "saved_usd": self.saved_usd}


class ReusableTake(Protocol):
    """What the cache's count reads of a take: a :class:`~studio.catalog.models.Take`, or a leaner row of it."""

    @property
    def cached_from(self) -> str | None:
        """The take whose render it reused, if it did."""

    @property
    def provider(self) -> str | None:
        """The provider that rendered it."""

    @property
    def model(self) -> str | None:
        """The model that rendered it."""


NOTHING_REUSED = CacheSavings(enabled=True, takes=0, saved_usd=0.0)
"""A batch with the cache on that has reused nothing (yet)."""


def cache_savings(
    takes: Iterable[ReusableTake], *, enabled: bool, prices: Mapping[str, float] | None = None
) -> CacheSavings:
    """Count the takes that reused a render and price the renders they did not pay for.

    Args:
        takes: The batch's takes.
        enabled: Whether the batch uses the cache (``Batch.use_cache``).
        prices: ``STUDIO_PRICES`` overrides, as the workers price calls.
    """
    reused = [t for t in takes if t.cached_from is not None and t.provider is not None]
    saved = sum((price_of("render", t.provider or "", t.model, prices) for t in reused), 0.0)
    return CacheSavings(enabled=enabled, takes=len(reused), saved_usd=round(saved, 6))


def cache_line(savings: CacheSavings) -> str | None:
    """One line for `studio status BATCH`: ``render cache: 18 takes reused (saved $0.054)``; None when none were."""
    if not savings.takes:
        return None if savings.enabled else "render cache: off (--no-cache); every take rendered"
    takes = f"{savings.takes} take{'s' if savings.takes != 1 else ''}"
    return f"render cache: {takes} reused from earlier identical takes (saved {usd(savings.saved_usd)})"
