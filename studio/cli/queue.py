"""`studio queue`: the render queue (batches in dispatch order, with ETAs) and the workers polling."""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from studio.catalog.models import utcnow
from studio.catalog.store import Catalog
from studio.cli import display
from studio.cli.tables import Column, fitted_table
from studio.errors import StudioError
from studio.settings import Settings, load_settings
from studio.views.eta import capacity_of, duration_text
from studio.views.queue import QueueEntry, render_queue

if TYPE_CHECKING:
    from pipelines.client.pollers import WorkerProcess

QUEUE_COLUMNS = (
    Column("#", justify="right"),
    Column("batch", "id"),
    Column("priority"),
    Column("client", "prose"),
    Column("place"),
    Column("rendered", justify="right"),
    Column("published", justify="right"),
    Column("eta", "prose"),
)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `studio queue`."""
    p = sub.add_parser("queue", help="batches in dispatch order (priority, client, progress, ETA) and the workers")
    p.add_argument("--json", action="store_true", help="machine-readable output (stable keys)")
    p.set_defaults(func=cmd_queue)


def _workers(settings: Settings) -> tuple[list[WorkerProcess] | None, str | None]:
    """The worker processes polling, or why they cannot be listed (Temporal down)."""
    from pipelines.client.pollers import task_queue_pollers, worker_processes
    from pipelines.runtime.connection import connect

    async def _go() -> list[WorkerProcess]:
        return worker_processes(await task_queue_pollers(await connect(settings), settings))

    try:
        return asyncio.run(_go()), None
    except StudioError as err:  # ConnectionFailed: the catalog's half still answers
        return None, str(err)


def _seen(at: datetime | None) -> str | None:
    return at.isoformat(timespec="seconds") if at is not None else None


def cmd_queue(args: argparse.Namespace) -> int:
    """Print the queue and the workers (the workers part needs Temporal; the rest does not)."""
    settings = load_settings()
    workers, problem = _workers(settings)
    capacity = capacity_of(settings.provider_concurrency, settings.provider_max_in_flight, len(workers or []) or 1)
    entries = render_queue(Catalog.open(settings.catalog_url), capacity)
    now = utcnow()
    if args.json:
        data = {
            "batches": [e.to_json() for e in entries],
            "workers": None
            if workers is None
            else [{"identity": w.identity, "last_seen": _seen(w.last_seen), "queues": list(w.queues)} for w in workers],
            "workers_error": problem,
        }
        print(json.dumps(data, indent=2))
        return 0
    print_queue(entries)
    console = display.console
    if workers is None:
        console.print(f"workers: unknown ({problem})", markup=False, highlight=False)
    elif not workers:
        console.print("workers: none polling — start one with `studio worker` (or `studio up`)")
    else:
        for w in workers:
            ago = f"{duration_text((now - w.last_seen).total_seconds())} ago" if w.last_seen else "never"
            console.print(f"worker {w.identity}: polls {', '.join(w.queues)}; last seen {ago}", markup=False)
    return 0


def _cells(n: int, e: QueueEntry) -> list[str]:
    return [
        str(n),
        e.batch_id,
        e.priority,
        e.client,
        e.place if e.state in (e.place, "running") else f"{e.place} ({e.state})",
        f"{e.rendered}/{e.takes}",
        f"{e.published}/{e.shots}",
        e.eta_label(),
    ]


def _entry_in_words(cells: Sequence[str]) -> str:
    n, _, priority, client, place, rendered, published, eta = cells
    return f"#{n} · {priority} · {client} · {place} · {rendered} takes · {published} shots published · {eta}"


def print_queue(entries: Sequence[QueueEntry]) -> None:
    """The batches that have not ended, first to dispatch first."""
    console = display.console
    if not entries:
        console.print("the queue is empty: every batch has ended")
        return
    cells = [_cells(n, e) for n, e in enumerate(entries, 1)]
    console.print(fitted_table(QUEUE_COLUMNS, cells, width=console.width, title="queue", compact=_entry_in_words))
