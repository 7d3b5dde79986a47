"""Fixtures more than one test folder uses, and the lanes of the suite.

A fixture lives in the nearest conftest.py above every folder that uses it: these are shared by
tests/pipelines, tests/studio, tests/ui and tests/providers; tests/providers/conftest.py holds the
fakes only adapter tests use, and tests/ui/conftest.py skips browser tests where Chromium is
missing. Helpers that are not fixtures live in tests/support/ and the other non-test modules,
and test modules import them from there, never from a conftest or another test module.

Lanes. A test is marked by what it needs, from the fixtures it asks for (see
:func:`pytest_collection_modifyitems`), so ``make test-fast`` can leave out everything that starts
a server:

- ``temporal``: a Temporal dev server. Added to every test whose fixtures include
  ``temporal_address`` or ``client`` (so also ``worker`` and ``launch``). A test that reaches the
  server another way (its own ``connect(settings)``, a ``studio`` child process) says
  ``@pytest.mark.temporal`` itself.
- ``postgres``: a PostgreSQL server (``postgres_admin``, ``own_postgres``).
- ``browser``: headless Chromium; a browser test module sets ``pytestmark = pytest.mark.browser``.
- ``backend``: uses the catalog or asset store the run asks for (``backend``, so also ``settings``,
  ``catalog``, ``assets``; or a server fixture). A test that reaches them another way says
  ``@pytest.mark.backend`` itself.

``settings`` points at the session's dev server only for a test marked ``temporal``; any other test
gets an address nothing listens on, so a test that dials Temporal without saying so fails at once
(connection refused) instead of quietly starting a server.

The catalog and asset store are SQLite and a local directory unless ``STUDIO_TEST_DATABASE_URL``
or ``STUDIO_TEST_ASSETS=s3`` say otherwise (see tests/backends.py). Such a second pass (CI's, on
Postgres and S3, with workflows in Temporal's sandbox) runs the tests the change can change: those
in the ``backend`` or ``temporal`` lanes. The others would run exactly as in the first pass, and so
would the browser tests, which check what Chromium draws; what the pages read is checked on the
second pass by the AppTest tests.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from temporalio.client import Client

from pipelines.activities.provider_registry import ProviderSet, build_providers
from pipelines.client.batches import start_batch
from pipelines.runtime.connection import connect
from pipelines.runtime.devserver import free_port, start_dev_server, stop_process
from studio.batches.launch import prepare_batch
from studio.catalog.store import Catalog
from studio.settings import Settings
from studio.storage import AssetStore, open_asset_store
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
from tests.providers.fakes import FakeGemini, FakeMistral
from tests.support.environment import point_environment_at
from tests.support.workers import running_workers

NO_TEMPORAL = "127.0.0.1:9"
"""The discard port: nothing listens there, so a connection is refused at once."""

LANES = {
    "temporal": frozenset({"temporal_address", "client"}),
    "postgres": frozenset({"postgres_admin", "own_postgres"}),
    "backend": frozenset({"backend", "postgres_admin", "own_postgres", "s3_endpoint"}),
}
"""Each lane marker and the fixtures that put a test in it (``worker`` and ``launch`` use ``client``)."""


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by marker, which is a hook of the same name
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark each test with the lanes its fixtures need (``make test-fast`` deselects them); on a
    second pass, keep only the tests it can change (see the module docstring)."""
    for item in items:
        used = set(getattr(item, "fixturenames", ()))
        for marker, fixtures in LANES.items():
            if used & fixtures:
                item.add_marker(marker)
    if TEST_DATABASE_URL is None and TEST_ASSETS == "local":
        return
    keep, same = [], []
    for item in items:
        changed = item.get_closest_marker("backend") or item.get_closest_marker("temporal")
        (keep if changed and not item.get_closest_marker("browser") else same).append(item)
    if same:
        config.hook.pytest_deselected(items=same)
        items[:] = keep


# -- servers for the session --------------------------------------------------------------------
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


# -- the studio's settings and stores -----------------------------------------------------------
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
def settings(request: pytest.FixtureRequest, tmp_path: Path, backend: dict[str, str]) -> Settings:
    """Settings with a fresh home, task queue and storage.

    Pointed at the session's dev server when the test is marked ``temporal`` (which starts it),
    else at :data:`NO_TEMPORAL`.
    """
    needs_server = request.node.get_closest_marker("temporal") is not None
    address = request.getfixturevalue("temporal_address") if needs_server else NO_TEMPORAL
    return Settings(
        home=tmp_path / "home",
        temporal_address=address,
        task_queue=f"t-{uuid.uuid4().hex[:8]}",
        **backend,
        _env_file=None,  # type: ignore[call-arg]  # pydantic-settings' init-only option, not a field
    )


@pytest.fixture
def catalog(settings: Settings) -> Catalog:
    """The test's catalog (SQLite in its home unless the run asks for Postgres)."""
    return Catalog.open(settings.catalog_url)


@pytest.fixture
def assets(settings: Settings) -> AssetStore:
    """The test's asset store (a directory in its home unless the run asks for S3)."""
    return open_asset_store(settings)


@pytest.fixture
def app_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Point what reads settings from the environment (the dashboard, the CLI) at this test's."""
    point_environment_at(settings, monkeypatch)
    return settings


# -- Temporal (each of these puts the test in the `temporal` lane) ------------------------------
@pytest.fixture
async def client(settings: Settings) -> Client:
    """A client of the session's dev server, with the studio's data converter."""
    return await connect(settings)


@pytest.fixture
def providers(settings: Settings) -> ProviderSet:
    """The providers the in-process worker uses; tests may add fault-injecting ones."""
    return build_providers(settings)


@pytest.fixture
async def worker(client: Client, settings: Settings, providers: ProviderSet) -> AsyncIterator[None]:
    """An in-process worker (same code as `studio worker`) for the test's task queue."""
    async with running_workers(client, settings, providers):
        yield


@pytest.fixture
def launch(
    settings: Settings, catalog: Catalog, assets: AssetStore, client: Client
) -> Callable[[Path | str], Awaitable[str]]:
    """Validate a project, write its batch and start its workflow; returns the batch id."""

    async def _launch(project: Path | str) -> str:
        batch, _ = prepare_batch(settings, catalog, assets, project)
        await start_batch(client, settings, batch.id)
        return batch.id

    return _launch


# -- fake vendors (tests/providers and the storyboard CLI in tests/pipelines) -------------------
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
