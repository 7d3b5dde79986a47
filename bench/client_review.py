"""Benchmark: the client review page as a client lives it. Run by hand:
`.venv/bin/python bench/client_review.py [--runs 3] [--clicks 50] [--rounds 5]` (needs Debian's chromium).

Per run: a fresh home, the real Temporal dev server, an in-process worker (local provider), the
dashboard as its own process and headless Chromium. Reported per run and as medians over runs:

- first render: a fresh browser context opening a client link to 2 shots × 8 takes until all
  16 thumbnails are decoded, beside the floor measured the same way in the same run: a
  one-image Streamlit page (``bench/one_image_app.py``) in its own server;
- click → answered: ``--clicks`` "Approve this one" clicks on as many gates (the name is given
  once before the clock starts), each timed from the click until its decision is in the catalog
  (the gate's update writes it before it returns); p50 and p95. Like a client, the next click
  waits for the page to show the answer (the gate gone, the thank-you said): a click into a page
  still redrawing waits for that redraw (about 150 ms more with 50 gates on the page);
- new round visible: "Request changes" on an 8-take shot, ``--rounds`` times; each timed from the
  moment the round's last take is reviewed (read from the catalog) until the open page, never
  reloaded, shows the new round's label.

Timings live here, not in tests: the machines are shared and noisy.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipelines.client.batches import start_batch
from pipelines.runtime.connection import connect
from pipelines.runtime.devserver import free_port, start_dev_server, stop_process
from studio.batches.launch import prepare_batch
from studio.catalog.store import Catalog
from studio.cli.dashboard import start_dashboard
from studio.review.links import issue_link
from studio.settings import Settings
from studio.storage import open_asset_store
from tests.support.projects import write_project
from tests.support.workers import running_workers
from tests.ui.browser import all_images_loaded, chromium, healthy

FLOOR_APP = ROOT / "bench" / "one_image_app.py"


def project(name: str, shots: int, variants: int) -> str:
    head = f'[project]\nname = "{name}"\nseed = 3\n[defaults]\nsize = "320x240"\nvariants = {variants}\nupscale = 1\n'
    body = "".join(f'[[shots]]\nid = "s{n:02d}"\nprompt = "a lantern on a pier, view {n}"\n' for n in range(shots))
    return head + "[approval]\nrequired = true\n" + body


async def until(predicate: Callable[[], bool], what: str, timeout: float = 300.0, every: float = 0.01) -> float:
    """Poll ``predicate`` (in a thread: catalog reads block) until true; returns when it became true."""
    deadline = time.monotonic() + timeout
    while not await asyncio.to_thread(predicate):
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        await asyncio.sleep(every)
    return time.monotonic()


class Stack:
    """One run's studio: settings, catalog, a Temporal client and a launcher."""

    def __init__(self, work: Path, address: str) -> None:
        self.work = work
        self.settings = Settings(
            home=work / "home",
            temporal_address=address,
            dashboard_port=free_port(),
            task_queue=f"review-{uuid.uuid4().hex[:6]}",
            _env_file=None,  # type: ignore[call-arg]  # _env_file: a pydantic-settings init option, not a field
        )
        self.catalog = Catalog.open(self.settings.catalog_url)
        self.assets = open_asset_store(self.settings)
        self.client: Any = None

    async def launch(self, name: str, shots: int, variants: int) -> str:
        folder = self.work / name.replace(" ", "-")
        batch, _ = prepare_batch(
            self.settings, self.catalog, self.assets, write_project(folder, project(name, shots, variants))
        )
        await start_batch(self.client, self.settings, batch.id)
        await until(lambda: sum(s.stage == "awaiting_approval" for s in self.catalog.shots(batch.id)) == shots, "gates")
        return batch.id

    def link(self, batch_id: str) -> str:
        return issue_link(self.settings, self.catalog, batch_id).url


async def first_render(browser: Any, url: str, images: int) -> float:
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        page = await context.new_page()
        started = time.monotonic()
        await page.goto(url)
        await all_images_loaded(page, images, timeout=60_000)
        return time.monotonic() - started
    finally:
        await context.close()


async def floor(browser: Any, work: Path) -> float:
    """The same measure on a one-image Streamlit page: what any Streamlit page costs here."""
    port = free_port()
    log = open(work / "floor.log", "ab")  # noqa: SIM115  # closed below, after the server is stopped
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(FLOOR_APP), "--server.headless=true", f"--server.port={port}"],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        await until(lambda: healthy(f"http://127.0.0.1:{port}"), "the floor app", timeout=60, every=0.2)
        await first_render(browser, f"http://127.0.0.1:{port}/", 1)  # its first load compiles the page
        return await first_render(browser, f"http://127.0.0.1:{port}/", 1)
    finally:
        stop_process(server.pid)
        log.close()


async def give_name(page: Any) -> None:
    dialog = page.get_by_role("dialog")
    await dialog.locator(".st-key-guest-name input").fill("Bench Client")
    await dialog.locator(".st-key-guest-email input").fill("bench@example.com")
    await dialog.get_by_role("button", name="Continue").click()
    await dialog.wait_for(state="detached")


async def clicks(stack: Stack, browser: Any, count: int) -> list[float]:
    """Seconds from each approve click until its decision is written, over ``count`` gates."""
    batch_id = await stack.launch("Click Bench", count + 1, 1)
    page = await browser.new_page(viewport={"width": 1400, "height": 1000})
    await page.goto(stack.link(batch_id))
    await page.locator(".st-key-approve-s00-1 button").click()  # the first action asks for the name
    await give_name(page)
    await until(lambda: bool(stack.catalog.approvals(shot_key=f"{batch_id}/s00")), "the first decision")
    times = []
    for n in range(1, count + 1):
        shot = f"s{n:02d}"
        button = page.locator(f".st-key-approve-{shot}-1 button")
        await button.wait_for()
        started = time.monotonic()
        await button.click()
        done = await until(lambda shot=shot: bool(stack.catalog.approvals(shot_key=f"{batch_id}/{shot}")), shot)
        times.append(done - started)
        # A client reads the answer before the next click: the page has redrawn without this gate.
        await page.get_by_text(f"take 1 of {shot} is approved").wait_for()
        await page.locator(f".st-key-client-{shot} button").first.wait_for(state="detached")
    await page.close()
    return times


async def rounds(stack: Stack, browser: Any, count: int) -> list[float]:
    """Seconds from each new round's last review until the open page shows that round."""
    batch_id = await stack.launch("Round Bench", 1, 8)
    shot_key = f"{batch_id}/s00"
    page = await browser.new_page(viewport={"width": 1400, "height": 1000})
    await page.goto(stack.link(batch_id))
    lags = []
    for n in range(2, count + 2):
        box = page.locator(f".st-key-note-s00{'' if n == 2 else f'-round{n - 1}'} textarea")
        await box.fill(f"more light, pass {n}")
        await page.locator(".st-key-changes-s00 button").click()
        if n == 2:
            await give_name(page)

        async def shown(n: int = n) -> float:
            await page.get_by_text(f"Round {n} — you asked").wait_for(timeout=300_000)
            return time.monotonic()

        def reviewed(n: int = n) -> bool:
            takes = [t for t in stack.catalog.takes(shot_key) if t.round == n]
            return len(takes) == 8 and all(t.review_score is not None for t in takes)

        seen = asyncio.create_task(shown())
        last_review = await until(reviewed, f"round {n} to be reviewed")
        lags.append(await seen - last_review)
    await page.close()
    return lags


async def one_run(work: Path, address: str, clicks_wanted: int, rounds_wanted: int) -> dict[str, Any]:
    stack = Stack(work, address)
    stack.client = await connect(stack.settings)
    dashboard = start_dashboard(stack.settings, work / "dashboard.log")
    try:
        async with running_workers(stack.client, stack.settings):
            await until(lambda: healthy(stack.settings.dashboard_url), "the dashboard", timeout=60, every=0.2)
            first_batch = await stack.launch("First Render Bench", 2, 8)
            async with chromium() as browser:
                base = await floor(browser, work)
                url = stack.link(first_batch)
                await first_render(browser, url, 16)  # the dashboard's first page load compiles its pages
                first = await first_render(browser, url, 16)
                answered = await clicks(stack, browser, clicks_wanted)
                lags = await rounds(stack, browser, rounds_wanted)
        return {"first": first, "floor": base, "clicks": answered, "rounds": lags}
    finally:
        stop_process(dashboard.pid)


def p95(xs: list[float]) -> float:
    return statistics.quantiles(xs, n=20)[-1] if len(xs) >= 2 else xs[0]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--clicks", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="studio-review-"))
    port = free_port()
    server = start_dev_server(port=port, ui_port=None, db_file=work / "t.db", log_file=work / "s.log")
    try:
        await asyncio.sleep(2)  # the dev server answers a moment after its port opens
        results = []
        for n in range(args.runs):
            r = await one_run(work / f"run{n}", f"127.0.0.1:{port}", args.clicks, args.rounds)
            results.append(r)
            print(
                f"run {n + 1}: first render {r['first']:.2f} s (one-image floor {r['floor']:.2f} s); "
                f"click → answered p50 {statistics.median(r['clicks']) * 1000:.0f} ms, "
                f"p95 {p95(r['clicks']) * 1000:.0f} ms over {len(r['clicks'])}; "
                f"new round visible after {', '.join(f'{x:.2f}' for x in r['rounds'])} s "
                f"(median {statistics.median(r['rounds']):.2f} s)",
                flush=True,
            )
        med = statistics.median
        print(
            f"median over {args.runs} runs: first render {med(r['first'] for r in results):.2f} s "
            f"(floor {med(r['floor'] for r in results):.2f} s, goal <= 1.5 s); "
            f"click → answered p95 {med(p95(r['clicks']) for r in results) * 1000:.0f} ms (goal <= 300 ms); "
            f"new round visible {med(med(r['rounds']) for r in results):.2f} s median, "
            f"worst {max(max(r['rounds']) for r in results):.2f} s (goal <= 2 s)"
        )
    finally:
        stop_process(server.pid)


if __name__ == "__main__":
    asyncio.run(main())
