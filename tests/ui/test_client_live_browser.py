"""The client's live review loop in headless Chromium: one click, a new round, no reload.

Same stack as tests/ui/test_browser.py: the session's Temporal dev server, an in-process worker
and the dashboard as a child process; the client's page is opened once and never reloaded.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from pipelines.client.ui_actions import answer_gate
from pipelines.runtime.devserver import free_port, stop_process
from studio.catalog.store import Catalog
from studio.cli.dashboard import start_dashboard
from studio.review.sharing import share_url
from studio.settings import Settings
from tests.support.projects import write_project
from tests.ui.app_harness import gates_open, shot_stage, wait_for
from tests.ui.browser import all_images_loaded, chromium, healthy, screenshot

pytestmark = pytest.mark.browser  # skipped where Chromium is missing (tests/ui/conftest.py)

PROJECT = """
[project]
name = "Ember Studio"
seed = 5
[defaults]
size = "320x240"
variants = 3
upscale = 1
[approval]
required = true
[[shots]]
id = "campfire"
prompt = "a skillet over a campfire at dusk"
[[shots]]
id = "host"
prompt = "a host laughing at the camera"
"""


def _asked(catalog: Catalog, shot_key: str) -> list[tuple[str, str, str]]:
    return [(a.decision, a.who, a.note) for a in catalog.approvals(shot_key=shot_key)]


async def test_client_loop_stays_live_in_a_browser(
    settings: Settings, worker: None, launch, catalog: Catalog, tmp_path: Path
) -> None:
    """Changes asked with one click come back as round 2 on the open page; a half-typed note survives.

    Long because it is one client's visit, from the link through two redraws the page makes itself.
    """
    settings = settings.model_copy(update={"dashboard_port": free_port()})
    dashboard = start_dashboard(settings, tmp_path / "dashboard.log")
    try:
        batch_id = await launch(write_project(tmp_path / "p", PROJECT))
        campfire, host = f"{batch_id}/campfire", f"{batch_id}/host"
        await wait_for(lambda: healthy(settings.dashboard_url), "the dashboard to answer", timeout=30)
        await wait_for(gates_open(catalog, batch_id, 2), "both gates to open")

        async with chromium() as browser:
            page = await browser.new_page(viewport={"width": 1400, "height": 1800})
            await page.goto(share_url(settings, batch_id))
            await page.get_by_role("button", name="Approve this one").nth(5).wait_for()
            await all_images_loaded(page, 6)
            assert await page.get_by_text("First takes").count() == 2

            # An empty note: one click, one warning, nothing asked.
            await page.locator(".st-key-changes-host button").click()
            await page.get_by_text("Write what should change, or pin a note on a take, first.").wait_for()
            assert _asked(catalog, host) == []

            # Type a note and click once: the text area has not been blurred before the click.
            # The first real action asks who is deciding, then goes out as them.
            await page.locator(".st-key-note-campfire textarea").fill("more sparks")
            await page.locator(".st-key-changes-campfire button").click()
            dialog = page.get_by_role("dialog")
            await dialog.locator(".st-key-guest-name input").fill("Ann Lee")
            await dialog.locator(".st-key-guest-email input").fill("ann@example.com")
            await dialog.get_by_role("button", name="Continue").click()
            await page.get_by_text("we will rework campfire").wait_for()
            await wait_for(lambda: _asked(catalog, campfire) == [("changes", "Ann Lee", "more sparks")], "the ask")

            # Round 2 shows up on the open page by itself, newest first, round 1 folded below it.
            await page.get_by_text("Round 2 — you asked: more sparks").wait_for()
            await page.locator(".st-key-approve-campfire-4 button").wait_for()
            assert await page.get_by_text("We are working on your changes").count() == 0
            assert await page.locator(".st-key-note-campfire-round2 textarea").input_value() == ""  # a fresh box
            await all_images_loaded(page, 6)
            await screenshot(page, tmp_path / "client-round-2.png")

            # The client starts a note for host and, before leaving the box, a decision made
            # elsewhere redraws the page (campfire approved): the half-typed note is still there.
            note = page.locator(".st-key-note-host textarea")
            await note.click()
            await note.press_sequentially("a wider shot")
            await asyncio.to_thread(answer_gate, settings, batch_id, "campfire", action="approve", take=4, who="owner")
            await page.locator(".st-key-approve-campfire-4 button").wait_for(state="detached")
            assert await note.input_value() == "a wider shot"
            await screenshot(page, tmp_path / "client-note-kept.png")

            # And that note goes out with the next single click.
            await page.locator(".st-key-changes-host button").click()
            await wait_for(lambda: _asked(catalog, host) == [("changes", "Ann Lee", "a wider shot")], "host's ask")
            await wait_for(lambda: shot_stage(catalog, campfire) == "published", "campfire to publish")
    finally:
        stop_process(dashboard.pid)
