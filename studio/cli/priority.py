"""`studio priority BATCH rush|normal|low`: move a running batch up or down the render queue."""

from __future__ import annotations

import argparse
import asyncio

from studio.catalog.store import Catalog
from studio.priority import PRIORITIES
from studio.settings import load_settings


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the priority subcommand."""
    p = sub.add_parser(
        "priority",
        help="change where a running batch's renders queue (its shots not yet started)",
        description="Shots of the batch not yet started, and every render they make, queue with the new "
        "priority on each provider: rush before normal before low. Shots already rendering keep theirs.",
    )
    p.add_argument("batch")
    p.add_argument("priority", choices=PRIORITIES)
    p.set_defaults(func=cmd_priority)


def cmd_priority(args: argparse.Namespace) -> int:
    """Tell the batch's workflow, then record the new priority in the catalog."""
    from pipelines.client.batches import change_priority
    from pipelines.runtime.connection import connect

    settings = load_settings()
    catalog = Catalog.open(settings.catalog_url)
    catalog.batch(args.batch)  # a clear "no batch" before asking Temporal

    async def _change() -> str:
        return await change_priority(await connect(settings), catalog, args.batch, args.priority)

    print(asyncio.run(_change()))
    return 0
