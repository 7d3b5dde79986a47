"""Benchmarks of the render queue (issue 16): priority and fairness on one provider's task queue.
Run by hand: `.venv/bin/python bench/render_queue.py [--runs 3] [--only g,h] [--full]`.

(g) rush: a 16-take rush batch launched while a big normal batch saturates a provider limit →
    the rush batch's time ÷ the same rush batch's time on an idle studio (goal ≤ 1.5)
(h) fairness: two clients' equal batches, equal weights, started some seconds apart → the ratio of
    their renders started while both run (goal 0.9–1.1)

Defaults fit a run in a few minutes; ``--full`` takes the issue's sizes (g: 1000 shots, limit 16,
1 s per image; h: 400 shots each, 5 s apart). Each run uses a fresh dev server (with the matching
settings `studio up` uses) and home, and one in-process worker whose local renders go through the
``local`` provider task queue, as a remote vendor's do: the in-process path is not queued.
Figures are medians of --runs runs.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from temporalio.client import Client

from bench.run import temporal_ready
from pipelines.activities.provider_registry import build_providers
from pipelines.client.batches import start_batch, wait_batch
from pipelines.runtime.devserver import free_port, start_dev_server, stop_process
from studio.batches.launch import prepare_batch
from studio.catalog.store import Catalog
from studio.settings import Settings
from studio.storage import open_asset_store
from tests.support.workers import running_workers


class Queue:
    """A fresh dev server and home, and a worker serving the local provider through its queue."""

    def __init__(self, settings: Settings, client: Client) -> None:
        self.settings, self.client = settings, client
        self.catalog = Catalog.open(settings.catalog_url)
        self.assets = open_asset_store(settings)
        self.dir = settings.home.parent

    async def launch(self, name: str, shots: int, *, priority: str | None = None, client: str | None = None) -> str:
        """Launch ``shots`` one-take shots with prompts of their own (no render cache hit)."""
        folder = self.dir / name
        folder.mkdir(exist_ok=True)
        head = f'[project]\nname = "{name}"\nseed = 1\n' + (f'client = "{client}"\n' if client else "")
        head += '[defaults]\nsize = "64x64"\nupscale = 1\n'
        body = "".join(f'[[shots]]\nid = "s{i:04}"\nprompt = "{name} scene {i}"\n' for i in range(shots))
        (folder / "project.toml").write_text(head + body)
        batch, _ = prepare_batch(self.settings, self.catalog, self.assets, folder, priority=priority)
        await start_batch(self.client, self.settings, batch.id)
        return batch.id

    def render_starts(self, batch_id: str) -> list[float]:
        """When each of the batch's renders started (seconds since the epoch), in order."""
        return sorted(a.started_at.timestamp() for a in self.catalog.attempts(batch_id=batch_id) if a.stage == "render")


@asynccontextmanager
async def queue(*, latency: float, limit: int) -> AsyncIterator[Queue]:
    folder = Path(tempfile.mkdtemp(prefix="studio-queue-bench-"))
    port = free_port()
    settings = Settings(
        home=folder / "home",
        temporal_address=f"127.0.0.1:{port}",
        task_queue=f"bench-{uuid.uuid4().hex[:6]}",
        local_latency=latency,
        provider_concurrency=limit,
        _env_file=None,  # type: ignore[call-arg]  # _env_file: a pydantic-settings init option, not a field
    )
    server = start_dev_server(port=port, ui_port=None, db_file=folder / "t.db", log_file=folder / "s.log")
    try:
        client = await temporal_ready(settings, server.poll, log=folder / "s.log")
        providers = build_providers(settings)
        providers.in_process = set()
        async with running_workers(client, settings, providers):
            yield Queue(settings, client)
    finally:
        stop_process(server.pid)


async def rush_time(*, behind: int, latency: float, limit: int) -> float:
    """Seconds from launching a 16-take rush batch to its end, behind ``behind`` normal shots (or none)."""
    async with queue(latency=latency, limit=limit) as q:
        if behind:
            big = await q.launch("big", behind)
            while len(q.render_starts(big)) < 2 * limit:  # the provider is saturated, a backlog waits
                await asyncio.sleep(0.1)
        started = time.perf_counter()
        await wait_batch(q.client, await q.launch("rush", 16, priority="rush" if behind else None))
        return time.perf_counter() - started


async def fair_ratio(*, shots: int, gap: float, latency: float, limit: int) -> float:
    """The ratio of two clients' renders started while both run (first ÷ second)."""
    async with queue(latency=latency, limit=limit) as q:
        first = await q.launch("acme", shots, client="acme")
        await asyncio.sleep(gap)
        second = await q.launch("northwind", shots, client="northwind")
        await wait_batch(q.client, first)
        await wait_batch(q.client, second)
        a, b = q.render_starts(first), q.render_starts(second)
        # While both run with work queued: from the second's first render until the first to end
        # starts its last shots in flight (from then on it has less left than its share).
        tail = q.settings.shots_in_flight
        start, end = b[0], min(a[-tail], b[-tail])
        in_a, in_b = (sum(start <= t <= end for t in times) for times in (a, b))
        whole = min(a[-1], b[-1])
        all_a, all_b = (sum(start <= t <= whole for t in times) for times in (a, b))
        print(
            f"    {end - start:.1f} s both queued: {in_a} and {in_b} renders "
            f"(to the first one's end, {whole - start:.1f} s: {all_a} and {all_b})",
            flush=True,
        )
        return in_a / max(in_b, 1)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", default="g,h", help="comma-separated figures to run")
    parser.add_argument("--full", action="store_true", help="the issue's sizes (several minutes a run)")
    args = parser.parse_args()
    only = set(args.only.split(","))
    if "g" in only:
        behind, latency, limit = (1000, 1.0, 16) if args.full else (300, 0.5, 8)
        idle = [await rush_time(behind=0, latency=latency, limit=limit) for _ in range(args.runs)]
        loaded = [await rush_time(behind=behind, latency=latency, limit=limit) for _ in range(args.runs)]
        ratio = statistics.median(loaded) / statistics.median(idle)
        print(
            f"(g) 16-take rush behind {behind} normal shots, limit {limit}, {latency} s/image: "
            f"median {statistics.median(loaded):.2f} s vs {statistics.median(idle):.2f} s idle → {ratio:.2f} "
            f"(goal ≤ 1.5; runs {[round(t, 2) for t in loaded]} / {[round(t, 2) for t in idle]})",
            flush=True,
        )
    if "h" in only:
        shots, gap, latency, limit = (400, 5.0, 1.0, 16) if args.full else (120, 2.0, 0.25, 8)
        ratios = [await fair_ratio(shots=shots, gap=gap, latency=latency, limit=limit) for _ in range(args.runs)]
        print(
            f"(h) two clients × {shots} shots, {gap:g} s apart, equal weights, limit {limit}: "
            f"median ratio {statistics.median(ratios):.2f} (goal 0.9–1.1; runs {[round(r, 2) for r in ratios]})",
            flush=True,
        )


if __name__ == "__main__":
    asyncio.run(main())
