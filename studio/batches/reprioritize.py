"""`studio priority BATCH rush|normal|low`, the catalog's side: what may change, and the record of it."""

from __future__ import annotations

from studio.catalog.models import Batch
from studio.catalog.store import Catalog
from studio.errors import BatchRefused, NotFound
from studio.priority import PRIORITIES
from studio.states import BatchState

# A batch in these states starts no more shots, so a new priority would change nothing.
_CLOSED = frozenset({BatchState.PUBLISHED, BatchState.FAILED, BatchState.CANCELLED})


class PriorityRefused(BatchRefused):
    """A batch's priority cannot be changed as asked (an unknown priority, or it has ended)."""


def check_priority_change(catalog: Catalog, batch_id: str, priority: str) -> Batch:
    """The batch whose priority may become ``priority``; nothing is changed.

    Raises:
        NotFound: No such batch.
        PriorityRefused: An unknown priority, or a batch that has ended.
    """
    if priority not in PRIORITIES:
        raise PriorityRefused(batch_id, f"no priority {priority!r}: use one of {', '.join(PRIORITIES)}")
    batch = catalog.batch(batch_id)
    if batch.state in _CLOSED:
        raise PriorityRefused(batch_id, f"it has ended ({batch.state}): no shot is left to start")
    return batch


def record_priority(catalog: Catalog, batch_id: str, priority: str) -> None:
    """Write ``priority`` on the batch's row, once its workflow has taken it.

    Raises:
        NotFound: No such batch.
    """
    with catalog.session() as s:
        row = s.get(Batch, batch_id)
        if row is None:
            raise NotFound("batch", batch_id)
        row.priority = priority
        s.add(row)
