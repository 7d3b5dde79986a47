"""`studio pause BATCH` / `studio resume BATCH`: hold a running batch's renders, and let them go on."""

from __future__ import annotations

import argparse
import asyncio

from studio.catalog.store import Catalog
from studio.settings import load_settings


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the pause and resume subcommands."""
    p = sub.add_parser(
        "pause",
        help="hold a running batch: no new render starts (calls in flight finish, gates stay open)",
        description="No render of the batch starts until `studio resume`: renders already running finish, "
        "approval gates can still be answered, and the pause holds across worker and server restarts.",
    )
    p.add_argument("batch")
    p.set_defaults(func=cmd_pause)
    r = sub.add_parser("resume", help="let a paused batch render again", description="Undo `studio pause`.")
    r.add_argument("batch")
    r.set_defaults(func=cmd_resume)


def cmd_pause(args: argparse.Namespace) -> int:
    """Mark the batch paused in the catalog, then tell its workflow."""
    return _run(args.batch, pause=True)


def cmd_resume(args: argparse.Namespace) -> int:
    """Clear the batch's pause in the catalog, then let its workflow wake its shots."""
    return _run(args.batch, pause=False)


def _run(batch_id: str, *, pause: bool) -> int:
    from pipelines.client.pausing import pause_batch, resume_batch
    from pipelines.runtime.connection import connect

    settings = load_settings()
    catalog = Catalog.open(settings.catalog_url)
    catalog.batch(batch_id)  # a clear "no batch" before asking Temporal

    async def _change() -> str:
        client = await connect(settings)
        return await (pause_batch if pause else resume_batch)(client, catalog, batch_id)

    print(asyncio.run(_change()))
    return 0
