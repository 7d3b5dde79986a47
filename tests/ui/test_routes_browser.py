"""The dashboard's addresses in headless Chromium: each page opens at its own URL path."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.runtime.devserver import free_port, stop_process
from studio.catalog.store import Catalog
from studio.cli.dashboard import start_dashboard
from studio.settings import Settings
from tests.support.projects import write_project
from tests.ui.app_harness import populate_batch, wait_for
from tests.ui.browser import chromium, healthy, screenshot

pytestmark = pytest.mark.browser  # skipped where Chromium is missing (tests/ui/conftest.py)

PROJECT = '[project]\nname = "Route Kites"\n[defaults]\nsize = "64x64"\n[[shots]]\nid = "kite"\nprompt = "a kite"\n'
NOT_FOUND = "Page not found"  # Streamlit's dialog for an address no page has


async def test_batches_opens_at_its_own_address(settings: Settings, catalog: Catalog, assets, tmp_path: Path) -> None:
    settings = settings.model_copy(update={"dashboard_port": free_port()})
    base = settings.dashboard_url
    dashboard = start_dashboard(settings, tmp_path / "dashboard.log")
    try:
        await populate_batch(settings, catalog, assets, write_project(tmp_path / "p", PROJECT))
        await wait_for(lambda: healthy(base), "the dashboard to answer", timeout=30)
        async with chromium() as browser:
            page = await browser.new_page(viewport={"width": 1200, "height": 900})

            await page.goto(f"{base}/batches")
            await page.get_by_role("link", name="Route Kites").wait_for()
            await page.wait_for_timeout(1000)  # the dialog, when there is one, comes with the first render
            await screenshot(page, tmp_path / "batches-route.png")
            assert await page.get_by_text(NOT_FOUND).count() == 0
            assert page.url == f"{base}/batches"
            # The batch's cost reads whole ("$0.00", as `studio status` says), not cut to "$…".
            cost = page.locator('[data-testid="stMarkdownContainer"] strong', has_text="$0.00").last
            assert (await cost.inner_text()).strip() == "$0.00" and await cost.is_visible()
            assert await cost.evaluate("el => [...el.querySelectorAll('*')].every(e => e.scrollWidth <= e.clientWidth)")

            # The front page is Batches too, at that same address; no extra entry in the sidebar.
            await page.goto(f"{base}/")
            await page.get_by_role("link", name="Route Kites").wait_for()
            await page.wait_for_url(f"{base}/batches")
            assert await page.get_by_text(NOT_FOUND).count() == 0
            nav = page.locator('[data-testid="stSidebarNav"] a')
            await nav.first.wait_for()
            links = await nav.all_inner_texts()
            assert len(links) == 6 and "Batches" in links[0] and not [t for t in links if "Home" in t], links
    finally:
        stop_process(dashboard.pid)
