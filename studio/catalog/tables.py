"""Core handles on the catalog's tables, and read-only model copies of their rows.

Paths every take goes through (the stage steps, the storyboard's insert) use Core statements on
these tables: they cost about half what the ORM's load-modify-flush does (bench/cpu_profile.py).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, Table, inspect
from sqlmodel import SQLModel

from studio.catalog.models import Batch, M, ProviderAttempt, Publication, Shot, Take, detached


def _table(model: type[SQLModel]) -> Table:
    """The table ``model`` maps (its ``__table__``, which SQLModel's types do not declare)."""
    table = inspect(model).local_table
    if not isinstance(table, Table):
        raise TypeError(f"{model.__name__} is not a table model")
    return table


TAKE = _table(Take)
SHOT = _table(Shot)
BATCH = _table(Batch)
ATTEMPT = _table(ProviderAttempt)
PUBLICATION = _table(Publication)


def snapshot(model: type[M], row: Row[Any], /, **changes: Any) -> M:
    """A read-only copy of a Core row as ``model`` (with ``changes`` applied), without a session.

    Cheaper than an ORM load: no identity map, no unit of work (see :func:`studio.catalog.models.detached`).
    """
    return detached(model, **{**row._mapping, **changes})


def row_values(table: Table, row: SQLModel) -> dict[str, Any]:
    """The column values of a model object (detached or not), for a Core INSERT."""
    return {column.name: getattr(row, column.name) for column in table.columns}
