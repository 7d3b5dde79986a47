"""`studio pause` / `studio resume` (and the dashboard's buttons): hold a batch's renders, and let them go.

The catalog's mark goes first both ways (see :mod:`studio.batches.pause`): pausing stops every
render at once, even before the workflow hears of it; resuming clears it before the workflow
wakes the shots it held. Both are safe to run again after a failure in between.
"""

from __future__ import annotations

import asyncio
from typing import cast

from temporalio.client import Client
from temporalio.workflow import UpdateMethodMultiParam

from pipelines.client.batch_updates import update_batch
from pipelines.workflows.batch import BatchWorkflow
from studio.batches.pause import PauseRefused, mark_paused
from studio.catalog.store import Catalog

# temporalio types an async update handler's result as its coroutine: the cast says what comes back.
_RESUME = cast("UpdateMethodMultiParam[[BatchWorkflow], str]", BatchWorkflow.resume)
_GONE = "its workflow is not running (`studio repair` squares the catalog)"


async def pause_batch(client: Client, catalog: Catalog, batch_id: str) -> str:
    """Hold the batch: no new render starts, calls in flight finish, gates stay answerable.

    Returns:
        One line saying what happened.

    Raises:
        NotFound: No such batch.
        PauseRefused: The batch has ended, or its workflow is not running.
    """
    before = await asyncio.to_thread(mark_paused, catalog, batch_id, True)
    said = await update_batch(
        client, batch_id, lambda handle: handle.execute_update(BatchWorkflow.pause), refused=PauseRefused, gone=_GONE
    )
    if before is not None:
        return f"batch {batch_id} was already paused (since {before:%Y-%m-%d %H:%M} UTC); {said}"
    return f"batch {batch_id} paused: {said}. `studio resume {batch_id}` lets it go on"


async def resume_batch(client: Client, catalog: Catalog, batch_id: str) -> str:
    """Let a paused batch go on: held takes render, and shots not yet started start.

    Raises:
        NotFound: No such batch.
        PauseRefused: The batch has ended, or its workflow is not running.
    """
    before = await asyncio.to_thread(mark_paused, catalog, batch_id, False)
    said = await update_batch(
        client, batch_id, lambda handle: handle.execute_update(_RESUME), refused=PauseRefused, gone=_GONE
    )
    if before is None:
        return f"batch {batch_id} was not paused; {said}"
    return f"batch {batch_id} resumed: {said}"
