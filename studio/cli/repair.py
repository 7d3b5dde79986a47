"""`studio repair`: square the catalog with Temporal after a past outage lost shots.

A studio before 0.2 could end a batch while some of its shots had no outcome in the catalog
(their workflows failed during a database outage). Such shots sit ``pending`` or ``rendering``
for ever and `studio rerun --only failed` would not see them. This command finds them, records
them as failed with the reason, and sets the batch's state from what it really published.
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, timedelta

from studio.batches.close import ENDED_BATCH_STATES, FINAL_STAGES, mark_lost, rendered_shots
from studio.catalog.models import utcnow
from studio.catalog.store import Catalog
from studio.settings import Settings, load_settings
from studio.states import BatchState

LIVE_BATCH_STATES = (BatchState.QUEUED, BatchState.RUNNING)
# A batch queued this recently may be one `studio run` is starting right now: leave it be.
QUEUED_GRACE = timedelta(hours=1)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the repair subcommand."""
    p = sub.add_parser("repair", help="record shots a past outage left without an outcome as failed")
    p.add_argument("batches", nargs="*", metavar="BATCH", help="batch ids (default: the 200 newest batches)")
    p.set_defaults(func=cmd_repair)


def cmd_repair(args: argparse.Namespace) -> int:
    """Repair the named batches (or the newest ones) and say what was found."""
    settings = load_settings()
    catalog = Catalog.open(settings.catalog_url)
    ids = list(args.batches) or [b.id for b in catalog.batches(200)]
    found = asyncio.run(repair(settings, catalog, ids))
    for batch_id, lost in found.items():
        print(
            f"{batch_id}: {len(lost)} shot(s) had no outcome and are now recorded as failed "
            f"({', '.join(lost)}); render them again with: studio rerun {batch_id} --only failed"
        )
    if not found:
        print(f"nothing to repair in {len(ids)} batch(es): every shot of every ended batch has an outcome")
    return 0


async def repair(settings: Settings, catalog: Catalog, batch_ids: list[str]) -> dict[str, list[str]]:
    """Record the lost shots of ``batch_ids`` as failed; returns them by batch.

    An ended batch's shots without a final stage are lost. A batch the catalog still shows
    running is asked of Temporal: when its workflow is closed (failed, terminated, gone), its
    shots whose own workflows are not running are lost too, and the batch takes its final state.
    """
    from pipelines.client.batches import running_workflows

    found: dict[str, list[str]] = {}
    for batch_id in batch_ids:
        batch = catalog.batch(batch_id)
        shots = [s for s in rendered_shots(batch, catalog.shots(batch_id)) if s.stage not in FINAL_STAGES]
        if not shots or batch.state not in (*ENDED_BATCH_STATES, *LIVE_BATCH_STATES):
            continue
        created = batch.created_at if batch.created_at.tzinfo else batch.created_at.replace(tzinfo=UTC)
        if batch.state == BatchState.QUEUED and utcnow() - created < QUEUED_GRACE:
            continue
        if batch.state in LIVE_BATCH_STATES:
            running = await running_workflows(settings, [batch_id, *(s.key for s in shots)])
            if batch_id in running:
                continue  # the batch is alive: its shots are its business
            shots = [s for s in shots if s.key not in running]
        lost = mark_lost(catalog, batch, shots)
        if lost:
            found[batch_id] = lost
        if batch.state in LIVE_BATCH_STATES:
            state = BatchState.PUBLISHED if catalog.publications(batch_id) else BatchState.FAILED
            catalog.set_batch_state(batch_id, state)
    return found
