"""Core handles on the catalog's tables, and read-only model copies of their rows.

Paths every take goes through (the stage steps, the storyboard's insert) use Core statements on
these tables: they cost about half what the ORM's load-modify-flush does (bench/cpu_profile.py).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, Table
from sqlmodel import SQLModel

from studio.catalog.models import Batch, M, ProviderAttempt, Publication, Shot, Take, detached

TAKE: Table = Take.__table__  # type: ignore[attr-defined]
SHOT: Table = Shot.__table__  # type: ignore[attr-defined]
BATCH: Table = Batch.__table__  # type: ignore[attr-defined]
ATTEMPT: Table = ProviderAttempt.__table__  # type: ignore[attr-defined]
PUBLICATION: Table = Publication.__table__  # type: ignore[attr-defined]


def snapshot(model: type[M], row: Row[Any], /, **changes: Any) -> M:
    """A read-only copy of a Core row as ``model`` (with ``changes`` applied), without a session.

    Cheaper than an ORM load: no identity map, no unit of work (see :func:`studio.catalog.models.detached`).
    """
    return detached(model, **{**row._mapping, **changes})


def row_values(table: Table, row: SQLModel) -> dict[str, Any]:
    """The column values of a model object (detached or not), for a Core INSERT."""
    return {column.name: getattr(row, column.name) for column in table.columns}
