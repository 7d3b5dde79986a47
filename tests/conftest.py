"""Shared fixtures: a real Temporal dev server (from the installed binary), settings in a temp
home, an in-process worker, and a launcher."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from temporalio.client import Client

from pipelines.client import start_batch
from pipelines.connection import connect
from pipelines.devserver import free_port, start_dev_server, stop_process
from pipelines.provider_registry import ProviderSet, build_providers
from pipelines.worker import build_workers
from studio.assets import LocalAssetStore
from studio.catalog import Catalog
from studio.launch import prepare_batch
from studio.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_projects"


@pytest.fixture(scope="session")
def temporal_address(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A dev server shared by the session's tests (each test uses its own task queue)."""
    home = tmp_path_factory.mktemp("temporal")
    port = free_port()
    proc = start_dev_server(port=port, ui_port=None, db_file=home / "temporal.db", log_file=home / "server.log")
    try:
        yield f"127.0.0.1:{port}"
    finally:
        stop_process(proc.pid)


@pytest.fixture
def settings(tmp_path: Path, temporal_address: str) -> Settings:
    """Settings with a fresh home and task queue, pointed at the session's server."""
    return Settings(
        home=tmp_path / "home",
        temporal_address=temporal_address,
        task_queue=f"t-{uuid.uuid4().hex[:8]}",
        _env_file=None,  # type: ignore[call-arg]
    )


@pytest.fixture
def catalog(settings: Settings) -> Catalog:
    return Catalog.open(settings.catalog_url)


@pytest.fixture
def assets(settings: Settings) -> LocalAssetStore:
    return LocalAssetStore(settings.assets_dir)


@pytest.fixture
async def client(settings: Settings) -> Client:
    return await connect(settings)


@pytest.fixture
def providers(settings: Settings) -> ProviderSet:
    """The providers the in-process worker uses; tests may add fault-injecting ones."""
    return build_providers(settings)


@pytest.fixture
async def worker(client: Client, settings: Settings, providers: ProviderSet) -> AsyncIterator[None]:
    """An in-process worker (same code as `studio worker`) for the test's task queue."""
    workers = build_workers(client, settings, providers)
    tasks = [asyncio.create_task(w.run()) for w in workers]
    try:
        yield
    finally:
        await asyncio.gather(*(w.shutdown() for w in workers), return_exceptions=True)
        await asyncio.gather(*tasks, return_exceptions=True)


@pytest.fixture
def launch(settings: Settings, catalog: Catalog, assets: LocalAssetStore, client: Client):
    """Validate a project, write its batch and start its workflow; returns the batch id."""

    async def _launch(project: Path | str) -> str:
        batch, _ = prepare_batch(settings, catalog, assets, project)
        await start_batch(client, settings, batch.id)
        return batch.id

    return _launch


def write_project(folder: Path, body: str) -> Path:
    """Write a project.toml into ``folder`` and return the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "project.toml").write_text(body)
    return folder
