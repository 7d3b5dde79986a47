"""One process at a time changes a catalog's schema: a cross-process lock around an upgrade.

The lock is a transaction that the upgrade runs inside, so it is taken and given up with the
schema change itself, and a process that dies mid-upgrade leaves the schema as it was:

- SQLite: ``BEGIN IMMEDIATE`` on a connection of its own takes the database's write lock at once
  (other writers wait), and SQLite's DDL is transactional once the driver stops committing
  behind our back (its default "legacy" mode runs ``CREATE`` and ``ALTER`` outside any
  transaction, which is how two first starts each created ``batch``).
- Postgres: ``pg_advisory_xact_lock``, released by the same commit that publishes the tables.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import NullPool

# Any constant will do: it only has to be the same in every studio process (and release).
SCHEMA_LOCK_KEY = 0x5354_5544_494F
# How long a process waits for another one's upgrade. Upgrades take milliseconds today; a later
# one that copies a big table may take minutes, and the others should wait, not fail.
SQLITE_LOCK_WAIT_S = 600


@contextmanager
def schema_lock(engine: Engine) -> Iterator[Connection]:
    """A connection in a transaction that holds the catalog's schema lock; commits on success.

    Args:
        engine: The catalog's engine (its URL says which database and which kind of lock).
    """
    if engine.dialect.name == "sqlite" and not _in_memory(engine):
        with _sqlite_locked(engine) as conn:
            yield conn
        return
    with engine.connect() as conn, conn.begin():
        if engine.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCHEMA_LOCK_KEY})
        # Other databases: no portable lock; their first start is not expected to be concurrent.
        yield conn


@contextmanager
def _sqlite_locked(engine: Engine) -> Iterator[Connection]:
    # A throwaway engine: its connections leave the driver's autocommit mode on, so the BEGIN
    # and COMMIT below are the only transaction boundaries, and none of them goes back to the
    # catalog's pool in that mode.
    locking = create_engine(
        engine.url,
        poolclass=NullPool,
        isolation_level="AUTOCOMMIT",
        connect_args={"check_same_thread": False, "timeout": SQLITE_LOCK_WAIT_S},
    )
    try:
        with locking.connect() as conn:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.exec_driver_sql("ROLLBACK")
                raise
            conn.exec_driver_sql("COMMIT")
    finally:
        locking.dispose()


def _in_memory(engine: Engine) -> bool:
    database = engine.url.database
    return not database or database == ":memory:" or "mode=memory" in str(engine.url)
