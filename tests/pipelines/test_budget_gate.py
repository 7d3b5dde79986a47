"""The budget gate: a batch that would pass its budget waits, then spends more or stops.

The local provider is priced here (settings can price any provider), so the gate is crossed
for real: calls are reserved in the catalog before they are made, and waiting shots cost nothing.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import Client

from pipelines.client.batches import answer_budget, wait_batch
from studio.catalog.store import Catalog
from studio.settings import Settings
from studio.spending.budget import BudgetError, raise_budget, stop_spending
from studio.views.status import batch_summary
from tests.pipelines.budget_setup import PRICE, PROJECT, parked, priced
from tests.pipelines.waiting import eventually
from tests.support.projects import write_project


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return priced(settings)


async def test_batch_waits_at_its_budget_then_spends_more(
    worker: None, launch, client: Client, catalog: Catalog, tmp_path: Path
) -> None:
    batch_id = await launch(write_project(tmp_path / "p", PROJECT))
    await eventually(lambda: parked(catalog, batch_id), what="the batch to stop at its budget")

    summary = batch_summary(catalog, batch_id)
    assert summary.state == "waiting"
    assert summary.cost.budget_usd == 0.05 and summary.cost.spent_usd == pytest.approx(0.04)
    # Nothing more was attempted while waiting: two calls, both paid.
    assert [(a.status, a.cost_usd) for a in catalog.attempts(batch_id=batch_id)] == [("succeeded", PRICE)] * 2

    with pytest.raises(BudgetError, match="not above"):
        raise_budget(catalog, batch_id, 0.03)
    spend = raise_budget(catalog, batch_id, 0.20)
    answered = await answer_budget(client, batch_id, spend.waiting, go=True, who="test")
    assert answered and all("renders again" in line for line in answered)

    assert await wait_batch(client, batch_id) == {"published": 2}
    takes = catalog.batch_takes(batch_id)
    assert [t.cost_usd for t in takes] == [PRICE] * 4
    summary = batch_summary(catalog, batch_id)
    assert summary.cost.spent_usd == pytest.approx(4 * PRICE)
    assert summary.cost.by_provider == {"local": pytest.approx(4 * PRICE)}
    assert summary.provider_calls.by_provider == {"local": {"succeeded": 4}}
    assert {row.cost_usd for row in summary.take_details} == {PRICE}


async def test_stopping_at_the_budget_spends_nothing_more(
    worker: None, launch, client: Client, catalog: Catalog, tmp_path: Path
) -> None:
    batch_id = await launch(write_project(tmp_path / "p", PROJECT))
    await eventually(lambda: parked(catalog, batch_id), what="the batch to stop at its budget")

    spend = stop_spending(catalog, batch_id)
    await answer_budget(client, batch_id, spend.waiting, go=False, who="test")
    outcomes = await wait_batch(client, batch_id)

    # The shots that had a take published it; the takes never paid for failed, and said why.
    assert sum(outcomes.values()) == 2
    calls = catalog.attempts(batch_id=batch_id)
    assert len(calls) == 2 and {a.status for a in calls} == {"succeeded"}
    failed = [t for t in catalog.batch_takes(batch_id) if t.status == "failed"]
    assert len(failed) == 2 and all("stopped at the budget" in (t.error or "") for t in failed)
    summary = batch_summary(catalog, batch_id)
    assert summary.cost.spending_stopped and summary.cost.spent_usd == pytest.approx(0.04)
