"""Shared fixtures: a real Temporal dev server (from the installed binary), settings in a temp
home, an in-process worker, and a launcher.

The catalog and asset store are SQLite and a local directory unless ``STUDIO_TEST_DATABASE_URL``
or ``STUDIO_TEST_ASSETS=s3`` say otherwise (see tests/backends.py): the same suite runs on both.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack, asynccontextmanager
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from temporalio.client import Client

from pipelines.client.batches import start_batch
from pipelines.runtime.connection import connect
from pipelines.runtime.devserver import free_port, start_dev_server, stop_process
from pipelines.runtime.provider_registry import ProviderSet, build_providers
from pipelines.runtime.worker import build_workers
from studio.batches.launch import prepare_batch
from studio.catalog.store import Catalog
from studio.settings import Settings
from studio.storage.local import AssetStore, open_asset_store
from tests.backends import (
    AWS_OVERRIDES,
    MOTO_ENV,
    TEST_ASSETS,
    TEST_DATABASE_URL,
    admin_engine,
    fresh_database,
    new_bucket,
    start_moto,
)
from tests.providers.fake_fal import FakeFal
from tests.providers.fake_gemini import FakeGemini
from tests.providers.fake_mistral import FakeMistral
from tests.providers.fake_replicate import FakeReplicate

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


@pytest.fixture(scope="session")
def s3_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A moto S3 server over HTTP for the session, and test credentials in the environment (so
    worker processes the tests start inherit them)."""
    proc, endpoint = start_moto(tmp_path_factory.mktemp("moto") / "moto.log")
    try:
        with pytest.MonkeyPatch.context() as env:
            for name in AWS_OVERRIDES:
                env.delenv(name, raising=False)
            for name, value in MOTO_ENV.items():
                env.setenv(name, value)
            yield endpoint
    finally:
        stop_process(proc.pid)


@pytest.fixture(scope="session")
def postgres_admin() -> Iterator[Engine]:
    """An autocommit engine on the STUDIO_TEST_DATABASE_URL server, to make a database per test."""
    if TEST_DATABASE_URL is None:
        pytest.skip("needs STUDIO_TEST_DATABASE_URL (a PostgreSQL server; .ci/postgres.sh starts one)")
    engine = admin_engine(TEST_DATABASE_URL)
    yield engine
    engine.dispose()


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> Iterator[dict[str, str]]:
    """Settings fields that put this test's catalog and assets on the backends the run asks for:
    nothing by default (SQLite and a directory in the test's home), else a fresh Postgres
    database and a fresh S3 bucket of its own."""
    fields: dict[str, str] = {}
    with ExitStack() as cleanup:
        if TEST_ASSETS == "s3":
            endpoint = request.getfixturevalue("s3_endpoint")
            fields.update(assets=f"s3://{new_bucket(endpoint)}/assets", s3_endpoint_url=endpoint)
        if TEST_DATABASE_URL is not None:
            fields["database_url"] = cleanup.enter_context(fresh_database(request.getfixturevalue("postgres_admin")))
        yield fields


@pytest.fixture
def settings(tmp_path: Path, temporal_address: str, backend: dict[str, str]) -> Settings:
    """Settings with a fresh home, task queue and storage, pointed at the session's server."""
    return Settings(
        home=tmp_path / "home",
        temporal_address=temporal_address,
        task_queue=f"t-{uuid.uuid4().hex[:8]}",
        **backend,
        _env_file=None,  # type: ignore[call-arg]
    )


@pytest.fixture
def catalog(settings: Settings) -> Catalog:
    return Catalog.open(settings.catalog_url)


@pytest.fixture
def assets(settings: Settings) -> AssetStore:
    return open_asset_store(settings)


@pytest.fixture
async def client(settings: Settings) -> Client:
    return await connect(settings)


@pytest.fixture
def providers(settings: Settings) -> ProviderSet:
    """The providers the in-process worker uses; tests may add fault-injecting ones."""
    return build_providers(settings)


@asynccontextmanager
async def running_workers(
    client: Client, settings: Settings, providers: ProviderSet | None = None
) -> AsyncIterator[None]:
    """The workers of one `studio worker` process, run in this process until the block ends."""
    workers = build_workers(client, settings, providers)
    tasks = [asyncio.create_task(w.run()) for w in workers]
    try:
        yield
    finally:
        await asyncio.gather(*(w.shutdown() for w in workers), return_exceptions=True)
        await asyncio.gather(*tasks, return_exceptions=True)


@pytest.fixture
async def worker(client: Client, settings: Settings, providers: ProviderSet) -> AsyncIterator[None]:
    """An in-process worker (same code as `studio worker`) for the test's task queue."""
    async with running_workers(client, settings, providers):
        yield


@pytest.fixture
def launch(settings: Settings, catalog: Catalog, assets: AssetStore, client: Client):
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


@pytest.fixture
def mistral() -> Iterator[FakeMistral]:
    """A fake Mistral server speaking its wire format on a free port (tests.providers.fake_mistral)."""
    with FakeMistral() as server:
        yield server


@pytest.fixture
def gemini() -> Iterator[FakeGemini]:
    """A fake Gemini server speaking its wire format on a free port (tests.providers.fake_gemini)."""
    with FakeGemini() as server:
        yield server


@pytest.fixture
def replicate() -> Iterator[FakeReplicate]:
    """A fake Replicate server that refuses inputs its model schema lacks (tests.providers.fake_replicate)."""
    with FakeReplicate() as server:
        yield server


@pytest.fixture
def fal() -> Iterator[FakeFal]:
    """A fake fal queue server that refuses inputs its model schema lacks (tests.providers.fake_fal)."""
    with FakeFal() as server:
        yield server
