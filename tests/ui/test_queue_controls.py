"""The operator's queue controls on the dashboard, through AppTest against the real dev server and
worker: Pause / Resume and the priority on the Batch and Queue pages, and a client's weight on the
Queue page (read back from Temporal's task-queue configuration)."""

from __future__ import annotations

from pathlib import Path

from temporalio.client import Client

from pipelines.client.weights import client_weights
from studio.catalog.store import Catalog
from studio.settings import Settings
from tests.pipelines.test_cli import GATED
from tests.support.projects import write_project
from tests.ui.app_harness import new_app, run, texts, wait_for


async def _gated_batch(launch, catalog: Catalog, tmp_path: Path) -> str:
    batch_id: str = await launch(write_project(tmp_path / "p", GATED))
    await wait_for(lambda: [s.stage for s in catalog.shots(batch_id)] == ["awaiting_approval"], "the gate to open")
    return batch_id


async def test_batch_page_pauses_resumes_and_reprioritizes(
    app_env: Settings, worker: None, launch, catalog: Catalog, tmp_path: Path
) -> None:
    batch_id = await _gated_batch(launch, catalog, tmp_path)
    at = await run(new_app("app_pages/batch.py", batch=batch_id))
    at.button(key=f"batch-hold-{batch_id}").click()
    await run(at)
    assert catalog.batch(batch_id).paused_at is not None
    assert f"batch {batch_id} paused" in texts(at) and ":violet-badge[paused]" in texts(at)
    assert "Paused: no render starts" in texts(at)
    resume = at.button(key=f"batch-hold-{batch_id}")
    assert resume.label == "Resume"
    resume.click()
    await run(at)
    assert catalog.batch(batch_id).paused_at is None and f"batch {batch_id} resumed" in texts(at)

    at.segmented_control(key=f"batch-priority-{batch_id}").set_value("rush")
    await run(at)
    assert catalog.batch(batch_id).priority == "rush" and "normal -> rush" in texts(at)


async def test_queue_page_sets_and_resets_a_clients_weight(
    app_env: Settings, worker: None, launch, catalog: Catalog, client: Client, tmp_path: Path
) -> None:
    batch_id = await _gated_batch(launch, catalog, tmp_path)
    at = await run(new_app("app_pages/queue.py"))
    name = catalog.batch(batch_id).client
    assert f"**{name}** · 1 batch · from default" in texts(at)
    at.number_input(key=f"weight-{name}").set_value(4.0)
    at.button(key=f"weight-{name}-set").click()
    await run(at)
    assert await client_weights(client, app_env) == {name: 4.0}
    assert f"**{name}** · 1 batch · from set now" in texts(at)

    at.button(key=f"weight-{name}-reset").click()
    await run(at)
    assert await client_weights(client, app_env) == {}

    at.button(key=f"queue-hold-{batch_id}").click()  # the same controls on each queue entry
    await run(at)
    assert catalog.batch(batch_id).paused_at is not None
