"""How close the ETA lands on the embedded stack, live. Run by hand:
`.venv/bin/python bench/eta_live.py [--runs 3] [--shots 400] [--latency 1.0]`.

A batch renders on the local provider with a simulated latency; each time its rendered takes
pass 25%, 50% and 75%, the ETA `studio status` would print is noted. Once the batch ends, each
ETA's error is taken against the batch's recorded finish, as a share of the time that was left
when it was made. This is the ETA's accuracy figure (goal: within 20%); the unit tests in
tests/studio/test_eta.py check what it counts and that it draws nearer, not how close it lands.
Prints the median error per point over the runs, and the worst.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.run import Stack
from pipelines.client.batches import wait_batch
from studio.views.eta import batch_eta

POINTS = (0.25, 0.5, 0.75)


async def one_run(shots: int, latency: float) -> dict[float, float]:
    """Signed relative ETA error at each point of one batch (+: the ETA was late, -: early)."""
    with Stack(latency=latency) as stack:
        await stack.ready()
        batch_id = await stack.launch(shots)
        noted: dict[float, tuple[datetime, datetime]] = {}
        waiting = asyncio.create_task(wait_batch(stack.client, batch_id))
        while not waiting.done() and len(noted) < len(POINTS):
            rendered = sum(1 for t in stack.catalog.batch_takes(batch_id) if t.asset_key)
            for point in POINTS:
                if point not in noted and rendered >= point * shots:
                    eta = batch_eta(stack.catalog, batch_id)
                    if eta is not None:
                        noted[point] = (datetime.now(UTC), eta.finish_at)
            await asyncio.sleep(0.1)
        await waiting
        finished = stack.catalog.batch(batch_id).finished_at
        assert finished is not None
        finished = finished if finished.tzinfo else finished.replace(tzinfo=UTC)
        return {
            point: (eta - finished).total_seconds() / max((finished - at).total_seconds(), 1e-6)
            for point, (at, eta) in noted.items()
        }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--shots", type=int, default=400)
    parser.add_argument("--latency", type=float, default=1.0)
    args = parser.parse_args()
    errors: dict[float, list[float]] = {p: [] for p in POINTS}
    for n in range(args.runs):
        run = await one_run(args.shots, args.latency)
        print(f"run {n + 1}: " + ", ".join(f"{int(p * 100)}%: {e:+.1%}" for p, e in sorted(run.items())), flush=True)
        for point, error in run.items():
            errors[point].append(error)
    for point, values in errors.items():
        size = [abs(v) for v in values]
        if size:
            print(
                f"ETA at {int(point * 100)}% rendered: median error {statistics.median(size):.1%} "
                f"of the time left, worst {max(size):.1%} (+: late, -: early, per run above)"
            )


if __name__ == "__main__":
    asyncio.run(main())
