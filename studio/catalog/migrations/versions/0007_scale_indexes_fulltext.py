"""scale: indexes the year-sized catalog's reads need, and the full-text index of take prompts

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 20:40:00.000000

The full-text index is written by hand, dialect by dialect, and kept out of the models (the
environment's ``include_name`` skips it, see studio.catalog.search_queries): on SQLite an FTS5
table whose content is the take table, kept in step by triggers; on Postgres a GIN index on
``to_tsvector('simple', prompt)``. A later revision that rebuilds the take table on SQLite
(batch_alter_table copies it) drops those triggers with the old table: it must create them
again and rebuild the index (``INSERT INTO take_fts(take_fts) VALUES('rebuild')``);
tests/studio/test_find_fulltext.py fails at head when it does not.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | None = None
depends_on: str | None = None

# (index, table, columns): reads that scanned a table as the catalog grew (bench/scale/reads.py).
INDEXES = (
    ("ix_take_created_at", "take", ["created_at"]),  # find: the newest takes
    ("ix_take_parent_take_id", "take", ["parent_take_id"]),  # show: a take's descendants
    ("ix_shot_stage", "shot", ["stage"]),  # Approvals page: the shots waiting at a gate
    ("ix_batch_created_at", "batch", ["created_at"]),  # status, Batches page: the newest batches
    ("ix_providerattempt_finished_at", "providerattempt", ["finished_at"]),  # ETA: the latest calls
    # Circuit breaker: a provider's latest calls of a stage.
    ("ix_providerattempt_provider_stage_finished_at", "providerattempt", ["provider", "stage", "finished_at"]),
)
# In-flight limit, half-open probe, other batches' running calls: partial, over the few rows still
# "started", so that no read of finished calls takes it for a good path (SQLite keeps no statistics).
IN_FLIGHT = ("ix_providerattempt_in_flight", "providerattempt", ["provider", "started_at"])
IN_FLIGHT_WHERE = "status = 'started'"

SQLITE_UP = (
    # unicode61 without diacritics folding: what Postgres's 'simple' configuration matches too.
    "CREATE VIRTUAL TABLE take_fts USING fts5(prompt, content='take', content_rowid='rowid', "
    "tokenize='unicode61 remove_diacritics 0')",
    "CREATE TRIGGER take_fts_insert AFTER INSERT ON take BEGIN "
    "INSERT INTO take_fts(rowid, prompt) VALUES (new.rowid, new.prompt); END",
    "CREATE TRIGGER take_fts_delete AFTER DELETE ON take BEGIN "
    "INSERT INTO take_fts(take_fts, rowid, prompt) VALUES ('delete', old.rowid, old.prompt); END",
    "CREATE TRIGGER take_fts_update AFTER UPDATE OF prompt ON take BEGIN "
    "INSERT INTO take_fts(take_fts, rowid, prompt) VALUES ('delete', old.rowid, old.prompt); "
    "INSERT INTO take_fts(rowid, prompt) VALUES (new.rowid, new.prompt); END",
    "INSERT INTO take_fts(take_fts) VALUES ('rebuild')",  # every take written before this revision
)
SQLITE_DOWN = (
    "DROP TRIGGER IF EXISTS take_fts_insert",
    "DROP TRIGGER IF EXISTS take_fts_delete",
    "DROP TRIGGER IF EXISTS take_fts_update",
    "DROP TABLE IF EXISTS take_fts",
)
POSTGRES_UP = ("CREATE INDEX ix_take_prompt_fts ON take USING gin (to_tsvector('simple', prompt))",)
POSTGRES_DOWN = ("DROP INDEX IF EXISTS ix_take_prompt_fts",)


def _dialect() -> str:
    return op.get_bind().dialect.name


def upgrade() -> None:
    """Apply the change (runs inside the schema lock's transaction)."""
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)
    where = sa.text(IN_FLIGHT_WHERE)
    op.create_index(*IN_FLIGHT, unique=False, sqlite_where=where, postgresql_where=where)
    for statement in {"sqlite": SQLITE_UP, "postgresql": POSTGRES_UP}.get(_dialect(), ()):
        op.execute(statement)


def downgrade() -> None:
    """Undo the change (developers only: `studio db` upgrades, never downgrades)."""
    for statement in {"sqlite": SQLITE_DOWN, "postgresql": POSTGRES_DOWN}.get(_dialect(), ()):
        op.execute(statement)
    op.drop_index(IN_FLIGHT[0], table_name=IN_FLIGHT[1])
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
