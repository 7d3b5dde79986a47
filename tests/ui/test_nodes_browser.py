"""The Batches page's "Render nodes" panel in headless Chromium, with one ComfyUI node up and one down."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.runtime.devserver import free_port, stop_process
from studio.catalog.store import Catalog
from studio.cli.dashboard import start_dashboard
from studio.settings import Settings
from tests.providers.fake_comfyui import FakeComfyUI
from tests.support.projects import write_project
from tests.ui.app_harness import populate_batch, wait_for
from tests.ui.browser import chromium, healthy, screenshot

pytestmark = pytest.mark.browser  # skipped where Chromium is missing (tests/ui/conftest.py)

PROJECT = '[project]\nname = "Node Kites"\n[defaults]\nsize = "64x64"\n[[shots]]\nid = "kite"\nprompt = "a kite"\n'


async def test_the_render_nodes_panel_shows_which_node_answers(
    settings: Settings, catalog: Catalog, assets, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings.model_copy(update={"dashboard_port": free_port()})
    base = settings.dashboard_url
    with FakeComfyUI() as up, FakeComfyUI() as gone:
        gone.down()
        # The dashboard reads its settings from its environment, as `studio dashboard` does.
        monkeypatch.setenv("COMFYUI_URLS", f"{up.base_url},{gone.base_url}")
        dashboard = start_dashboard(settings, tmp_path / "dashboard.log")
        try:
            await populate_batch(settings, catalog, assets, write_project(tmp_path / "p", PROJECT))
            await wait_for(lambda: healthy(base), "the dashboard to answer", timeout=30)
            async with chromium() as browser:
                page = await browser.new_page(viewport={"width": 1200, "height": 900})
                await page.goto(f"{base}/batches")
                await page.get_by_role("heading", name="Render nodes").wait_for()
                caption = page.get_by_text("2 nodes · 0 renders on them now · 1 not answering · 0 set aside")
                await caption.wait_for(timeout=15_000)
                await screenshot(page, tmp_path / "render-nodes.png")
            assert up.count("system_stats") >= 1, "the panel never asked the node about itself"
        finally:
            stop_process(dashboard.pid)
