"""Benchmark: a 10,000-shot batch against a 200-shot one. Run by hand:

    .venv/bin/python bench/scale/big_batch.py                      # 200 ×3, then 10,000 ×1
    .venv/bin/python bench/scale/big_batch.py --small-runs 3 --big-runs 2 --big 10000

Each run is a fresh embedded stack (:class:`bench.run.Stack`: dev server, home, and one worker
in its own process) rendering zero-latency local shots (64x64, one variant, no upscale). Per
size it reports, as medians: wall time per shot from launch to the batch's outcome, the
worker's peak RSS (the kernel's high-water mark, ``VmHWM``, read before the worker is stopped,
so a short spike between samples is not missed), how many runs the batch workflow took
(continue-as-new) and the largest run's history length in events. The ratio of the big
batch's per-shot time to the small one's is the figure to watch (flat is 1.0; goal ≤ 1.2).

Timings live here, not in tests: the machines are shared and noisy.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT))

from bench.history_size import run_sizes
from bench.run import Stack
from pipelines.client.batches import wait_batch


@dataclass(frozen=True)
class BatchRun:
    """One measured batch.

    Attributes:
        shots: Shots in the batch.
        seconds: Launch to outcome, wall time.
        peak_mb: The worker's peak resident memory, in MB.
        runs: Runs of the batch workflow (1 + continue-as-new count).
        largest_history: Events in its longest run.
    """

    shots: int
    seconds: float
    peak_mb: float
    runs: int
    largest_history: int

    @property
    def ms_per_shot(self) -> float:
        return self.seconds / self.shots * 1000

    def line(self) -> str:
        return (
            f"{self.shots} shots: {self.seconds:.1f} s ({self.ms_per_shot:.1f} ms/shot), worker peak "
            f"{self.peak_mb:.0f} MB, {self.runs} batch run(s), largest {self.largest_history:,} events"
        )


def peak_mb(pid: int) -> float:
    """The process's peak resident set (``VmHWM``) in MB; 0 when the kernel does not say."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def one_batch(shots: int) -> BatchRun:
    """Run a ``shots``-shot zero-latency batch on a fresh stack and measure it."""
    with Stack(latency=0.0, concurrency=16) as stack:
        await stack.ready()
        started = time.perf_counter()
        batch_id = await stack.launch(shots)
        outcome = await wait_batch(stack.client, batch_id)
        seconds = time.perf_counter() - started
        peak = peak_mb(stack.worker.pid)  # before the stack stops the worker
        assert outcome == {"published": shots}, outcome
        sizes = await run_sizes(stack.client, batch_id, all_runs=True)
        return BatchRun(shots, seconds, peak, len(sizes), max(s.events for s in sizes))


def medians(label: str, runs: list[BatchRun]) -> str:
    return (
        f"{label}: median {statistics.median(r.ms_per_shot for r in runs):.1f} ms/shot, worker peak "
        f"{statistics.median(r.peak_mb for r in runs):.0f} MB, batch runs {statistics.median(r.runs for r in runs):.0f}, "
        f"largest run {statistics.median(r.largest_history for r in runs):,.0f} events ({len(runs)} run(s))"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", type=int, default=200, help="shots in the reference batch")
    parser.add_argument("--big", type=int, default=10_000, help="shots in the big batch")
    parser.add_argument("--small-runs", type=int, default=3)
    parser.add_argument("--big-runs", type=int, default=1)
    args = parser.parse_args()
    small: list[BatchRun] = []
    big: list[BatchRun] = []
    for _ in range(args.small_runs):
        small.append(await one_batch(args.small))
        print(small[-1].line(), flush=True)
    for _ in range(args.big_runs):
        big.append(await one_batch(args.big))
        print(big[-1].line(), flush=True)
    print("\nsummary:")
    print(medians(f"{args.small} shots", small))
    print(medians(f"{args.big} shots", big))
    ratio = statistics.median(r.ms_per_shot for r in big) / statistics.median(r.ms_per_shot for r in small)
    peak = max(r.peak_mb for r in big)
    print(
        f"per-shot time {args.big} ÷ {args.small}: {ratio:.2f} (goal <= 1.2); worker peak {peak:.0f} MB (goal <= 400 MB)"
    )


if __name__ == "__main__":
    # SIGTERM (e.g. from `timeout`) unwinds normally, so every Stack stops what it started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    asyncio.run(main())
