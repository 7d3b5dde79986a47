"""The dashboard in headless Chromium, end to end: a real stack, a client link, one click.

Starts the pieces a user's `studio up` + `studio dashboard` would: the session's Temporal dev
server, an in-process worker for this test's task queue, and the Streamlit dashboard as a child
process (through :func:`studio.cli.dashboard.start_dashboard`, the function `studio up` calls).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.runtime.devserver import free_port, stop_process
from studio.catalog.store import Catalog
from studio.cli.dashboard import start_dashboard
from studio.images.metadata import read_recipe_file
from studio.review.sharing import LinkInvalid, make_share_token, share_url
from studio.settings import Settings
from tests.support.projects import SAMPLES, write_project
from tests.ui.app_harness import gates_open, populate_batch, shot_stage, wait_for
from tests.ui.browser import (
    all_images_loaded,
    chromium,
    healthy,
    screenshot,
)
from tests.ui.pixels import same_pixels

pytestmark = pytest.mark.browser  # skipped where Chromium is missing (tests/ui/conftest.py)


async def test_client_approves_one_take_in_a_browser(
    settings: Settings, worker: None, launch, catalog: Catalog, assets, tmp_path: Path
) -> None:
    """A client opens the link in Chromium and approves one take.

    Long because it is one client's visit in a real browser, from the link to the approval.
    """
    port = free_port()
    settings = settings.model_copy(update={"dashboard_port": port})
    base = settings.dashboard_url
    dashboard = start_dashboard(settings, tmp_path / "dashboard.log")
    try:
        batch_id = await launch(SAMPLES / "thumbnail-pack")
        big_batch = await populate_batch(settings, catalog, assets, SAMPLES / "batch-200")
        await wait_for(lambda: healthy(base), "the dashboard to answer", timeout=30)
        await wait_for(gates_open(catalog, batch_id, 2), "both gates to open")

        async with chromium() as browser:
            page = await browser.new_page(viewport={"width": 1400, "height": 2000})

            # The owner's batch page: 2 shots × 8 takes at their gates.
            await page.goto(f"{base}/batch?batch={batch_id}")
            await page.get_by_text("Trail & Ember: thumbnails ep. 42").first.wait_for()
            await all_images_loaded(page, 16)
            await screenshot(page, tmp_path / "batch-page.png")

            # The client's link: only that batch's gates; approve take 6 of host-reaction.
            await page.goto(share_url(settings, batch_id))
            await page.get_by_role("button", name="Approve this one").nth(15).wait_for()
            await all_images_loaded(page, 16)
            assert await page.get_by_text("Batches", exact=True).count() == 0  # no owner navigation
            await screenshot(page, tmp_path / "client-page.png")
            await page.locator(".st-key-approve-host-reaction-6 button").click()
            # The first action asks who is deciding (tests/ui/test_client_pins_browser.py goes further).
            dialog = page.get_by_role("dialog")
            await dialog.locator(".st-key-guest-name input").fill("Ann Lee")
            await dialog.locator(".st-key-guest-email input").fill("ann@example.com")
            await dialog.get_by_role("button", name="Continue").click()
            await page.get_by_text("take 6 of host-reaction is approved").wait_for()

            shot_key = f"{batch_id}/host-reaction"
            await wait_for(lambda: shot_stage(catalog, shot_key) == "published", "the shot to publish")
            (publication,) = [p for p in catalog.publications(batch_id) if p.shot_key == shot_key]
            assert publication.take_id == f"{shot_key}/6"
            chosen = catalog.take(f"{shot_key}/6")
            # The published file is the chosen image (same pixels) with its recipe written in.
            assert read_recipe_file(Path(publication.path))["take_id"] == chosen.id
            assert same_pixels(Path(publication.path).read_bytes(), assets.get(chosen.final_key))
            decided = catalog.approvals(shot_key=shot_key)[-1]
            assert (decided.who, decided.email) == ("Ann Lee", "ann@example.com")
            assert shot_stage(catalog, f"{batch_id}/skillet-campfire") == "awaiting_approval"

            # A forged link: the refusal sentence and nothing else.
            forged = make_share_token(batch_id, secret="not-the-studio-secret", expires_at=publication.published_at)
            await page.goto(f"{base}/?share={forged}")
            await page.get_by_text(LinkInvalid.MESSAGE).wait_for()
            assert await page.get_by_text("Trail & Ember").count() == 0

            # The 200-shot batch page, following its link from the Batches page, and in a fresh
            # tab: the first page of 24 thumbnails loads (how fast: bench/dashboard_page.py).
            await page.set_viewport_size({"width": 1400, "height": 1000})
            await page.goto(f"{base}/")
            link = page.get_by_role("link", name="200 Postcards")
            await link.wait_for()
            await link.click()
            await page.get_by_text("Shots 1–24 of 200").wait_for()
            await all_images_loaded(page, 24)
            fresh = await browser.new_page(viewport={"width": 1400, "height": 2000})
            await fresh.goto(f"{base}/batch?batch={big_batch}")
            await fresh.get_by_text("Shots 1–24 of 200").wait_for()
            await all_images_loaded(fresh, 24)
            await screenshot(fresh, tmp_path / "batch-200-page.png")
    finally:
        stop_process(dashboard.pid)


REPLAY_PROJECT = """
[project]
name = "Kites"
seed = 11
[defaults]
size = "320x240"
variants = 3
upscale = 1
[[shots]]
id = "kite"
prompt = "a red kite over a green hill"
"""


async def test_make_another_like_this_in_a_browser(
    settings: Settings, worker: None, catalog: Catalog, assets, tmp_path: Path
) -> None:
    settings = settings.model_copy(update={"dashboard_port": free_port()})
    base = settings.dashboard_url
    dashboard = start_dashboard(settings, tmp_path / "dashboard.log")
    try:
        batch_id = await populate_batch(settings, catalog, assets, write_project(tmp_path / "p", REPLAY_PROJECT))
        await wait_for(lambda: healthy(base), "the dashboard to answer", timeout=30)

        async with chromium() as browser:
            page = await browser.new_page(viewport={"width": 1400, "height": 1800})
            await page.goto(f"{base}/shot?shot={batch_id}/kite")
            await page.get_by_text("Recipe & lineage").first.wait_for()
            await page.locator(".st-key-replay-1 button").wait_for()
            await all_images_loaded(page, 4)  # three thumbnails and take 1's large image
            await screenshot(page, tmp_path / "shot-lineage.png")

            # The default mode is a remix: one new take of take 1, with a new seed.
            await page.locator(".st-key-replay-1 button").click()
            link = page.get_by_role("link", name="Open the new batch")
            await link.wait_for()
            (replay,) = [b for b in catalog.batches() if b.kind == "replay"]
            assert replay.id in (await link.inner_text())
            (take,) = catalog.batch_takes(replay.id)
            assert take.parent_take_id == f"{batch_id}/kite/1"
            await screenshot(page, tmp_path / "shot-made-another.png")

            await link.click()
            await page.get_by_text(f"remix of {batch_id}/kite/1").first.wait_for()
            await wait_for(lambda: catalog.batch(replay.id).state == "published", "the replay to publish")
            await all_images_loaded(page, 1)
            await screenshot(page, tmp_path / "replay-batch.png")

            # The new take's shot page links back to the take it was made from.
            await page.get_by_role("link", name="Takes and history").click()
            await page.get_by_role("link", name=f"{batch_id}/kite/1 · approved · local").wait_for()
            await page.locator(".st-key-replay-1 button").wait_for()
            await all_images_loaded(page, 2)  # the thumbnail and the large image
            await screenshot(page, tmp_path / "replay-shot-lineage.png")
    finally:
        stop_process(dashboard.pid)
