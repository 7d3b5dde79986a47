"""Alembic's environment for the catalog: run by Alembic, never imported by the studio itself.

The connection comes from the caller (``studio.catalog.migrations.schema`` or ``python -m
studio.catalog.migrations``), already inside the transaction that holds the schema lock.
"""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from sqlmodel import SQLModel

import studio.catalog.models  # noqa: F401  (registers every table on SQLModel.metadata, for autogenerate)
from studio.catalog.search_queries import not_search_index


def render_item(kind: str, obj: Any, autogen_context: Any) -> str | Literal[False]:
    """Write SQLModel's column types as plain SQLAlchemy ones, so revisions never import sqlmodel."""
    if kind == "type":
        name = type(obj).__name__
        if name == "AutoString":
            return "sa.String()"
        if name == "UTCDateTime":
            return "sa.DateTime(timezone=True)"
    return False


connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "run the catalog's migrations with `studio db upgrade` (or `python -m studio.catalog.migrations`)"
    )

context.configure(
    connection=connection,
    target_metadata=SQLModel.metadata,
    # SQLite alters most things only by copying the table: let autogenerate write batch ops.
    render_as_batch=True,
    compare_type=True,
    render_item=render_item,
    include_name=not_search_index,  # the full-text index is written by hand (revision 0007)
)
with context.begin_transaction():
    context.run_migrations()
