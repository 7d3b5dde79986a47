"""`studio weight`: each client's share of the providers, and changing it while batches run."""

from __future__ import annotations

import argparse
import asyncio
import json

from studio.catalog.store import Catalog
from studio.cli import display
from studio.cli.tables import Column, fitted_table
from studio.priority import parse_weights
from studio.settings import Settings, load_settings
from studio.views.client_weights import ClientWeight, client_weights
from studio.views.queue import unfinished_batches

COLUMNS = (
    Column("client", "id"),
    Column("weight", justify="right"),
    Column("from"),
    Column("batches", justify="right"),
)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `studio weight`."""
    p = sub.add_parser(
        "weight",
        help="each client's share of the providers; `studio weight CLIENT 3` changes it at once",
        description="Within one priority, clients' renders share each provider in proportion to their "
        "weights. A weight set here holds on the Temporal server for waiting renders too, and wins over "
        "STUDIO_CLIENT_WEIGHTS (the weight a batch launches with). No CLIENT: list the weights.",
    )
    p.add_argument("client", nargs="?", help="the client (`[project] client`, else the project's slug)")
    p.add_argument("weight", nargs="?", type=float, help="its new weight, above 0 and at most 1000")
    p.add_argument("--reset", action="store_true", help="drop the weight set here (back to the launch weight)")
    p.add_argument("--json", action="store_true", help="machine-readable list")
    p.set_defaults(func=cmd_weight)


def cmd_weight(args: argparse.Namespace) -> int:
    """List the weights, or set (or reset) one client's."""
    from pipelines.client.weights import WeightRefused, set_client_weight
    from pipelines.client.weights import client_weights as server_weights
    from pipelines.runtime.connection import connect

    if args.client is not None and (args.weight is None) != args.reset:
        raise WeightRefused(args.client, "give it a WEIGHT, or --reset (not both)")
    settings = load_settings()

    async def _go() -> tuple[str | None, dict[str, float]]:
        client = await connect(settings)
        said = None
        if args.client is not None:
            said = await set_client_weight(client, settings, args.client, None if args.reset else args.weight)
        return said, await server_weights(client, settings)

    said, overrides = asyncio.run(_go())
    if said is not None:
        print(said)
        return 0
    rows = _rows(settings, overrides)
    if args.json:
        print(json.dumps([row.to_json() for row in rows], indent=2))
    else:
        _print(rows)
    return 0


def _rows(settings: Settings, overrides: dict[str, float]) -> list[ClientWeight]:
    unfinished = unfinished_batches(Catalog.open(settings.catalog_url))
    return client_weights(unfinished, parse_weights(settings.client_weights), overrides)


def _print(rows: list[ClientWeight]) -> None:
    console = display.console
    if not rows:
        console.print("no client has a batch running or a weight of its own")
        return
    cells = [[r.client, f"{r.weight:g}", r.source, str(r.batches)] for r in rows]
    console.print(fitted_table(COLUMNS, cells, width=console.width, title="client weights"))
