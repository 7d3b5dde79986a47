"""Benchmark: a batch spread over a pool of ComfyUI nodes. Run by hand:
`.venv/bin/python bench/comfyui_pool.py [--runs 3] [--shots 200] [--nodes 4] [--seconds 0.5] [--slots 1] [--restart]`.

Fake ComfyUI nodes (tests/providers/fake_comfyui.py: ComfyUI's HTTP and websocket, a real queue)
take ``--seconds`` per image. The ideal is every node busy all the time: ceil(shots / nodes) ×
seconds. Reported per run and as medians:

- batch ÷ ideal: from starting the batch to every shot published (goal <= 1.05);
- renders ÷ ideal: from the first render call written to the last one closed (the pool's own
  efficiency, without the batch's start and end);
- submissions: jobs the nodes accepted, against takes.

With ``--restart``, one node goes down (connection refused) and comes back restarted (its queue and
history forgotten) once a third of the shots are published: every shot must still be published,
and submissions may exceed takes only by the jobs that node lost.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipelines.client.batches import start_batch, wait_batch
from pipelines.runtime.connection import connect
from pipelines.runtime.devserver import free_port, start_dev_server, stop_process
from studio.batches.launch import prepare_batch
from studio.catalog.store import Catalog
from studio.settings import Settings
from studio.storage import open_asset_store
from tests.support.gpu_projects import gpu_project
from tests.support.workers import running_workers


class Nodes:
    """The fake nodes' process (bench/fake_nodes.py): the worker shares no CPU time with them."""

    def __init__(self, count: int, seconds: float) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(ROOT / "bench" / "fake_nodes.py"), str(count), str(seconds)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.urls: list[str] = json.loads(self._line())

    def _line(self) -> str:
        assert self.proc.stdout is not None
        return self.proc.stdout.readline()

    def ask(self, command: str) -> Any:
        """Send one command and read its answer (see bench/fake_nodes.py)."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        return json.loads(self._line())

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait()


async def restart_one(nodes: Nodes, catalog: Catalog, batch_id: str, after: int) -> int:
    """Take node 0 down once ``after`` shots are published, and back up restarted 2 s later."""
    while len(catalog.publications(batch_id)) < after:
        await asyncio.sleep(0.1)
    lost = int(await asyncio.to_thread(nodes.ask, "lose 0"))
    await asyncio.sleep(2)
    await asyncio.to_thread(nodes.ask, "up 0")
    return lost


async def one_run(
    work: Path, address: str, shots: int, count: int, seconds: float, restart: bool, slots: int
) -> dict[str, float]:
    nodes = Nodes(count, seconds)
    try:
        settings = Settings(
            home=work / "home",
            temporal_address=address,
            task_queue=f"pool-{uuid.uuid4().hex[:6]}",
            COMFYUI_URLS=",".join(f"{url}#slots={slots}" for url in nodes.urls),
            _env_file=None,  # type: ignore[call-arg]  # _env_file: a pydantic-settings init option, not a field
        )
        catalog, assets = Catalog.open(settings.catalog_url), open_asset_store(settings)
        batch, _ = prepare_batch(settings, catalog, assets, gpu_project(work / "p", shots))
        client = await connect(settings)
        async with running_workers(client, settings):
            began = time.monotonic()
            await start_batch(client, settings, batch.id)
            restarter = asyncio.create_task(restart_one(nodes, catalog, batch.id, shots // 3)) if restart else None
            outcome = await wait_batch(client, batch.id)
            elapsed = time.monotonic() - began
            lost = await restarter if restarter else 0
        if outcome != {"published": shots}:
            raise SystemExit(f"batch ended {outcome}, not every shot published")
        calls = [a for a in catalog.attempts(batch_id=batch.id) if a.stage == "render"]
        span = (max(a.finished_at for a in calls if a.finished_at) - min(a.started_at for a in calls)).total_seconds()
        ideal = math.ceil(shots / count) * seconds
        return {
            "batch": elapsed / ideal,
            "renders": span / ideal,
            "submissions": nodes.ask("submissions"),
            "lost": lost,
        }
    finally:
        nodes.stop()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--shots", type=int, default=200)
    parser.add_argument("--nodes", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=0.5, help="seconds per image on each node")
    parser.add_argument("--restart", action="store_true", help="restart one node mid-batch")
    parser.add_argument("--slots", type=int, default=1, help="jobs each node is given at once (#slots=N)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="studio-pool-"))
    port = free_port()
    server = start_dev_server(port=port, ui_port=None, db_file=work / "t.db", log_file=work / "s.log")
    try:
        await asyncio.sleep(2)  # the dev server answers a moment after its port opens
        results = []
        for n in range(args.runs):
            r = await one_run(
                work / f"run{n}", f"127.0.0.1:{port}", args.shots, args.nodes, args.seconds, args.restart, args.slots
            )
            results.append(r)
            print(
                f"run {n + 1}: batch {r['batch']:.3f} × ideal, renders {r['renders']:.3f} × ideal, "
                f"{r['submissions']:.0f} submissions for {args.shots} takes ({r['lost']:.0f} jobs lost by a restart)"
            )
        print(
            f"median over {args.runs} runs ({args.shots} shots, {args.nodes} nodes × {args.slots} slot(s), "
            f"{args.seconds} s/image): "
            f"batch {statistics.median(r['batch'] for r in results):.3f} × ideal, "
            f"renders {statistics.median(r['renders'] for r in results):.3f} × ideal"
        )
    finally:
        stop_process(server.pid)


if __name__ == "__main__":
    asyncio.run(main())
