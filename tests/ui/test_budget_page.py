"""The batch page's budget gate and the Launch page's estimate, with the local provider priced.

Settings price the local provider here (as tests/pipelines/test_budget_gate.py does), for the
worker and the dashboard alike, so a real batch stops at its budget and waits for an answer.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from studio.catalog.store import Catalog
from studio.review.sharing import share_url
from studio.settings import Settings
from studio.spending.budget import batch_spend
from tests.pipelines.budget_setup import PRICE, PROJECT, parked, priced
from tests.support.projects import write_project
from tests.ui.app_harness import new_app, run, texts, wait_for


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return priced(settings)


def metric(at, label: str) -> str:
    """A metric's value, with its delta when it has one (``$0.04 of $0.05 budget``)."""
    (shown,) = [f"{m.value} {m.delta}".strip() if m.delta else m.value for m in at.metric if m.label == label]
    return shown


async def test_launch_page_estimates_the_cost_and_warns_above_the_budget(app_env: Settings) -> None:
    at = await run(new_app("app_pages/launch.py"))
    at.segmented_control(key="launch-source").set_value("upload")
    await run(at)
    at.file_uploader(key="launch-upload").set_value(("project.toml", PROJECT.encode(), "application/toml"))
    await run(at)
    assert metric(at, "Cost") == "$0.08 budget $0.05"
    assert "About $0.08 (4 × local render at $0.02)." in texts(at)
    (warning,) = at.warning
    assert "above this project's budget of $0.05" in warning.value


async def test_batch_page_raises_the_budget_and_the_batch_completes(
    app_env: Settings, worker: None, launch, catalog: Catalog, tmp_path: Path
) -> None:
    batch_id = await launch(write_project(tmp_path / "p", PROJECT))
    await wait_for(lambda: parked(catalog, batch_id), "the batch to stop at its budget")

    at = await run(new_app("app_pages/batch.py", batch=batch_id))
    assert metric(at, "Cost") == "$0.04 of $0.05 budget"
    (banner,) = [w.value for w in at.warning if "waiting at the budget" in w.value]
    assert "Spent $0.04 (committed $0.04) of the $0.05 budget" in banner
    assert ":orange-badge[waiting at budget]" in texts(at)
    amount = at.number_input(key="budget-new")
    assert (amount.min, amount.value) == (0.05, 0.10)  # just above what is committed; the budget doubled
    amount.set_value(0.20)
    await run(at)
    at.button(key="budget-raise").click()
    await run(at)
    assert any(s.value.startswith("Budget raised to $0.20: ") for s in at.success), texts(at)

    await wait_for(lambda: catalog.batch(batch_id).state == "published", "the batch to finish")
    spend = batch_spend(catalog, batch_id)
    assert spend.budget_usd == 0.20 and spend.spent_usd == pytest.approx(4 * PRICE) and not spend.waiting
    assert {s.stage for s in catalog.shots(batch_id)} == {"published"}
    at = await run(new_app("app_pages/batch.py", batch=batch_id))
    assert metric(at, "Cost") == "$0.08 of $0.20 budget"
    assert not [b for b in at.button if b.key == "budget-raise"]  # nothing waits: no gate


async def test_batch_page_stops_spending_after_a_confirmation(
    app_env: Settings, worker: None, launch, catalog: Catalog, tmp_path: Path
) -> None:
    batch_id = await launch(write_project(tmp_path / "p", PROJECT))
    await wait_for(lambda: parked(catalog, batch_id), "the batch to stop at its budget")

    # The client's link to the same batch offers nothing about money.
    client = await run(new_app(share=share_url(app_env, batch_id).split("share=", 1)[1]))
    assert not [b for b in client.button if (b.key or "").startswith("budget-")] and not client.number_input
    assert "waiting at the budget" not in texts(client) and not client.metric

    at = await run(new_app("app_pages/batch.py", batch=batch_id))
    assert catalog.batch(batch_id).spending_stopped is False  # the popover alone changes nothing
    at.button(key="budget-stop").click()
    await run(at)
    assert any(w.value.startswith("Spending stopped: ") for w in at.warning), texts(at)

    await wait_for(lambda: catalog.batch(batch_id).state in ("published", "failed"), "the batch to finish")
    assert batch_spend(catalog, batch_id).stopped
    calls = catalog.attempts(batch_id=batch_id)
    assert len(calls) == 2 and {a.status for a in calls} == {"succeeded"}  # nothing more was paid for
    failed = [t for t in catalog.batch_takes(batch_id) if t.status == "failed"]
    assert len(failed) == 2 and all("stopped at the budget" in (t.error or "") for t in failed)


async def test_raise_the_budget_in_a_browser(
    settings: Settings, worker: None, launch, catalog: Catalog, tmp_path: Path
) -> None:
    from pipelines.runtime.devserver import free_port, stop_process
    from studio.cli.dashboard import start_dashboard
    from tests.ui.browser import (
        CHROMIUM,
        MISSING,
        all_images_loaded,
        chromium,
        healthy,
        screenshot,
    )

    if not CHROMIUM.exists():
        pytest.skip(MISSING)
    settings = settings.model_copy(update={"dashboard_port": free_port()})
    dashboard = start_dashboard(settings, tmp_path / "dashboard.log")
    try:
        batch_id = await launch(write_project(tmp_path / "p", PROJECT))
        await wait_for(lambda: parked(catalog, batch_id), "the batch to stop at its budget")
        await wait_for(lambda: healthy(settings.dashboard_url), "the dashboard to answer", timeout=30)
        async with chromium() as browser:
            page = await browser.new_page(viewport={"width": 1400, "height": 1200})
            await page.goto(f"{settings.dashboard_url}/batch?batch={batch_id}")
            await page.get_by_text("waiting at the budget.").first.wait_for()
            await page.locator(".st-key-budget-raise button").wait_for()
            await screenshot(page, tmp_path / "batch-budget-gate.png")
            await page.locator(".st-key-budget-raise button").click()
            await page.get_by_text("Budget raised to $0.10").wait_for()
            await wait_for(lambda: catalog.batch(batch_id).state == "published", "the batch to finish")
            await page.get_by_text("publish 2/2").wait_for()  # the page refreshes by itself
            await page.get_by_text("of $0.10 budget").wait_for()
            await all_images_loaded(page, 4)
            await screenshot(page, tmp_path / "batch-budget-raised.png")
    finally:
        stop_process(dashboard.pid)
