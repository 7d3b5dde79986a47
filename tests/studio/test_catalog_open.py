"""Opening the catalog: several processes at once on a brand-new one (`studio up` starting a
worker and the dashboard while `studio run` launches), and what an open costs once the schema
is up to date. Runs on SQLite, and on Postgres in CI's second pass."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect
from sqlmodel import SQLModel

from studio.catalog.migrations.revisions import head_revision
from studio.catalog.models import Batch
from studio.catalog.store import Catalog
from tests.backends import TEST_DATABASE_URL, fresh_database

PROCESSES = 3
ROUNDS = 12
# Between two rounds: enough for every process to finish opening the previous round's catalog.
ROUND_GAP_S = 0.5

# Each child imports the studio, says so, waits for a common start instant, then opens one new
# catalog per round at the same instants as its siblings. It reports failures instead of dying
# at the first, so the test says how many rounds went wrong.
OPEN_EACH_ROUND = """
import json, sys, time
from studio.catalog.store import Catalog
urls = json.loads(sys.argv[1])
print("ready", flush=True)
start = float(sys.stdin.readline())
failures = []
for i, url in enumerate(urls):
    time.sleep(max(0.0, start + i * float(sys.argv[2]) - time.time()))
    try:
        Catalog.open(url).batches()
    except Exception as err:  # reported to the test, which fails on it
        failures.append(f"round {i}: {type(err).__name__}: {str(err).splitlines()[0]}")
print(json.dumps(failures), flush=True)
"""


@pytest.fixture
def new_catalog_urls(request: pytest.FixtureRequest, tmp_path: Path) -> list[str]:
    """One URL per round, each naming a catalog that does not exist yet (no tables)."""
    if TEST_DATABASE_URL is None:
        return [f"sqlite:///{tmp_path / f'round-{i}' / 'catalog.db'}" for i in range(ROUNDS)]
    admin = request.getfixturevalue("postgres_admin")
    stack = ExitStack()
    request.addfinalizer(stack.close)
    return [stack.enter_context(fresh_database(admin)) for _ in range(ROUNDS)]


@pytest.mark.backend  # its fixture asks for the Postgres server on the Postgres pass
def test_processes_opening_a_new_catalog_at_once_all_succeed_and_create_it_once(new_catalog_urls: list[str]) -> None:
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", OPEN_EACH_ROUND, json.dumps(new_catalog_urls), str(ROUND_GAP_S)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(PROCESSES)
    ]
    try:
        for proc in procs:
            assert proc.stdout is not None and proc.stdout.readline().strip() == "ready", proc.stderr
        start = f"{time.time() + 0.3}\n"
        for proc in procs:  # to every child before waiting on any
            assert proc.stdin is not None
            proc.stdin.write(start)
            proc.stdin.flush()
        outputs = [proc.communicate(timeout=120) for proc in procs]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
    failures = [line for out, _ in outputs for line in json.loads(out.strip().splitlines()[-1])]
    assert failures == [], f"{len(failures)} failed opens:\n" + "\n".join(failures)
    assert [proc.returncode for proc in procs] == [0] * PROCESSES, [err for _, err in outputs]

    for url in new_catalog_urls:
        engine = create_engine(url)
        try:
            assert set(inspect(engine).get_table_names()) >= set(SQLModel.metadata.tables)
            with engine.connect() as conn:
                stored = list(conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalars())
            assert stored == [head_revision()]
        finally:
            engine.dispose()
    # And a batch can be written to it: the launch that raced the worker does not sit queued.
    catalog = Catalog.open(new_catalog_urls[-1])
    catalog.add_batch(
        Batch(
            id="b-race01",
            project_name="p",
            project_slug="p",
            project_source="p.toml",
            project_key="k.txt",
            seed=1,
            output_dir="/tmp/out",
        )
    )
    assert catalog.batch("b-race01").state == "queued"


# Statements and modules seen while a process opens a catalog already at the newest revision.
OPEN_AT_HEAD = """
import json, sys
from sqlalchemy import event
from sqlalchemy.engine import Engine
statements = []
event.listen(Engine, "before_cursor_execute", lambda conn, cursor, statement, *rest: statements.append(statement))
from studio.catalog.store import Catalog
Catalog.open(sys.argv[1])
print(json.dumps({"statements": statements, "alembic": any(m.split(".")[0] == "alembic" for m in sys.modules)}))
"""


def test_opening_a_catalog_at_the_newest_revision_only_reads(tmp_path: Path, backend: dict[str, str]) -> None:
    # Workers and every CLI command open the catalog: at head, an open must not import Alembic
    # (about 80 ms) nor take the schema lock, let alone change anything.
    url = backend.get("database_url") or f"sqlite:///{tmp_path / 'catalog.db'}"
    Catalog.open(url)
    out = subprocess.run([sys.executable, "-c", OPEN_AT_HEAD, url], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    seen = json.loads(out.stdout)
    assert seen["alembic"] is False
    writes = [s for s in seen["statements"] if s.lstrip().split()[0].upper() in ("CREATE", "ALTER", "INSERT", "UPDATE")]
    assert writes == [] and not any("advisory" in s for s in seen["statements"]), seen["statements"]
    assert any("alembic_version" in s for s in seen["statements"])
