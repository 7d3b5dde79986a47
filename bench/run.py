"""Benchmarks of the durable pipeline on the embedded stack. Run by hand: `make bench` or
`.venv/bin/python bench/run.py [--runs 3] [--only a,b,c,d,e,f]`.

(a) overhead: 200 shots, zero-latency local provider at 64x64 → wall time per shot
(b) scaling:  1000 shots vs 200 shots → time ratio (linear would be 5.0)
(c) saturation: 200 shots at 1 s simulated latency, provider concurrency 16 → time / 13 s ideal
(d) recovery: worker SIGKILLed mid-batch, a new one started at once → seconds until a take
    completes again (first render, and first published shot)
(e) two workers: 1000 shots on two worker processes, against one (runs (a) and (b) with it)
(f) memory: peak RSS of the worker during a 200-shot batch of 2048x2048 images

Every figure is the median of --runs runs; each run uses a fresh dev server, home and worker
process, so nothing is cached between runs.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
from temporalio.client import Client
from temporalio.service import RPCError

from pipelines.client.batches import start_batch, wait_batch
from pipelines.runtime.connection import ConnectionFailed, connect
from pipelines.runtime.devserver import free_port, start_dev_server, stop_process
from studio.batches.launch import prepare_batch
from studio.catalog.store import Catalog
from studio.settings import Settings
from studio.storage import open_asset_store
from tests.pipelines.processes import kill_hard, spawn_worker, wait_polling


async def temporal_ready(
    settings: Settings, poll: Callable[[], int | None], *, log: Path, timeout: float = 60.0
) -> Client:
    """A client of the dev server at ``settings.address``, once it answers and has its namespace.

    Args:
        poll: The server process's ``poll``: its exit code once it has exited, else ``None``.
        log: The server's log, named when it exits.

    Raises:
        ConnectionFailed: It did not answer within ``timeout`` seconds (the last error).
        RuntimeError: The server process exited.
    """
    deadline = time.monotonic() + timeout
    while True:
        code = poll()
        if code is not None:
            raise RuntimeError(f"the Temporal dev server exited with code {code}; see {log}")
        try:
            client = await connect(settings)
            await client.workflow_service.describe_namespace(DescribeNamespaceRequest(namespace=client.namespace))
            return client
        except (ConnectionFailed, RPCError):
            if time.monotonic() > deadline:
                raise
        await asyncio.sleep(0.1)


def project_text(shots: int, size: str = "64x64") -> str:
    head = f'[project]\nname = "Bench"\nseed = 1\n[defaults]\nsize = "{size}"\nvariants = 1\nupscale = 1\n'
    return head + "".join(f'[[shots]]\nid = "s{i:04}"\nprompt = "bench scene {i}"\n' for i in range(shots))


class Stack:
    """A fresh dev server, home and worker process for one measured run."""

    def __init__(self, *, latency: float = 0.0, concurrency: int = 16, workers: int = 1) -> None:
        self.workers = workers
        self.dir = Path(tempfile.mkdtemp(prefix="studio-bench-"))
        self.port = free_port()
        self.env = {"STUDIO_LOCAL_LATENCY": str(latency), "STUDIO_PROVIDER_CONCURRENCY": str(concurrency)}
        self.settings = Settings(
            home=self.dir / "home",
            temporal_address=f"127.0.0.1:{self.port}",
            task_queue=f"bench-{uuid.uuid4().hex[:6]}",
            _env_file=None,  # type: ignore[call-arg]  # _env_file: a pydantic-settings init option, not a field
        )
        self.catalog = Catalog.open(self.settings.catalog_url)
        self.assets = open_asset_store(self.settings)

    def __enter__(self) -> Stack:
        self.server = start_dev_server(
            port=self.port, ui_port=None, db_file=self.dir / "t.db", log_file=self.dir / "s.log"
        )
        self.started: list[subprocess.Popen[bytes]] = []  # workers, once ready() has started them
        return self

    def __exit__(self, *exc: object) -> None:
        for proc in self.started:
            kill_hard(proc)
        stop_process(self.server.pid)

    async def ready(self) -> None:
        """Wait until the server answers, then start the workers and wait until each polls the
        main queue, as it would in a running stack.

        The port opens before the server answers, and a worker that cannot connect exits: started
        at once, on a busy machine, either (or this process's client) met "cannot reach Temporal".
        A worker process then takes a second or two to import and connect.
        """
        client = await temporal_ready(self.settings, self.server.poll, log=self.dir / "s.log")
        self.worker = spawn_worker(self.settings, self.dir / "w.log", **self.env)
        self.started.append(self.worker)
        self.others = [spawn_worker(self.settings, self.dir / f"w{n}.log", **self.env) for n in range(1, self.workers)]
        self.started += self.others
        await wait_polling(client, self.settings.task_queue, self.started)

    async def launch(self, shots: int, size: str = "64x64") -> str:
        folder = self.dir / f"p{shots}"
        folder.mkdir(exist_ok=True)
        (folder / "project.toml").write_text(project_text(shots, size))
        batch, _ = prepare_batch(self.settings, self.catalog, self.assets, folder)
        self.client = await connect(self.settings)
        await start_batch(self.client, self.settings, batch.id)
        return batch.id


async def timed_batch(shots: int, *, latency: float = 0.0, concurrency: int = 16, workers: int = 1) -> float:
    with Stack(latency=latency, concurrency=concurrency, workers=workers) as stack:
        await stack.ready()
        started = time.perf_counter()
        batch_id = await stack.launch(shots)
        outcome = await wait_batch(stack.client, batch_id)
        elapsed = time.perf_counter() - started
        assert outcome == {"published": shots}, outcome
        return elapsed


async def recovery() -> tuple[float, float]:
    with Stack(latency=0.5, concurrency=16) as stack:
        await stack.ready()
        batch_id = await stack.launch(200)
        cat = stack.catalog

        def counts() -> tuple[int, int]:
            takes = cat.batch_takes(batch_id)
            return sum(1 for t in takes if t.asset_key), len(cat.publications(batch_id))

        while counts()[0] < 40:
            await asyncio.sleep(0.05)
        kill_hard(stack.worker)
        killed = time.perf_counter()
        rendered0, published0 = counts()
        stack.worker = spawn_worker(stack.settings, stack.dir / "w2.log", **stack.env)
        stack.started.append(stack.worker)
        first_render = first_publish = None
        while first_render is None or first_publish is None:
            rendered, published = counts()
            now = time.perf_counter() - killed
            if first_render is None and rendered > rendered0:
                first_render = now
            if first_publish is None and published > published0:
                first_publish = now
            await asyncio.sleep(0.05)
        await wait_batch(stack.client, batch_id)
        return first_render, first_publish


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def peak_rss(shots: int, size: str) -> tuple[float, float]:
    """Peak worker RSS (MB) while a batch of ``size`` images runs, and the batch's time."""
    with Stack() as stack:
        await stack.ready()
        started = time.perf_counter()
        batch_id = await stack.launch(shots, size)
        done = asyncio.create_task(wait_batch(stack.client, batch_id))
        peak = 0.0
        while not done.done():
            peak = max(peak, rss_mb(stack.worker.pid))
            await asyncio.sleep(0.2)
        assert await done == {"published": shots}
        return peak, time.perf_counter() - started


def median(xs: list[float]) -> float:
    return statistics.median(xs)


async def main() -> None:
    """Run the chosen scenarios and print their medians.

    Long because it is the benchmark's script: one scenario after another, each a few lines.
    """
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", default="a,b,c,d")
    args = parser.parse_args()
    only = set(args.only.split(","))
    report: list[str] = []
    t200: list[float] = []
    t1000: list[float] = []
    two: list[float] = []
    if only & {"a", "b", "e"}:
        # Each 200-shot run is followed by its 1000-shot runs, so a group sees the same load on a
        # shared machine; ratios are the median of the groups' ratios.
        for _ in range(args.runs):
            t200.append(await timed_batch(200))
            if only & {"b", "e"}:
                t1000.append(await timed_batch(1000))
            if "e" in only:
                two.append(await timed_batch(1000, workers=2))
        report.append(
            f"(a) 200 shots, zero latency: median {median(t200):.2f} s → {median(t200) / 200 * 1000:.1f} ms/shot "
            f"(runs: {', '.join(f'{t:.2f}' for t in t200)}; target ≤ 50 ms/shot)"
        )
        print(report[-1], flush=True)
    if only & {"b", "e"}:
        ratios = [big / small for small, big in zip(t200, t1000, strict=True)]
        report.append(
            f"(b) 1000 shots: median {median(t1000):.2f} s; ratio to 200: median {median(ratios):.2f} "
            f"(pairs: {', '.join(f'{b:.2f}/{a:.2f}' for a, b in zip(t200, t1000, strict=True))}; "
            f"target ≤ 5.5)"
        )
        print(report[-1], flush=True)
    if "c" in only:
        tc = [await timed_batch(200, latency=1.0, concurrency=16) for _ in range(args.runs)]
        report.append(
            f"(c) 200 shots × 1 s at concurrency 16: median {median(tc):.2f} s vs 13 s ideal → "
            f"{median(tc) / 13:.3f} (runs: {', '.join(f'{t:.2f}' for t in tc)}; target ≤ 1.10)"
        )
        print(report[-1], flush=True)
    if "d" in only:
        rec = [await recovery() for _ in range(args.runs)]
        report.append(
            f"(d) recovery after SIGKILL: first render {median([r[0] for r in rec]):.2f} s, first published "
            f"shot {median([r[1] for r in rec]):.2f} s (runs: {', '.join(f'{r:.2f}/{p:.2f}' for r, p in rec)}; "
            f"target ≤ 5 s)"
        )
        print(report[-1], flush=True)
    if "e" in only:
        report.append(
            f"(e) 1000 shots on two worker processes: median {median(two):.2f} s against "
            f"{median(t1000):.2f} s on one (runs: {', '.join(f'{t:.2f}' for t in two)})"
        )
        print(report[-1], flush=True)
    if "f" in only:
        mem = [await peak_rss(200, "2048x2048") for _ in range(args.runs)]
        report.append(
            f"(f) 200 shots at 2048x2048: worker peak RSS median {median([m[0] for m in mem]):.0f} MB "
            f"(runs: {', '.join(f'{m[0]:.0f} MB in {m[1]:.0f} s' for m in mem)}; target ≤ 400 MB)"
        )
        print(report[-1], flush=True)
    print("\n".join(["", "summary:", *report]))


if __name__ == "__main__":
    # SIGTERM (e.g. from `timeout`) unwinds normally, so every Stack stops what it started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    asyncio.run(main())
