"""The catalog's database engine: one per URL per process, its schema brought up to date on first use."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

from sqlalchemy import event, make_url
from sqlalchemy.engine import Engine
from sqlmodel import create_engine

from studio.catalog.migrations import ensure_schema

_ENGINES: dict[str, Engine] = {}
# How long a process waits for the lock SQLite needs to turn a new file to WAL.
_WAL_WAIT_S = 30.0


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the CLI read while workers write; busy_timeout makes concurrent writers wait
    # instead of failing with "database is locked".
    cursor = dbapi_connection.cursor()
    _enable_wal(cursor)
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _enable_wal(cursor: sqlite3.Cursor) -> None:
    # Turning a brand-new file to WAL takes an exclusive lock, and SQLite does not wait for that
    # one (no busy handler): processes opening a new catalog at once would fail with "database
    # is locked". The switch takes milliseconds and happens once per file, so retry; on a file
    # already in WAL the pragma changes nothing and takes no such lock.
    deadline = time.monotonic() + _WAL_WAIT_S
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as err:
            if "locked" not in str(err) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def engine_for(url: str) -> Engine:
    """A process-wide engine for ``url``, its schema at the newest revision (see :mod:`studio.catalog.migrations`)."""
    engine = _ENGINES.get(url)
    if engine is None:
        engine = new_engine(url)
        # Every process opening a catalog runs this; the schema lock makes concurrent first
        # starts (`studio up` and `studio run` at once) create the tables once.
        ensure_schema(engine)
        _ENGINES[url] = engine
    return engine


def new_engine(url: str) -> Engine:
    """An engine for ``url`` with the studio's connection settings, its schema left as it is."""
    if url.startswith("sqlite"):
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if url.startswith("postgresql"):
        # Current SQLModel makes datetime columns timestamptz and reads them back in UTC; older
        # ones (pyproject allows them) make them naive, and Postgres would turn the aware values
        # it is sent into the *server's* local time before dropping the zone. A UTC session
        # keeps stored times meaning UTC with either.
        # A bounded connect: a server that is unreachable (not refusing) must fail a stage in
        # seconds, so the outage guard sees it and retries, instead of hanging the worker's threads.
        return create_engine(
            url, pool_pre_ping=True, connect_args={"options": "-c timezone=UTC", "connect_timeout": 10}
        )
    return create_engine(url, pool_pre_ping=True)
