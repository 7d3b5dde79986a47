"""scale reads: the indexes `studio show`, a page of batches and a batch's spend need at 100k takes

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 21:00:00.000000

On Postgres two more things. Multi-column statistics of a call's provider, stage and status
(the ETA's lanes): estimated column by column, a lane that never had a call looked like
thousands of rows. And the full-text index of revision 0007 stops buffering new entries
(``fastupdate``): a GIN index otherwise keeps up to 4 MB of them in a pending list every search
reads through until autovacuum merges it, which made finding even a rare word four times slower
at 100k takes (what a bulk import or a busy day of launches leaves). A take's prompt is written
once, so the cost moves to that one insert.
"""

from __future__ import annotations

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | None = None
depends_on: str | None = None

# (index, table, columns): reads that scanned a table, or took the wrong index, as the catalog grew
# (bench/scale/reads.py).
INDEXES = (
    # show: the files made from a take (was a scan of every publication).
    ("ix_publication_take_id", "publication", ["take_id"]),
    # status, Batches page: a batch's shots counted by stage in one index walk; and a batch's shots
    # at one stage, which SQLite (no statistics) otherwise looks up by the stage alone, every batch's.
    ("ix_shot_batch_id_stage", "shot", ["batch_id", "stage"]),
    # A batch's spend (the budget check before every paid call) and a page of batches' costs,
    # summed from the index alone instead of a row lookup per call.
    ("ix_providerattempt_batch_id_status_cost_usd", "providerattempt", ["batch_id", "status", "cost_usd"]),
    # ETA: a lane's latest good calls. With the status outside the index, Postgres estimated a lane
    # with no call at all (a review on a vendor) at thousands of rows and walked every call
    # backwards by finished_at to find none.
    (
        "ix_providerattempt_provider_stage_status_finished_at",
        "providerattempt",
        ["provider", "stage", "status", "finished_at"],
    ),
)
POSTGRES_UP = (
    # Which stages each provider serves, and how its calls end, as one distribution: estimated
    # independently, a lane that never had a call (review is never on a vendor) looked like
    # thousands of rows, and the ETA's window on it walked every call by finished_at (see above).
    "CREATE STATISTICS IF NOT EXISTS st_providerattempt_lane (mcv) ON provider, stage, status FROM providerattempt",
    "ALTER INDEX ix_take_prompt_fts SET (fastupdate = off)",
    "SELECT gin_clean_pending_list('ix_take_prompt_fts'::regclass)",  # what was buffered before
)
POSTGRES_DOWN = (
    "ALTER INDEX ix_take_prompt_fts RESET (fastupdate)",
    "DROP STATISTICS IF EXISTS st_providerattempt_lane",
)


def upgrade() -> None:
    """Apply the change (runs inside the schema lock's transaction)."""
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)
    if op.get_bind().dialect.name == "postgresql":
        for statement in POSTGRES_UP:
            op.execute(statement)


def downgrade() -> None:
    """Undo the change (developers only: `studio db` upgrades, never downgrades)."""
    if op.get_bind().dialect.name == "postgresql":
        for statement in POSTGRES_DOWN:
            op.execute(statement)
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
