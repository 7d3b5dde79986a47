"""A client's pins on the owner's Shot and Approvals pages, in headless Chromium: drawn where placed."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from pipelines.runtime.devserver import free_port, stop_process
from studio.catalog.store import Catalog
from studio.cli.dashboard import start_dashboard
from studio.images.pin_marks import PIN_COLOUR
from studio.settings import Settings
from studio.storage import AssetStore
from tests.support.projects import write_project
from tests.ui.app_harness import populate_batch, wait_for
from tests.ui.browser import all_images_loaded, chromium, healthy, screenshot

pytestmark = pytest.mark.browser  # skipped where Chromium is missing (tests/ui/conftest.py)

PROJECT = """
[project]
name = "Pinned Kites"
seed = 5
[defaults]
size = "1024x576"
variants = 2
upscale = 1
[[shots]]
id = "kite"
prompt = "a red kite over a green hill at dusk"
"""
PINS = ((0.3, 0.35, 0.12, "warmer sky here"), (0.72, 0.6, 0.06, "lose the logo on the kite"))


def _pin_coloured_share(image: Image.Image, x: float, y: float) -> float:
    """Of the pixels in a small square at (x, y): the share in the pins' colour."""
    cx, cy, r = round(x * image.width), round(y * image.height), max(3, image.width // 60)
    box = [image.getpixel((px, py)) for px in range(cx - r, cx + r + 1) for py in range(cy - r, cy + r + 1)]
    near = [
        p
        for p in box
        if isinstance(p, tuple) and all(abs(a - b) <= 45 for a, b in zip(p[:3], PIN_COLOUR[:3], strict=True))
    ]
    return len(near) / len(box)


async def test_shot_page_draws_a_takes_pins_on_its_image(
    settings: Settings, catalog: Catalog, assets: AssetStore, tmp_path: Path
) -> None:
    settings = settings.model_copy(update={"dashboard_port": free_port()})
    base = settings.dashboard_url
    dashboard = start_dashboard(settings, tmp_path / "dashboard.log")
    try:
        batch_id = await populate_batch(settings, catalog, assets, write_project(tmp_path / "p", PROJECT))
        shot_key = f"{batch_id}/kite"
        for x, y, radius, text in PINS:
            catalog.add_pin(f"{shot_key}/2", x=x, y=y, radius=radius, text=text, who="Ann Lee", email="ann@example.com")
        await wait_for(lambda: healthy(base), "the dashboard to answer", timeout=30)
        async with chromium() as browser:
            page = await browser.new_page(viewport={"width": 1400, "height": 1100})
            await page.goto(f"{base}/shot?shot={shot_key}")
            await page.get_by_role("tab", name="Take 2 · 2 pins").click()
            await page.get_by_text("lose the logo on the kite").wait_for()
            await all_images_loaded(page, 3)
            await screenshot(page, tmp_path / "shot-pins.png")

            # The open tab's image is the take with both pins drawn where the client put them.
            panel = page.get_by_role("tabpanel").filter(has_text="warmer sky here")
            shot = await panel.locator('[data-testid="stImage"] img').screenshot()
            drawn = Image.open(io.BytesIO(shot)).convert("RGB")
            for x, y, _, _ in PINS:
                assert _pin_coloured_share(drawn, x, y) > 0.3, (x, y)
            assert _pin_coloured_share(drawn, 0.5, 0.05) < 0.05  # and nothing where no pin is
            assert await panel.get_by_text("Ann Lee · ann@example.com ·").count() == 2

            # At the gate, the Approvals page shows the same drawing and notes above the note box.
            catalog.update_shot(shot_key, stage="awaiting_approval", final_take_id=None)
            await page.goto(f"{base}/approvals")
            notes = page.get_by_text("lose the logo on the kite")
            await notes.wait_for()
            await all_images_loaded(page, 3)
            await screenshot(page, tmp_path / "approvals-pins.png")
            note_box = page.get_by_label("Note (for reject or changes)")
            above = await notes.bounding_box()
            below = await note_box.bounding_box()
            assert above is not None and below is not None and above["y"] < below["y"]
    finally:
        stop_process(dashboard.pid)
