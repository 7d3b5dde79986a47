"""The catalog's schema history: Alembic revisions, and how a catalog is brought up to date.

Every process that opens a catalog calls :func:`ensure_schema` (through
:func:`studio.catalog.engine.engine_for`): one read when the catalog is already at the newest
revision, else an upgrade under a cross-process lock. Operators can do the same by hand with
``studio db upgrade`` and look with ``studio db current``.

A schema change is a new file in ``versions/``: ``python -m studio.catalog.migrations new "what changed"``
writes one from the difference between the models and the newest revision (see ``__main__``).
"""

from studio.catalog.migrations.schema import SchemaError, SchemaState, ensure_schema, schema_state, upgrade

__all__ = ["SchemaError", "SchemaState", "ensure_schema", "schema_state", "upgrade"]
