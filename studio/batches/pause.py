"""`studio pause` / `studio resume`, the catalog's side: which batches may, and the mark every render reads.

The mark (``Batch.paused_at``) is what holds renders: every render call reads it in the same
transaction that would write the call (:func:`studio.catalog.stages.begin_render`), so no render
starts while it is set, whichever worker runs it and whenever it was queued. It is written before
the batch's workflow is told, and cleared before the workflow wakes its shots, so a shot that is
woken always finds it cleared.
"""

from __future__ import annotations

from datetime import datetime

from studio.catalog.models import Batch, utcnow
from studio.catalog.store import Catalog
from studio.errors import BatchRefused, NotFound
from studio.states import FINISHED_BATCH_STATES


class PauseRefused(BatchRefused):
    """A batch cannot be paused or resumed (it has ended, or its workflow is not running)."""


def mark_paused(catalog: Catalog, batch_id: str, paused: bool) -> datetime | None:
    """Set (or clear) the batch's pause mark; returns the mark it had before.

    Pausing a paused batch keeps its first time; resuming a running batch changes nothing.

    Raises:
        NotFound: No such batch.
        PauseRefused: The batch has ended (nothing is left to hold or to start).
    """
    with catalog.session() as s:
        row = s.get(Batch, batch_id)
        if row is None:
            raise NotFound("batch", batch_id)
        if row.state in FINISHED_BATCH_STATES:
            raise PauseRefused(batch_id, f"it has ended ({row.state}): nothing is left to render")
        before = row.paused_at
        row.paused_at = (before or utcnow()) if paused else None
        s.add(row)
        return before
