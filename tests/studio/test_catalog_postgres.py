"""What the catalog must get right on Postgres that SQLite never tests: time zones, JSON columns,
and several processes creating the tables of a new database at once."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import create_engine, inspect, make_url, text
from sqlmodel import SQLModel

from studio.catalog.models import Batch, Shot, Take
from studio.catalog.store import Catalog
from tests.backends import TEST_DATABASE_URL

pytestmark = pytest.mark.skipif(
    TEST_DATABASE_URL is None, reason="Postgres pass only (STUDIO_TEST_DATABASE_URL names a PostgreSQL server)"
)


@pytest.fixture
def database_url(backend: dict[str, str]) -> str:
    """A fresh, empty database of this test's own (no tables yet)."""
    return backend["database_url"]


def test_times_are_stored_as_utc_whatever_the_server_zone(database_url: str) -> None:
    # A server whose zone is not UTC: naive columns would take the instant in *its* zone.
    name = make_url(database_url).database
    admin = create_engine(database_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"ALTER DATABASE \"{name}\" SET timezone = 'Asia/Kolkata'"))
    admin.dispose()
    catalog = Catalog.open(database_url)
    created = datetime(2025, 3, 1, 23, 30, tzinfo=timezone(timedelta(hours=-5)))
    catalog.add_batch(
        Batch(
            id="b-000001",
            project_name="p",
            project_slug="p",
            project_source="p.toml",
            project_key="k.txt",
            seed=1,
            output_dir="/tmp/out",
            created_at=created,
        )
    )
    stored = catalog.batch("b-000001").created_at
    # The same instant, and in UTC where a zone is given (naive values mean UTC, as from SQLite).
    assert stored.utcoffset() in (None, timedelta(0)) and stored.replace(tzinfo=UTC) == created


def test_json_columns_round_trip(database_url: str) -> None:
    catalog = Catalog.open(database_url)
    catalog.add_batch(
        Batch(
            id="b-000002",
            project_name="p",
            project_slug="p",
            project_source="p.toml",
            project_key="k.txt",
            seed=1,
            output_dir="/tmp/out",
        )
    )
    shot = Shot(
        key="b-000002/a",
        batch_id="b-000002",
        shot_id="a",
        position=0,
        prompt="x",
        width=64,
        height=64,
        variants=1,
        chain=["mistral", "gemini"],
    )
    params = {"steps": 4, "guidance": 3.5, "delivered_size": [64, 48], "note": "ünïcode"}
    take = Take(
        id="b-000002/a/1",
        batch_id="b-000002",
        shot_key="b-000002/a",
        number=1,
        prompt="x",
        width=64,
        height=64,
        params=params,
    )
    catalog.add_shots("b-000002", [shot], [take])
    assert catalog.shot("b-000002/a").chain == ["mistral", "gemini"]
    assert catalog.take("b-000002/a/1").params == params


# Each process imports first, then waits for a common instant: without the schema lock, three
# of four fail on "duplicate key value violates unique constraint pg_type_typname_nsp_index".
OPEN_AT_ONCE = """
import sys, time
from studio.catalog.store import Catalog
time.sleep(max(0.0, float(sys.argv[2]) - time.time()))
Catalog.open(sys.argv[1]).batches()
"""


def test_processes_opening_a_new_database_at_once_create_the_tables_once(database_url: str) -> None:
    at = str(time.time() + 3)  # after every child's imports
    procs = [
        subprocess.Popen([sys.executable, "-c", OPEN_AT_ONCE, database_url, at], stderr=subprocess.PIPE)
        for _ in range(4)
    ]
    errors = [p.communicate(timeout=60)[1].decode() for p in procs]
    assert [p.returncode for p in procs] == [0] * 4, errors
    engine = create_engine(database_url)
    assert set(inspect(engine).get_table_names()) >= set(SQLModel.metadata.tables)
    engine.dispose()
