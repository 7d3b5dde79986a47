"""Pause and Resume from the Queue page in headless Chromium: the click reaches the batch's workflow
and the catalog, and the page shows the new state without a reload."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.runtime.devserver import free_port, stop_process
from studio.catalog.store import Catalog
from studio.cli.dashboard import start_dashboard
from studio.settings import Settings
from tests.pipelines.test_cli import GATED
from tests.support.projects import write_project
from tests.ui.app_harness import wait_for
from tests.ui.browser import chromium, healthy, screenshot

pytestmark = pytest.mark.browser  # skipped where Chromium is missing (tests/ui/conftest.py)


async def test_pause_and_resume_from_the_queue_page(
    settings: Settings, worker: None, launch, catalog: Catalog, tmp_path: Path
) -> None:
    settings = settings.model_copy(update={"dashboard_port": free_port()})
    batch_id: str = await launch(write_project(tmp_path / "p", GATED))
    await wait_for(lambda: [s.stage for s in catalog.shots(batch_id)] == ["awaiting_approval"], "the gate to open")
    dashboard = start_dashboard(settings, tmp_path / "dashboard.log")
    try:
        await wait_for(lambda: healthy(settings.dashboard_url), "the dashboard to answer", timeout=30)
        async with chromium() as browser:
            page = await browser.new_page(viewport={"width": 1200, "height": 900})
            await page.goto(f"{settings.dashboard_url}/queue")
            await page.get_by_role("button", name="Pause").click()
            await page.get_by_text(f"batch {batch_id} paused").wait_for(timeout=15_000)
            await page.get_by_role("button", name="Resume").wait_for()
            assert catalog.batch(batch_id).paused_at is not None
            await screenshot(page, tmp_path / "queue-paused.png")
            await page.get_by_role("button", name="Resume").click()
            await page.get_by_text(f"batch {batch_id} resumed").wait_for(timeout=15_000)
            await page.get_by_role("button", name="Pause").wait_for()
            assert catalog.batch(batch_id).paused_at is None
    finally:
        stop_process(dashboard.pid)
