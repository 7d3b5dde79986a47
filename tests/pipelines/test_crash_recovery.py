"""Kill things mid-batch; the batch still completes with nothing lost and nothing paid twice."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from temporalio.client import Client

from pipelines.client.batches import start_batch, wait_batch
from pipelines.runtime.connection import connect
from pipelines.runtime.devserver import free_port, start_dev_server, stop_process
from studio.batches.launch import prepare_batch
from studio.catalog.store import Catalog
from studio.settings import Settings
from studio.storage import AssetStore, open_asset_store
from tests.pipelines.crash_checks import assert_complete_without_duplicates, project, rendered
from tests.pipelines.processes import kill_hard, spawn_worker
from tests.pipelines.waiting import eventually
from tests.support.projects import write_project


async def test_worker_killed_mid_batch(
    settings: Settings, catalog: Catalog, assets: AssetStore, client: Client, tmp_path: Path
) -> None:
    shots = 40
    env = dict(STUDIO_LOCAL_LATENCY="0.4", STUDIO_PROVIDER_CONCURRENCY="6")
    batch, _ = prepare_batch(settings, catalog, assets, write_project(tmp_path / "p", project(shots)))
    first = spawn_worker(settings, tmp_path / "w1.log", **env)
    second = None
    try:
        await start_batch(client, settings, batch.id)
        await eventually(lambda: rendered(catalog, batch.id) >= 10, timeout=90, what="10 takes before the kill")
        kill_hard(first)
        in_flight = sum(1 for a in catalog.attempts(batch_id=batch.id) if a.stage == "render" and a.status == "started")
        assert rendered(catalog, batch.id) < shots, "the batch finished before the kill: nothing was tested"
        assert in_flight > 0, "no render call was in flight at the kill: nothing was tested"
        second = spawn_worker(settings, tmp_path / "w2.log", **env)
        assert await wait_batch(client, batch.id) == {"published": shots}
    finally:
        kill_hard(first)
        if second is not None:
            kill_hard(second)
    assert_complete_without_duplicates(catalog, batch.id, shots, in_flight)
    lost = [a for a in catalog.attempts(batch_id=batch.id) if a.status == "lost"]
    assert len(lost) <= in_flight


@pytest.mark.temporal  # starts, kills and restarts a dev server of its own
async def test_temporal_server_restarted_mid_batch(tmp_path: Path, backend: dict[str, str]) -> None:
    port = free_port()
    db, log = tmp_path / "temporal.db", tmp_path / "server.log"
    server = start_dev_server(port=port, ui_port=None, db_file=db, log_file=log)
    settings = Settings(
        home=tmp_path / "home",
        temporal_address=f"127.0.0.1:{port}",
        task_queue=f"r-{uuid.uuid4().hex[:8]}",
        **backend,
        _env_file=None,  # type: ignore[call-arg]  # _env_file: a pydantic-settings init option, not a field
    )
    catalog, assets = Catalog.open(settings.catalog_url), open_asset_store(settings)
    shots = 30
    worker = spawn_worker(settings, tmp_path / "w.log", STUDIO_LOCAL_LATENCY="0.3", STUDIO_PROVIDER_CONCURRENCY="4")
    try:
        batch, _ = prepare_batch(settings, catalog, assets, write_project(tmp_path / "p", project(shots)))
        await start_batch(await connect(settings), settings, batch.id)
        await eventually(lambda: rendered(catalog, batch.id) >= 6, timeout=90, what="6 takes before the restart")
        stop_process(server.pid)
        assert rendered(catalog, batch.id) < shots, "the batch finished before the restart: nothing was tested"
        server = start_dev_server(port=port, ui_port=None, db_file=db, log_file=log)
        outcome = await wait_batch(await connect(settings), batch.id)
        assert outcome == {"published": shots}
    finally:
        kill_hard(worker)
        stop_process(server.pid)
    assert_complete_without_duplicates(catalog, batch.id, shots, in_flight=4)
