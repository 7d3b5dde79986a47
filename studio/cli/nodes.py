"""`studio nodes`: every render node of the self-hosted providers, and how it is doing."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence

from studio.catalog.store import Catalog
from studio.cli import display
from studio.cli.tables import Column, fitted_table
from studio.settings import load_settings
from studio.views.nodes import NodeRow, node_rows, node_variables

# Seconds each node may take to answer the probe: a node that does not answer in time is down.
PROBE_TIMEOUT = 5.0
NODE_COLUMNS = (
    Column("node", "id"),
    Column("provider"),
    Column("up"),
    Column("version"),
    Column("queue", justify="right"),
    Column("busy", justify="right"),
    Column("jobs", justify="right"),
    Column("s/image", justify="right"),
    Column("health"),
    Column("last error", "prose"),
)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `studio nodes`."""
    p = sub.add_parser("nodes", help="render nodes of your own GPUs: reachable, queue, jobs done, s/image, health")
    p.add_argument("--json", action="store_true", help="machine-readable output (stable keys)")
    p.add_argument("--no-probe", action="store_true", help="read the catalog only; do not ask the nodes")
    p.set_defaults(func=cmd_nodes)


def cmd_nodes(args: argparse.Namespace) -> int:
    """Print one row per render node (or a hint naming the variables when none is set)."""
    settings = load_settings()
    rows = node_rows(Catalog.open(settings.catalog_url), settings, probe=not args.no_probe, timeout=PROBE_TIMEOUT)
    if args.json:
        print(json.dumps([row.to_json() for row in rows], indent=2))
    elif not rows:
        names = " or ".join(node_variables()) or "a provider's node list"
        print(f"no render nodes: set {names} (e.g. http://gpu-box:8188,http://laptop:8188)")
    else:
        print_nodes(rows)
    return 0


def _up(row: NodeRow) -> str:
    return "?" if row.reachable is None else ("yes" if row.reachable else "no")


def _cells(row: NodeRow) -> list[str]:
    return [
        row.url,
        row.provider,
        _up(row),
        row.version or "—",
        "—" if row.queue is None else str(row.queue),
        f"{row.busy}/{row.slots}",
        str(row.jobs_done),
        "—" if row.seconds_per_image is None else f"{row.seconds_per_image:.1f}",
        row.health_text(),
        row.last_error or "",
    ]


def _node_in_words(cells: Sequence[str]) -> str:
    _, provider, up, version, queue, busy, jobs, speed, health, error = cells
    parts = [provider, {"yes": "up", "no": "not answering"}.get(up, "not asked")]
    parts += [f"version {version}"] if version != "—" else []
    parts += [f"queue {queue}"] if queue != "—" else []
    parts += [f"busy {busy}", f"{jobs} jobs"] + ([f"{speed} s/image"] if speed != "—" else [])
    return " · ".join([*parts, health, *([error] if error else [])])


def print_nodes(rows: Sequence[NodeRow]) -> None:
    """A table of render nodes, URLs whole (they are what a user copies)."""
    console = display.console
    cells = [_cells(row) for row in rows]
    console.print(fitted_table(NODE_COLUMNS, cells, width=console.width, compact=_node_in_words))
