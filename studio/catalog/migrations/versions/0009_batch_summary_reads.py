"""batch summary reads: the indexes `studio status BATCH`, the Batch page and its ETA need at 10,000 shots

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 21:30:00.000000

No take index: a take(batch_id, status) index would count a batch's takes per status from the
index alone (5 ms at 10,000 shots), but SQLite then walks it for every read of a batch's takes,
which changes the order `studio status BATCH --json` lists them in (it has no ORDER BY, and its
output is a stable interface).
"""

from __future__ import annotations

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | None = None
depends_on: str | None = None

# (index, table, columns): reads of one big batch that sorted or looked up every row (bench/scale/reads.py --big-batch).
INDEXES = (
    # A batch's shots in storyboard order (the Batch page's grid, a page at a time; the ETA's
    # chains): walked in order instead of sorting all 10,000 (a deep page 6.9 ms -> 0.9 ms).
    ("ix_shot_batch_id_position", "shot", ["batch_id", "position"]),
    # A batch's calls per provider and status with their cost (status BATCH), and per provider and
    # stage leaving out stale "started" rows (the ETA), from the index alone instead of a row
    # lookup per call (40,000 calls at 10,000 shots: 18 ms -> 6 ms and 20 ms -> 13 ms).
    (
        "ix_providerattempt_batch_id_provider_status_stage",
        "providerattempt",
        ["batch_id", "provider", "status", "stage", "started_at", "cost_usd"],
    ),
)


def upgrade() -> None:
    """Apply the change (runs inside the schema lock's transaction)."""
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade() -> None:
    """Undo the change (developers only: `studio db` upgrades, never downgrades)."""
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
