"""The catalog's database engine: one per URL per process, tables made (and upgraded) on first use."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, inspect, make_url, text
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel, create_engine

import studio.models  # noqa: F401  (registers every table on SQLModel.metadata)

_ENGINES: dict[str, Engine] = {}


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the CLI read while workers write; busy_timeout makes concurrent writers wait
    # instead of failing with "database is locked".
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def engine_for(url: str) -> Engine:
    """A process-wide engine for ``url``, with the tables created on first use."""
    engine = _ENGINES.get(url)
    if engine is None:
        if url.startswith("sqlite"):
            database = make_url(url).database
            if database and database != ":memory:":
                Path(database).parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
            event.listen(engine, "connect", _sqlite_pragmas)
        elif url.startswith("postgresql"):
            # Current SQLModel makes datetime columns timestamptz and reads them back in UTC; older
            # ones (pyproject allows them) make them naive, and Postgres would turn the aware values
            # it is sent into the *server's* local time before dropping the zone. A UTC session
            # keeps stored times meaning UTC with either.
            engine = create_engine(url, pool_pre_ping=True, connect_args={"options": "-c timezone=UTC"})
        else:
            engine = create_engine(url, pool_pre_ping=True)
        with _schema_lock(engine):
            SQLModel.metadata.create_all(engine)
            add_missing_columns(engine)
        _ENGINES[url] = engine
    return engine


# Any constant will do: it only has to be the same in every studio process.
_SCHEMA_LOCK_KEY = 0x5354_5544_494F


@contextmanager
def _schema_lock(engine: Engine) -> Iterator[None]:
    """Hold a Postgres advisory lock while tables are created or altered.

    Two workers starting at once on a new database would otherwise both find a table missing and
    both create it, and one fails on a duplicate type. SQLite serializes DDL by itself.
    """
    if engine.dialect.name != "postgresql":
        yield
        return
    with engine.connect() as conn:
        conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _SCHEMA_LOCK_KEY})
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _SCHEMA_LOCK_KEY})


def add_missing_columns(engine: Engine) -> list[str]:
    """Add columns a newer studio defines to tables an older one created; returns what it added.

    ``create_all`` makes missing tables but never alters existing ones, and a catalog outlives
    upgrades. Only nullable or defaulted columns are ever added, which ``ALTER TABLE ADD
    COLUMN`` can do on both SQLite and Postgres without rewriting rows.
    """
    added: list[str] = []
    inspector = inspect(engine)
    for table in SQLModel.metadata.sorted_tables:
        if not inspector.has_table(table.name):
            continue
        have = {c["name"] for c in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name in have:
                continue
            kind = column.type.compile(dialect=engine.dialect)
            default = column.default.arg if column.default is not None and column.default.is_scalar else None
            clause = f" DEFAULT {default!r}" if isinstance(default, (int, float)) and not isinstance(default, bool) else ""
            if isinstance(default, bool):
                clause = f" DEFAULT {'TRUE' if default else 'FALSE'}"
            with engine.begin() as conn:
                conn.execute(text(f'ALTER TABLE "{table.name}" ADD COLUMN "{column.name}" {kind}{clause}'))
            added.append(f"{table.name}.{column.name}")
    return added
