"""The owner's Approvals page in headless Chromium: a gate closing above keeps the note typed below.

Same stack as tests/ui/test_client_live_browser.py: the session's Temporal dev server, an
in-process worker and the dashboard as a child process; the page is opened once and never reloaded.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
from playwright.async_api import expect

from pipelines.client.ui_actions import answer_gate
from pipelines.runtime.devserver import free_port, stop_process
from studio.catalog.store import Catalog
from studio.cli.dashboard import start_dashboard
from studio.settings import Settings
from studio.views.gates import pending_gates
from tests.support.projects import write_project
from tests.ui.app_harness import gates_open, wait_for
from tests.ui.browser import all_images_loaded, chromium, healthy, screenshot

pytestmark = pytest.mark.browser  # skipped where Chromium is missing (tests/ui/conftest.py)

PROJECT = """
[project]
name = "Owner Inbox"
seed = 11
[defaults]
size = "320x240"
variants = 2
upscale = 1
[approval]
required = true
[[shots]]
id = "harbour"
prompt = "a harbour at dawn, boats leaving"
[[shots]]
id = "lighthouse"
prompt = "a lighthouse keeper climbing the stairs"
"""


def _css(key: str) -> str:
    """The class Streamlit gives an element with ``key`` (every other character becomes ``-``)."""
    return "st-key-" + re.sub(r"[^a-zA-Z0-9_-]", "-", key.strip())


def _asked(catalog: Catalog, shot_key: str) -> list[tuple[str, str, str]]:
    return [(a.decision, a.who, a.note) for a in catalog.approvals(shot_key=shot_key)]


async def test_a_gate_closing_above_keeps_the_note_typed_below(
    settings: Settings, worker: None, launch, catalog: Catalog, tmp_path: Path
) -> None:
    """Gate A is decided elsewhere while the owner types in gate B's note: the text stays and goes out."""
    settings = settings.model_copy(update={"dashboard_port": free_port()})
    dashboard = start_dashboard(settings, tmp_path / "dashboard.log")
    try:
        batch_id = await launch(write_project(tmp_path / "p", PROJECT))
        await wait_for(lambda: healthy(settings.dashboard_url), "the dashboard to answer", timeout=30)
        await wait_for(gates_open(catalog, batch_id, 2), "both gates to open")
        above, below = pending_gates(catalog)  # oldest first, as the page lists them

        async with chromium() as browser:
            page = await browser.new_page(viewport={"width": 1400, "height": 1800})
            await page.goto(f"{settings.dashboard_url}/approvals")
            changes = page.locator(f".{_css(f'changes-{below.shot_key}')}").get_by_role(
                "button", name="Request changes"
            )
            await changes.wait_for()
            await all_images_loaded(page, 4)
            top = await page.locator(f".{_css(f'note-{above.shot_key}')} input").bounding_box()
            bottom = await page.locator(f".{_css(f'note-{below.shot_key}')} input").bounding_box()
            assert top is not None and bottom is not None and top["y"] < bottom["y"]  # oldest first

            # The owner starts B's note and, before leaving the box, A is approved elsewhere (the
            # client's link, the CLI): the page redraws without A, and the half-typed note is still there.
            note = page.locator(f".{_css(f'note-{below.shot_key}')} input")
            await note.click()
            await note.press_sequentially("warmer light")
            await asyncio.to_thread(
                answer_gate, settings, batch_id, above.shot_id, action="approve", take=1, who="client"
            )
            await page.locator(f".{_css(f'approve-{above.shot_key}')} button").wait_for(state="detached")
            assert await note.input_value() == "warmer light"
            await screenshot(page, tmp_path / "approvals-note-kept.png")

            # And one click on "Request changes" sends it.
            await changes.click()
            await page.get_by_text(f"Changes requested for {below.shot_key}").wait_for()
            assert _asked(catalog, below.shot_key) == [("changes", settings.owner_name, "warmer light")]

            # B comes back by itself with its second round: one box for it once the redraw is done,
            # with an empty note box (the note already went out).
            await page.get_by_text("asked for: warmer light").wait_for()
            await expect(page.locator(f".{_css(f'gate-{below.shot_key}')}")).to_have_count(1)
            await expect(note).to_have_value("")
    finally:
        stop_process(dashboard.pid)
