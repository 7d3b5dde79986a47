"""How much Temporal history a batch costs: events and bytes per shot workflow and for the batch.

Run by hand:

    .venv/bin/python bench/history_size.py --shots 20          # a fresh embedded stack, 20 shots
    .venv/bin/python bench/history_size.py --shots 200 --variants 2
    .venv/bin/python bench/history_size.py --shots 20 --vendor    # renders and reviews as activities
    .venv/bin/python bench/history_size.py --batch BATCH_ID    # a finished batch, settings from env

Sizes are the server's own counts (``history_length`` and ``history_size_bytes`` of each run);
every payload of every history is also walked to report the largest one and how many were
offloaded to the asset store (:mod:`pipelines.runtime.payload_offload`).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from temporalio.client import Client

from bench.run import Stack
from pipelines.client.batches import start_batch, wait_batch
from pipelines.runtime.connection import connect
from pipelines.runtime.payload_offload import is_reference, iter_payloads
from studio.batches.launch import prepare_batch
from studio.catalog.store import Catalog
from studio.settings import load_settings
from tests.providers.fake_gemini import FakeGemini


@dataclass(frozen=True)
class RunSize:
    """One workflow run's history.

    Attributes:
        workflow_id: The workflow.
        events: Events in its history.
        size_bytes: Its history's size as the server counts it.
        largest_payload: The largest payload in it, in bytes.
        offloaded: Payloads in it that are references to the asset store.
    """

    workflow_id: str
    events: int
    size_bytes: int
    largest_payload: int
    offloaded: int


async def run_sizes(client: Client, workflow_id: str, *, all_runs: bool = False) -> list[RunSize]:
    """The size of a workflow's latest run, or of every run (a batch that continued as new)."""
    run_ids = [w.run_id async for w in client.list_workflows(f"WorkflowId = '{workflow_id}'")] if all_runs else [None]
    sizes = []
    for run_id in run_ids:
        handle = client.get_workflow_handle(workflow_id, run_id=run_id)
        info = (await handle.describe()).raw_description.workflow_execution_info
        payloads = [p for e in (await handle.fetch_history()).events for p in iter_payloads(e)]
        sizes.append(
            RunSize(
                workflow_id,
                info.history_length,
                info.history_size_bytes,
                max((p.ByteSize() for p in payloads), default=0),
                sum(map(is_reference, payloads)),
            )
        )
    return sizes


def summary(label: str, values: list[int], unit: str) -> str:
    return f"{label}: median {statistics.median(values):,.0f} {unit}, max {max(values):,} {unit}"


async def measure(client: Client, catalog: Catalog, batch_id: str) -> list[str]:
    """Report lines for ``batch_id`` (finished or not: running workflows are measured as they are)."""
    shot_ids = catalog.shot_ids(batch_id)
    shots: list[RunSize] = []
    for chunk in range(0, len(shot_ids), 50):  # a few requests at a time, not hundreds at once
        found = await asyncio.gather(*(run_sizes(client, f"{batch_id}/{s}") for s in shot_ids[chunk : chunk + 50]))
        shots += [size for sizes in found for size in sizes]
    batch = await run_sizes(client, batch_id, all_runs=True)
    every = shots + batch
    return [
        f"batch {batch_id}: {len(shot_ids)} shots, {len(catalog.batch_takes(batch_id))} takes",
        summary("  per shot workflow, events", [s.events for s in shots], "events"),
        summary("  per shot workflow, bytes ", [s.size_bytes for s in shots], "B"),
        (
            f"  batch workflow: {len(batch)} run(s), {sum(b.events for b in batch):,} events, "
            f"{sum(b.size_bytes for b in batch):,} B in all; largest run {max(b.events for b in batch):,} events, "
            f"{max(b.size_bytes for b in batch):,} B"
        ),
        f"  per shot, batch + shot histories together: {sum(s.size_bytes for s in every) / len(shot_ids):,.0f} B",
        (
            f"  largest payload in any history: {max(s.largest_payload for s in every):,} B; "
            f"offloaded references: {sum(s.offloaded for s in every)}"
        ),
    ]


async def launch(stack: Stack, client: Client, shots: int, variants: int, chain: str) -> str:
    """Write a ``shots``-shot project into the stack's folder and start it as a batch."""
    folder = stack.dir / f"p{shots}x{variants}"
    folder.mkdir(exist_ok=True)
    head = (
        f'[project]\nname = "History size"\nseed = 1\nchain = ["{chain}"]\n'
        f'[defaults]\nsize = "64x64"\nvariants = {variants}\nupscale = 2\n'
    )
    shot_lines = "".join(f'[[shots]]\nid = "s{i:04}"\nprompt = "a harbour at dawn, scene {i}"\n' for i in range(shots))
    (folder / "project.toml").write_text(head + shot_lines)
    batch, _ = prepare_batch(stack.settings, stack.catalog, stack.assets, folder)
    await start_batch(client, stack.settings, batch.id)
    return batch.id


async def fresh_batch(shots: int, variants: int, *, vendor: bool) -> list[str]:
    """Run a ``shots``-shot batch on a fresh embedded stack and measure it.

    Args:
        vendor: Render and review through a fake Gemini server (each call a regular activity on
            the provider's queue) instead of the local provider (local activities: markers).
    """
    with ExitStack() as cleanup:
        stack = Stack(latency=0.0, concurrency=16)
        if vendor:
            gemini = cleanup.enter_context(FakeGemini())
            stack.env.update(GEMINI_API_KEY="history-size-bench", GEMINI_BASE_URL=gemini.base_url)
        cleanup.enter_context(stack)
        await stack.ready()
        started = time.perf_counter()
        client = await connect(stack.settings)
        batch_id = await launch(stack, client, shots, variants, "gemini" if vendor else "local")
        outcome = await wait_batch(client, batch_id)
        elapsed = time.perf_counter() - started
        lines = await measure(client, stack.catalog, batch_id)
    how = "a fake Gemini (render, review)" if vendor else "the local provider"
    return [*lines, f"  ({variants} variant(s) a shot through {how}, upscaled; outcome {outcome}; {elapsed:.1f} s)"]


async def existing_batch(batch_id: str) -> list[str]:
    settings = load_settings()
    return await measure(await connect(settings), Catalog.open(settings.catalog_url), batch_id)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shots", type=int, action="append", help="run a fresh batch of this many shots (repeatable)")
    parser.add_argument("--variants", type=int, default=1, help="variants per shot in a fresh batch")
    parser.add_argument("--vendor", action="store_true", help="render through a fake vendor server, not locally")
    parser.add_argument("--batch", help="measure this existing batch instead (settings from the environment)")
    args = parser.parse_args()
    if args.batch:
        print("\n".join(await existing_batch(args.batch)))
        return
    for shots in args.shots or [20]:
        print("\n".join(await fresh_batch(shots, args.variants, vendor=args.vendor)), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
