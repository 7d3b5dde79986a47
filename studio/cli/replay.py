"""`studio replay` and `studio rerun`: make another like that one, or render some shots again."""

from __future__ import annotations

import argparse
import asyncio

from studio.batches.replay import MODES, ReplayRequest, plan_replay
from studio.batches.rerun import plan_rerun
from studio.catalog.models import Batch
from studio.catalog.store import Catalog
from studio.cli.display import follow_batch
from studio.settings import Settings, load_settings
from studio.storage import open_asset_store


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the replay and rerun subcommands."""
    p = sub.add_parser("replay", help="make another like a take or a published image file")
    p.add_argument("source", help="a take id (BATCH/SHOT/N) or an image file the studio published")
    p.add_argument(
        "--mode",
        choices=MODES,
        default="exact",
        help="exact: same seed and recipe; remix: new seeds; vary-*: image-to-image from it",
    )
    p.add_argument("--count", type=int, default=1, help="new takes to make (exact: 1)")
    text = p.add_mutually_exclusive_group()
    text.add_argument("--prompt", help="a new prompt instead of the original")
    text.add_argument("--append", help="text added to the end of the original prompt")
    p.add_argument("--provider", help="render with this provider instead of the original's")
    p.add_argument("--detach", action="store_true", help="print the batch id and return at once")
    p.set_defaults(func=cmd_replay)

    p = sub.add_parser("rerun", help="a new batch keeping a batch's published shots, rendering others again")
    p.add_argument("batch")
    p.add_argument(
        "--only",
        nargs="+",
        required=True,
        metavar="WHAT",
        help="rejected, failed and/or shot ids: the shots to render again",
    )
    p.add_argument("--detach", action="store_true", help="print the batch id and return at once")
    p.set_defaults(func=cmd_rerun)


def cmd_replay(args: argparse.Namespace) -> int:
    """Plan a replay batch and run it."""
    settings = load_settings()
    catalog, assets = Catalog.open(settings.catalog_url), open_asset_store(settings)
    request = ReplayRequest(args.source, args.mode, args.count, args.prompt, args.append, args.provider)
    batch = plan_replay(settings, catalog, assets, request)
    takes = catalog.batch_takes(batch.id)
    if args.mode == "exact" and takes and takes[0].seed is None:
        print(
            f"note: {takes[0].parent_take_id} has no seed (its vendor does not take one): this renders the "
            "same recipe again, but the image will differ"
        )
    return asyncio.run(_start(settings, catalog, batch, args.detach))


def cmd_rerun(args: argparse.Namespace) -> int:
    """Plan a rerun batch and run it."""
    settings = load_settings()
    catalog, assets = Catalog.open(settings.catalog_url), open_asset_store(settings)
    batch, from_disk = plan_rerun(settings, catalog, assets, args.batch, args.only)
    where = f"the project file as it is now ({batch.project_source})" if from_disk else "the project as first launched"
    print(f"rerun of {args.batch}: rendering {', '.join(batch.rerun_only)} again from {where}")
    return asyncio.run(_start(settings, catalog, batch, args.detach))


async def _start(settings: Settings, catalog: Catalog, batch: Batch, detach: bool) -> int:
    from pipelines.client.batches import start_batch
    from pipelines.runtime.connection import connect

    client = await connect(settings)
    await start_batch(client, settings, batch.id)
    return await follow_batch(catalog, batch.id, detach=detach, heading=f"batch {batch.id}: {batch.project_name}")
