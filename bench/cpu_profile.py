"""CPU seconds spent by the worker and the dev server on one 200-shot batch (zero latency).

Less sensitive to a busy machine than wall time: use it to compare changes. Run:
`.venv/bin/python bench/cpu_profile.py [shots]`.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.run import Stack
from pipelines.client.batches import wait_batch


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def main(shots: int) -> None:
    with Stack() as stack:
        await stack.ready()
        w0, s0 = cpu_seconds(stack.worker.pid), cpu_seconds(stack.server.pid)
        batch_id = await stack.launch(shots)
        await wait_batch(stack.client, batch_id)
        w, s = cpu_seconds(stack.worker.pid) - w0, cpu_seconds(stack.server.pid) - s0
        print(
            f"{shots} shots: worker {w:.2f} s CPU ({w / shots * 1000:.1f} ms/shot), "
            f"server {s:.2f} s CPU ({s / shots * 1000:.1f} ms/shot)"
        )


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 200))
