"""Pinned notes on the client page in headless Chromium: clicked on a laptop, tapped on a phone.

Same stack as tests/ui/test_client_live_browser.py: the session's Temporal dev server, an
in-process worker and the dashboard as a child process. The page is opened once and never
reloaded: the name asked on the first action, the pins and the new round all arrive on it.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageChops
from temporalio.client import Client

from pipelines.activities.provider_registry import ProviderSet
from pipelines.runtime.devserver import free_port, stop_process
from studio.catalog.store import Catalog
from studio.cli.dashboard import start_dashboard
from studio.review.links import issue_link
from studio.settings import Settings
from studio.storage import AssetStore
from tests.pipelines.webhooks import webhook
from tests.support.projects import write_project
from tests.support.workers import running_workers
from tests.ui.app_harness import gates_open, wait_for
from tests.ui.browser import all_images_loaded, chromium, healthy, screenshot
from ui.deliverables import ZIP_LABEL

pytestmark = pytest.mark.browser  # skipped where Chromium is missing (tests/ui/conftest.py)

PROJECT = """
[project]
name = "Ember Studio"
seed = 5
[defaults]
size = "320x240"
variants = 2
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
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}


def _pins(catalog: Catalog, shot_key: str) -> list[tuple[int, str, str, str]]:
    return [(p.number, p.text, p.who, p.email) for p in catalog.pins(shot_key=shot_key)]


def _asked(catalog: Catalog, shot_key: str) -> list[tuple[str, str, str, str]]:
    return [(a.decision, a.who, a.email, a.note) for a in catalog.approvals(shot_key=shot_key)]


def _near(spots: list[tuple[float, float]], expected: list[tuple[float, float]]) -> bool:
    """Pins where the clicks were, as fractions of the image, give or take a pixel or two of rounding."""
    return len(spots) == len(expected) and all(
        abs(x - ex) < 0.02 and abs(y - ey) < 0.02 for (x, y), (ex, ey) in zip(spots, expected, strict=True)
    )


async def _mark(page: Any, slug: str, x: float, y: float, *, tap: bool) -> None:
    """Click (or tap) the take's image at fractions ``x``, ``y`` and wait for the marker to be drawn."""
    image = page.frame_locator(f".st-key-pin-click-{slug} iframe").locator("#image")
    await image.wait_for()
    box = await image.bounding_box()
    assert box is not None and box["width"] > 0
    where = {"x": box["width"] * x, "y": box["height"] * y}
    await (image.tap(position=where) if tap else image.click(position=where))
    await page.get_by_text("the new marker shows where this note goes").wait_for()  # a substring


async def _pin(page: Any, slug: str, seq: int, text: str, *, tap: bool) -> None:
    await page.locator(f".st-key-pin-text-{slug}-{seq} input").fill(text)
    button = page.locator(f".st-key-pin-add-{slug} button")
    await (button.tap() if tap else button.click())


async def _say_who(page: Any, name: str, email: str, *, tap: bool) -> None:
    dialog = page.get_by_role("dialog")
    await dialog.locator(".st-key-guest-name input").fill(name)
    await dialog.locator(".st-key-guest-email input").fill(email)
    button = dialog.get_by_role("button", name="Continue")
    await (button.tap() if tap else button.click())
    await dialog.wait_for(state="detached")


async def _open_notes(page: Any, slug: str, *, tap: bool) -> None:
    toggle = page.locator(f".st-key-pins-open-{slug} label")
    await (toggle.tap() if tap else toggle.click())


async def _pin_two_notes(page: Any, context: Any, browser: Any, catalog: Catalog, url: str, campfire: str) -> None:
    """Ann pins two notes on take 2 of campfire, giving her name on the first; her browser keeps it."""
    await _open_notes(page, "campfire-2", tap=False)
    await _mark(page, "campfire-2", 0.3, 0.4, tap=False)
    await _pin(page, "campfire-2", 0, "more sparks here", tap=False)
    await _say_who(page, "Ann Lee", "ann@example.com", tap=False)
    await wait_for(lambda: len(_pins(catalog, campfire)) == 1, "the first pin")
    await page.get_by_text("Deciding as").wait_for()

    # Kept for this browser: the emailed link opened again in another tab knows Ann;
    # another browser does not.
    again = await context.new_page()
    await again.goto(url)
    await again.get_by_text("Deciding as Ann Lee").wait_for()
    await again.close()
    elsewhere = await browser.new_page()
    await elsewhere.goto(url)
    await elsewhere.get_by_role("button", name="Approve this one").nth(3).wait_for()
    assert await elsewhere.get_by_text("Deciding as").count() == 0
    await elsewhere.close()

    await _mark(page, "campfire-2", 0.7, 0.8, tap=False)
    await _pin(page, "campfire-2", 1, "a darker sky", tap=False)
    await wait_for(lambda: len(_pins(catalog, campfire)) == 2, "the second pin")
    assert _pins(catalog, campfire) == [
        (1, "more sparks here", "Ann Lee", "ann@example.com"),
        (2, "a darker sky", "Ann Lee", "ann@example.com"),
    ]
    # Where the clicks landed, as fractions of the image (a pixel or two of rounding).
    spots = [(p.x, p.y) for p in catalog.pins(shot_key=campfire)]
    assert _near(spots, [(0.3, 0.4), (0.7, 0.8)])
    await page.get_by_text("a darker sky").wait_for()


def _image(assets: AssetStore, key: str | None, mode: str) -> Image.Image:
    assert key is not None
    return Image.open(io.BytesIO(assets.get(key))).convert(mode)


def _assert_mask_edits(catalog: Catalog, assets: AssetStore, campfire: str) -> None:
    """Round 2 is made of edits of take 2: not one pixel outside the pins differs from it."""
    parent = catalog.take(f"{campfire}/2")
    second = [t for t in catalog.takes(campfire) if t.round == 2]
    assert len(second) == 2
    before = _image(assets, parent.asset_key, "RGB")
    for take in second:
        assert take.parent_take_id == parent.id and take.mask_key and take.params["edit"] == "mask"
        changed = ImageChops.difference(_image(assets, take.asset_key, "RGB"), before).convert("L")
        outside = ImageChops.invert(_image(assets, take.mask_key, "L").point(lambda v: 255 if v else 0))
        assert ImageChops.multiply(changed, outside).getbbox() is None, f"{take.id} changed a pixel outside the pins"
        assert changed.getbbox() is not None, f"{take.id} changed nothing"


async def _owner_sees_the_pins(browser: Any, settings: Settings, campfire: str) -> None:
    owner = await browser.new_page(viewport={"width": 1400, "height": 1600})
    await owner.goto(f"{settings.dashboard_url}/shot?shot={campfire}")
    await owner.get_by_role("tab", name="Take 2 · 2 pins").click()
    await owner.get_by_text("1 more sparks here").wait_for()  # the numbered note (the prompts say it too)
    await owner.get_by_text("2 a darker sky").wait_for()
    await owner.get_by_text("Ann Lee · ann@example.com").first.wait_for()
    await owner.close()


async def _approve_and_download(page: Any, catalog: Catalog, batch_id: str) -> set[str]:
    """Approve both shots from the client page; the zip of finals is offered only once both are."""
    assert await page.get_by_role("button", name=ZIP_LABEL).count() == 0
    await page.locator(".st-key-approve-campfire-3 button").click()
    await page.get_by_text("take 3 of campfire is approved").wait_for()
    assert await page.get_by_role("button", name=ZIP_LABEL).count() == 0  # host still waits
    await page.locator(".st-key-approve-host-1 button").click()
    await wait_for(lambda: {s.stage for s in catalog.shots(batch_id)} == {"published"}, "both shots to publish")
    button = page.get_by_role("button", name=ZIP_LABEL)
    await button.wait_for(timeout=30_000)
    async with page.expect_download() as info:
        await button.click()
    download = await info.value
    with zipfile.ZipFile(await download.path()) as archive:
        return set(archive.namelist())


async def test_a_guest_pins_two_notes_and_gets_edits_back_on_the_open_page(
    settings: Settings,
    client: Client,
    providers: ProviderSet,
    launch,
    catalog: Catalog,
    assets: AssetStore,
    tmp_path: Path,
) -> None:
    """A client's whole visit from one link: a name, two pins, edits back on the open page, approval, the zip.

    Long because it is one visit, checked at each step from the browser, the catalog and the
    creator's webhook; each step is a helper above.
    """
    with webhook() as creator:
        settings = settings.model_copy(update={"dashboard_port": free_port(), "creator_webhook": creator.url})
        dashboard = start_dashboard(settings, tmp_path / "dashboard.log")
        try:
            async with running_workers(client, settings, providers):
                batch_id = await launch(write_project(tmp_path / "p", PROJECT))
                campfire = f"{batch_id}/campfire"
                await wait_for(lambda: healthy(settings.dashboard_url), "the dashboard to answer", timeout=30)
                await wait_for(gates_open(catalog, batch_id, 2), "both gates to open")
                async with chromium() as browser:
                    context = await browser.new_context(viewport={"width": 1400, "height": 1800})
                    page = await context.new_page()
                    url = issue_link(settings, catalog, batch_id).url
                    await page.goto(url)
                    await page.get_by_role("button", name="Approve this one").nth(3).wait_for()
                    await all_images_loaded(page, 4)
                    await _pin_two_notes(page, context, browser, catalog, url, campfire)
                    await screenshot(page, tmp_path / "client-pins-placed.png")

                    # No words: the pins say what to change. One click, no second name prompt.
                    await page.locator(".st-key-changes-campfire button").click()
                    await page.get_by_text("we will edit take 2 of campfire where you pinned notes").wait_for()
                    assert _asked(catalog, campfire) == [("changes", "Ann Lee", "ann@example.com", "")]

                    # The edits come back on the same open page, newest first.
                    await page.get_by_text("Round 2 — edits of take 2 where you pinned notes").wait_for(timeout=60_000)
                    await page.locator(".st-key-approve-campfire-4 button").wait_for()
                    await all_images_loaded(page, 4)
                    await screenshot(page, tmp_path / "client-pins-round-2.png")
                    _assert_mask_edits(catalog, assets, campfire)
                    await _owner_sees_the_pins(browser, settings, campfire)
                    told = [(b["shot"], b["action"], b["who"], b["email"]) for b in creator.bodies]
                    assert ("campfire", "changes", "Ann Lee", "ann@example.com") in told

                    names = await _approve_and_download(page, catalog, batch_id)
                    assert names == {"campfire.png", "campfire.json", "host.png", "host.json"}
        finally:
            stop_process(dashboard.pid)


async def test_the_client_page_works_on_a_phone(
    settings: Settings, worker: None, launch, catalog: Catalog, tmp_path: Path
) -> None:
    """At 390×844 with touch: one take per row, full-width buttons, pins placed by tap."""
    settings = settings.model_copy(update={"dashboard_port": free_port()})
    dashboard = start_dashboard(settings, tmp_path / "dashboard.log")
    try:
        batch_id = await launch(write_project(tmp_path / "p", PROJECT))
        host = f"{batch_id}/host"
        await wait_for(lambda: healthy(settings.dashboard_url), "the dashboard to answer", timeout=30)
        await wait_for(gates_open(catalog, batch_id, 2), "both gates to open")

        async with chromium() as browser:
            context = await browser.new_context(**PHONE)
            page = await context.new_page()
            await page.goto(issue_link(settings, catalog, batch_id).url)
            await page.get_by_role("button", name="Approve this one").nth(3).wait_for()
            await all_images_loaded(page, 4)
            await screenshot(page, tmp_path / "client-phone.png")

            # One take per row, each as wide as the screen allows, and so are the buttons.
            first, second = [
                await page.locator(".st-key-client-host [data-testid='stImage'] img").nth(i).bounding_box()
                for i in (0, 1)
            ]
            assert first is not None and second is not None
            assert second["y"] >= first["y"] + first["height"] and first["width"] > 300
            for key in ("approve-host-1", "changes-host"):
                box = await page.locator(f".st-key-{key} button").bounding_box()
                assert box is not None and box["width"] > 300, key

            await _open_notes(page, "host-1", tap=True)
            await _mark(page, "host-1", 0.5, 0.5, tap=True)
            await _pin(page, "host-1", 0, "a bigger grin", tap=True)
            await page.get_by_role("dialog").wait_for()
            await screenshot(page, tmp_path / "client-phone-who.png")
            await _say_who(page, "Bo Chen", "bo@example.com", tap=True)
            await wait_for(
                lambda: _pins(catalog, host) == [(1, "a bigger grin", "Bo Chen", "bo@example.com")], "the pin"
            )
            assert _near([(p.x, p.y) for p in catalog.pins(shot_key=host)], [(0.5, 0.5)])
            # The page scrolls inside Streamlit's own container: bring the pinned take into view.
            await page.get_by_text("a bigger grin").wait_for()
            await page.locator(".st-key-pin-click-host-1[data-stale='false']").scroll_into_view_if_needed()
            await screenshot(page, tmp_path / "client-phone-pinned.png")
            await context.close()
    finally:
        stop_process(dashboard.pid)
