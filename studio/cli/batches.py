"""`studio run / status / approve / reject`."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys

from studio.batches.launch import prepare_batch
from studio.batches.preview import render_notices
from studio.catalog.store import Catalog
from studio.cli.display import console, follow_batch, print_batch, print_batches
from studio.priority import PRIORITIES
from studio.project.loader import Project, load_project
from studio.settings import Settings, load_settings
from studio.states import BatchState
from studio.storage import AssetStore, open_asset_store
from studio.views.eta import Capacity, batch_eta, capacity_of, eta_text
from studio.views.status import TERMINAL_STATES, batch_summary, batches_overview


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the batch subcommands."""
    p = sub.add_parser("run", help="launch a project as a durable batch")
    p.add_argument("project", help="a folder holding project.toml, or the .toml file")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--wait", action="store_true", help="show progress and return once published (default)")
    mode.add_argument("--detach", action="store_true", help="print the batch id and return at once")
    p.add_argument("--check", action="store_true", help="only validate the project file")
    p.add_argument(
        "--priority",
        choices=PRIORITIES,
        help="where its renders queue on each provider, instead of the project's [project] priority",
    )
    p.add_argument(
        "--no-cache",
        dest="use_cache",
        action="store_false",
        default=None,
        help="render every take, even one an identical earlier take could give at no cost",
    )
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("status", help="all batches, or one batch in detail")
    p.add_argument("batch", nargs="?", help="a batch id")
    p.add_argument("--json", action="store_true", help="machine-readable output (stable keys)")
    p.set_defaults(func=cmd_status)

    for action, help_text in (("approve", "approve a take at a shot's gate"), ("reject", "reject a shot at its gate")):
        p = sub.add_parser(action, help=help_text)
        p.add_argument("batch")
        p.add_argument("shot")
        p.add_argument("--take", type=int, required=action == "approve", help="take number within the shot")
        p.add_argument("--note", default="", help="a note kept with the decision")
        p.add_argument("--who", default=os.environ.get("USER", "creator"), help="who decides (default: $USER)")
        p.set_defaults(func=cmd_decide, action=action)


def _stores(settings: Settings) -> tuple[Catalog, AssetStore]:
    return Catalog.open(settings.catalog_url), open_asset_store(settings)


def cmd_run(args: argparse.Namespace) -> int:
    """Validate, launch, and (unless --detach) watch a batch until it is published."""
    project = load_project(args.project)  # validation first: nothing is started on bad input
    settings = load_settings()
    if args.check:
        print(f"{args.project}: ok — {len(project.shots)} shots, {project.total_takes} takes")
        say_render_chain(settings, project)
        return 0
    return asyncio.run(_run(settings, args))


def say_render_chain(settings: Settings, project: Project) -> None:
    """Say once, on stderr, when shots will not render on the providers the project asks for."""
    sys.stdout.flush()  # after what was printed before it, also when both go to one pipe
    for line in render_notices(project, settings):
        print(f"studio: {line}", file=sys.stderr, flush=True)


async def _run(settings: Settings, args: argparse.Namespace) -> int:
    from pipelines.client.batches import start_batch
    from pipelines.runtime.connection import connect

    client = await connect(settings)  # reachability second: nothing is written if Temporal is down
    catalog, assets = _stores(settings)
    batch, project = prepare_batch(
        settings, catalog, assets, args.project, use_cache=args.use_cache, priority=args.priority
    )
    await start_batch(client, settings, batch.id)
    say_render_chain(settings, project)
    heading = f"batch {batch.id}: {project.name} — {len(project.shots)} shots, {project.total_takes} takes"
    return await follow_batch(catalog, batch.id, detach=args.detach, heading=heading)


def capacity(settings: Settings) -> Capacity:
    """The providers' limits the ETA shares among batches, from settings."""
    return capacity_of(settings.provider_concurrency, settings.provider_max_in_flight)


def cmd_status(args: argparse.Namespace) -> int:
    """Print all batches, or one batch's per-stage counts."""
    settings = load_settings()
    catalog = Catalog.open(settings.catalog_url)
    if args.batch:
        summary = batch_summary(
            catalog,
            args.batch,
            circuit_failures=settings.circuit_failures,
            circuit_cooldown=settings.circuit_cooldown,
            prices=settings.prices,
        )
        eta = None if summary.state in TERMINAL_STATES else batch_eta(catalog, args.batch, capacity=capacity(settings))
        if args.json:
            # "eta" is a key added after the ones status has always printed (issue 16).
            print(json.dumps({**summary.to_json(), "eta": eta.to_json() if eta else None}, indent=2))
        else:
            print_batch(summary)
            if summary.state not in TERMINAL_STATES:
                console.print(eta_text(eta, paused=summary.state == BatchState.PAUSED), markup=False, highlight=False)
        return 0
    rows = batches_overview(catalog)
    if args.json:
        print(json.dumps([row.to_json() for row in rows], indent=2))
    else:
        print_batches(rows)
    return 0


def cmd_decide(args: argparse.Namespace) -> int:
    """Approve or reject at a gate through the shot workflow's Update."""
    from pipelines.client.batches import decide
    from pipelines.messages import Decision
    from pipelines.runtime.connection import connect

    settings = load_settings()
    Catalog.open(settings.catalog_url).batch(args.batch)  # a clear "no batch" before asking Temporal

    async def _go() -> str:
        client = await connect(settings)
        decision = Decision(args.action, args.take, who=args.who, note=args.note)
        return await decide(client, args.batch, args.shot, decision)

    print(asyncio.run(_go()))
    return 0
