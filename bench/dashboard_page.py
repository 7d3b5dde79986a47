"""Benchmark: first render of the 200-shot Batch page in headless Chromium. Run by hand:
`.venv/bin/python bench/dashboard_page.py [--runs 3]` (needs Debian's chromium).

Per run, a fresh home with the sample `batch-200` written straight into the catalog (real local
renders, no workflows), a fresh dashboard process and a fresh browser. Reports, as medians:

- first render: following the batch's link from the Batches page until its first 24 thumbnails
  have loaded (the app is loaded; the page's session and thumbnails are cold);
- fresh tab: the same page opened in a new tab, Streamlit's own front-end start included.

Timings live here, not in tests: the machines are shared and noisy (the browser test checks
that the page works, this measures how fast).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipelines.runtime.devserver import free_port, stop_process
from studio.catalog.store import Catalog
from studio.cli.dashboard import start_dashboard
from studio.settings import Settings
from studio.storage import open_asset_store
from tests.ui.app_harness import populate_batch, wait_for
from tests.ui.browser import all_images_loaded, chromium, healthy

SAMPLE = ROOT / "sample_projects" / "batch-200"


async def one_run() -> tuple[float, float]:
    work = Path(tempfile.mkdtemp(prefix="studio-dash-"))
    settings = Settings(
        home=work / "home",
        temporal_address=f"127.0.0.1:{free_port()}",
        dashboard_port=free_port(),
        task_queue=f"dash-{uuid.uuid4().hex[:6]}",
        _env_file=None,  # type: ignore[call-arg]  # _env_file: a pydantic-settings init option, not a field
    )
    catalog, assets = Catalog.open(settings.catalog_url), open_asset_store(settings)
    batch_id = await populate_batch(settings, catalog, assets, SAMPLE)
    base = settings.dashboard_url
    dashboard = start_dashboard(settings, work / "dashboard.log")
    try:
        await wait_for(lambda: healthy(base), "the dashboard to answer", timeout=60)
        async with chromium() as browser:
            page = await browser.new_page(viewport={"width": 1400, "height": 1000})
            await page.goto(f"{base}/")
            link = page.get_by_role("link", name="200 Postcards")
            await link.wait_for()
            started = time.monotonic()
            await link.click()
            await page.get_by_text("Shots 1–24 of 200").wait_for()
            await all_images_loaded(page, 24)
            first_render = time.monotonic() - started
            fresh = await browser.new_page(viewport={"width": 1400, "height": 2000})
            started = time.monotonic()
            await fresh.goto(f"{base}/batch?batch={batch_id}")
            await fresh.get_by_text("Shots 1–24 of 200").wait_for()
            await all_images_loaded(fresh, 24)
            return first_render, time.monotonic() - started
    finally:
        stop_process(dashboard.pid)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    firsts, freshes = [], []
    for n in range(args.runs):
        first, fresh = asyncio.run(one_run())
        firsts.append(first)
        freshes.append(fresh)
        print(f"run {n + 1}: first render {first:.2f} s after following the link; fresh tab {fresh:.2f} s")
    print(
        f"median over {args.runs} runs: first render {statistics.median(firsts):.2f} s (target <= 2.0 s), "
        f"fresh tab {statistics.median(freshes):.2f} s"
    )


if __name__ == "__main__":
    main()
