"""What every part of the catalog shares: its engine, and a short transaction on it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.engine import Engine
from sqlmodel import Session


class CatalogSessions:
    """The catalog's engine and its sessions; the base of :class:`studio.catalog.store.Catalog`.

    Args:
        engine: SQLAlchemy engine (see :func:`studio.catalog.engine.engine_for`).
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits on success and rolls back on error."""
        with Session(self.engine, expire_on_commit=False) as session:
            yield session
            session.commit()
