"""Benchmark: each dashboard page's first render in a fresh browser context, on a year-sized
catalog, beside the Streamlit floor measured in the same run. Run by hand (needs Debian's chromium):

    .venv/bin/python bench/scale/dashboard_first_render.py [--takes 100000] [--shots 1000] [--runs 3] [--chunks]

Setup, once: a temp home whose catalog :mod:`bench.scale.catalog_gen` fills with ``--takes``
takes, then a finished ``--shots``-shot batch written straight into it with real local renders
(``tests.ui.app_harness.populate_batch``), and real images behind the generated newest batch's
takes (the generator writes keys, not images). One dashboard process serves every page; each
page is opened once to warm the server (its script compiled, its thumbnails made) and that
cold figure is reported apart.

Per run, each page is opened in a new browser context (no cookies, cache or session) and timed
from ``goto`` until it is drawn:

- Batches: the newest 30 batches, until the "Showing the newest 30" line under the last row,
  opened at ``/batches`` and at ``/`` (which hops to it);
- Batch: the ``--shots``-shot batch, until "Shots 1–24 of …" and its 24 thumbnails are decoded;
- Shot: a shot of the generated newest batch, until its takes' thumbnails are decoded;
- Approvals: the generated gates, until every waiting take's thumbnail is decoded;
- floor: ``bench/one_image_app.py`` (a Streamlit page showing one image) in its own server.

With ``--chunks``, each page is opened once more and the JavaScript files it fetched before it was
drawn are listed (when, how many bytes): Streamlit's frontend fetches one chunk per element type
on its first use in a browser, which is most of a fresh page's cost. Figures are medians of ``--runs``; the goal is at most 1.5 s per page. Timings live here, not in
tests: the machines are shared and noisy.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.client_review import FLOOR_APP, until
from bench.scale.catalog_gen import Generated, generate
from pipelines.runtime.devserver import free_port, stop_process
from providers.base import RenderRequest
from providers.local.adapters import LocalRenderer
from studio.catalog.store import Catalog
from studio.cli.dashboard import start_dashboard
from studio.settings import Settings
from studio.storage import open_asset_store
from studio.storage.local import AssetStore
from tests.ui.app_harness import populate_batch
from tests.ui.browser import all_images_loaded, chromium, healthy

Probe = Callable[[Any], Awaitable[None]]  # waits until an opened page is drawn


def project_text(shots: int) -> str:
    head = '[project]\nname = "Big Catalogue"\nseed = 5\n[defaults]\nsize = "320x240"\nvariants = 1\nupscale = 1\n'
    return head + "".join(f'[[shots]]\nid = "p{i:05}"\nprompt = "product {i}, studio light"\n' for i in range(shots))


async def real_images(catalog: Catalog, assets: AssetStore, batch_id: str, distinct: int = 8) -> None:
    """Point the generated batch's takes at real images (a few, shared), so thumbnails load."""
    renderer, keys = LocalRenderer(), []
    for n in range(distinct):
        result = await renderer.render(RenderRequest(f"generated take {n}", 320, 240, "", n))
        keys.append(await asyncio.to_thread(assets.put, result.image, result.mime_type))
    for n, take in enumerate(catalog.batch_takes(batch_id)):
        catalog.update_take(take.id, asset_key=keys[n % distinct], final_key=keys[n % distinct])


class Setup:
    """The home, catalog and pages of one benchmark."""

    def __init__(self, work: Path) -> None:
        self.work = work
        self.settings = Settings(
            home=work / "home",
            temporal_address=f"127.0.0.1:{free_port()}",
            dashboard_port=free_port(),
            task_queue=f"dash-{uuid.uuid4().hex[:6]}",
            _env_file=None,  # type: ignore[call-arg]  # _env_file: a pydantic-settings init option, not a field
        )
        self.settings.home.mkdir(parents=True)

    async def fill(self, takes: int, shots: int) -> tuple[Generated, str]:
        """The generated year, then the big batch (newest of all, as it would be the day it ran)."""
        started = time.perf_counter()
        gen = generate(self.settings.catalog_url, takes=takes, out=self.work / "gen-published")
        catalog, assets = Catalog.open(self.settings.catalog_url), open_asset_store(self.settings)
        await real_images(catalog, assets, gen.newest)
        folder = self.work / "big"
        folder.mkdir()
        (folder / "project.toml").write_text(project_text(shots))
        big = await populate_batch(self.settings, catalog, assets, folder)
        print(f"catalog: {gen.takes:,} generated takes + a {shots}-shot batch in {time.perf_counter() - started:.0f} s")
        self.catalog = catalog
        return gen, big

    def pages(self, gen: Generated, big: str, shots: int) -> dict[str, tuple[str, Probe]]:
        """Each page's address and what says it is drawn."""
        base = self.settings.dashboard_url
        waiting = [s for s in self.catalog.shots(gen.newest) if s.stage == "awaiting_approval"]
        gate_takes = sum(s.variants for s in waiting)
        shot = self.catalog.shots(gen.newest)[0]

        async def batches(page: Any) -> None:
            await page.get_by_text("Showing the newest 30 batches").wait_for(timeout=60_000)

        async def batch(page: Any) -> None:
            # Not the total's exact wording: the grid's paging line is another's to word.
            await page.get_by_text("Shots 1–24 of").wait_for(timeout=60_000)
            await all_images_loaded(page, 24, timeout=60_000)

        async def shot_page(page: Any) -> None:
            await all_images_loaded(page, shot.variants, timeout=60_000)

        async def approvals(page: Any) -> None:
            await all_images_loaded(page, gate_takes, timeout=60_000)

        return {
            # "/" is a hidden page that hops to /batches (ui/streamlit_app.py): one more script run.
            "Home /": (f"{base}/", batches),
            "Batches": (f"{base}/batches", batches),
            "Batch": (f"{base}/batch?batch={big}", batch),
            "Shot": (f"{base}/shot?shot={shot.key}", shot_page),
            "Approvals": (f"{base}/approvals", approvals),
        }


Chunk = tuple[float, str, int]  # seconds after ``goto``, file name, bytes sent


async def opened(browser: Any, url: str, probe: Probe, chunks: list[Chunk] | None = None) -> float:
    """Seconds from ``goto`` in a new browser context until ``probe`` says the page is drawn.

    With ``chunks``, the JavaScript files the page fetched before it was drawn are added to it.
    """
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        page = await context.new_page()
        started = time.monotonic()
        if chunks is not None:

            def fetched(response: Any) -> None:
                if response.url.endswith(".js"):
                    size = int(response.headers.get("content-length", "0") or 0)
                    chunks.append((time.monotonic() - started, response.url.rsplit("/", 1)[-1], size))

            page.on("response", fetched)
        await page.goto(url)
        await probe(page)
        return time.monotonic() - started
    finally:
        await context.close()


def chunk_report(name: str, drawn: float, chunks: list[Chunk]) -> str:
    """The JavaScript a page fetched before it was drawn, in order, with when and how big."""
    before = [c for c in chunks if c[0] <= drawn]
    lines = [f"{name}: drawn at {drawn:.2f} s, {len(before)} JS files, {sum(c[2] for c in before) // 1024} KB sent"]
    lines += [f"    {at:5.2f} s  {size // 1024:5d} KB  {file}" for at, file, size in before]
    return "\n".join(lines)


def floor_server(work: Path) -> tuple[Any, str]:
    import subprocess

    port = free_port()
    log = open(work / "floor.log", "ab")  # noqa: SIM115  # the server's own output, left for reading after
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(FLOOR_APP), "--server.headless=true", f"--server.port={port}"],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    return server, f"http://127.0.0.1:{port}"


async def measure(args: argparse.Namespace) -> None:
    """Set up, warm each page once, then time every page and the floor ``--runs`` times.

    Long because it is the benchmark's script: set up, start two servers, measure, report.
    """
    setup = Setup(Path(tempfile.mkdtemp(prefix="studio-dash-scale-")))
    gen, big = await setup.fill(args.takes, args.shots)
    pages = setup.pages(gen, big, args.shots)
    dashboard = start_dashboard(setup.settings, setup.work / "dashboard.log")
    floor, floor_url = floor_server(setup.work)

    async def floor_probe(page: Any) -> None:
        await all_images_loaded(page, 1, timeout=60_000)

    pages["floor"] = (f"{floor_url}/", floor_probe)
    times: dict[str, list[float]] = {name: [] for name in pages}
    try:
        await until(lambda: healthy(setup.settings.dashboard_url), "the dashboard", timeout=60, every=0.2)
        await until(lambda: healthy(floor_url), "the floor app", timeout=60, every=0.2)
        async with chromium() as browser:
            cold = {name: await opened(browser, url, probe) for name, (url, probe) in pages.items()}
            print("cold (first open of each page): " + ", ".join(f"{k} {v:.2f} s" for k, v in cold.items()))
            for run in range(args.runs):
                for name, (url, probe) in pages.items():
                    times[name].append(await opened(browser, url, probe))
                print(f"run {run + 1}: " + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in times.items()), flush=True)
            if args.chunks:  # one more fresh open of each page, listing what it fetched
                for name, (url, probe) in pages.items():
                    fetched: list[Chunk] = []
                    print(chunk_report(name, await opened(browser, url, probe, fetched), fetched))
    finally:
        stop_process(dashboard.pid)
        stop_process(floor.pid)
    print(f"\nmedians of {args.runs} on {gen.takes:,} takes + a {args.shots}-shot batch (goal <= 1.5 s per page):")
    for name, values in times.items():
        print(f"  {name:<10} {statistics.median(values):.2f} s  (runs: {', '.join(f'{v:.2f}' for v in values)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--takes", type=int, default=100_000, help="generated catalog size, in takes")
    parser.add_argument("--shots", type=int, default=1000, help="shots in the big batch the Batch page opens")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--chunks", action="store_true", help="then list the JS files each page fetched")
    asyncio.run(measure(parser.parse_args()))


if __name__ == "__main__":
    # SIGTERM (e.g. from `timeout`) unwinds normally, so the servers started are stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    main()
