"""Baseline: the catalog as the studio made it before revisions were recorded.

Revision ID: 0001
Revises:
Create Date: 2026-11-23

On an empty database this creates every table. A catalog made by an earlier studio has the
tables already, perhaps without the columns added since the first release (those that
``add_missing_columns`` used to add at open): they are added here, nullable as that function
added them, and the values their rows would have had are filled in, so no such catalog is
left with a batch whose ``kind`` or ``rerun_only`` is NULL. Rows are never removed or rewritten
otherwise.

The schema is written out below rather than read from ``studio.catalog.models``: a revision must keep
describing the same schema after the models move on.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def _baseline() -> sa.MetaData:
    """The schema of the first release, table by table.

    Long because it is a frozen snapshot of every table: it must not change, so it is not factored.
    """
    meta = sa.MetaData()
    sa.Table(
        "batch",
        meta,
        sa.Column("project_name", sa.String(), nullable=False),
        sa.Column("project_slug", sa.String(), nullable=False),
        sa.Column("project_source", sa.String(), nullable=False),
        sa.Column("project_key", sa.String(), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("approval_required", sa.Boolean(), nullable=False),
        sa.Column("output_dir", sa.String(), nullable=False),
        sa.Column("parent_batch_id", sa.String(), nullable=True),
        sa.Column("budget_usd", sa.Float(), nullable=True),
        sa.Column("spending_stopped", sa.Boolean(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("rerun_only", sa.JSON(), nullable=True),
        sa.Column("references", sa.JSON(), nullable=True),
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("total_shots", sa.Integer(), nullable=False),
        sa.Column("total_takes", sa.Integer(), nullable=False),
        sa.Column("error", sa.String(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    sa.Table(
        "shot",
        meta,
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("batch_id", sa.String(), nullable=False, index=True),
        sa.Column("shot_id", sa.String(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("prompt", sa.String(), nullable=False),
        sa.Column("negative", sa.String(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("variants", sa.Integer(), nullable=False),
        sa.Column("upscale", sa.Integer(), nullable=False),
        sa.Column("chain", sa.JSON(), nullable=True),
        sa.Column("reference_key", sa.String(), nullable=True),
        sa.Column("stage", sa.String(), nullable=False),
        sa.Column("final_take_id", sa.String(), nullable=True),
        sa.Column("error", sa.String(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    sa.Table(
        "take",
        meta,
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("batch_id", sa.String(), nullable=False, index=True),
        sa.Column("shot_key", sa.String(), nullable=False, index=True),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=True),
        sa.Column("provider", sa.String(), nullable=True),
        sa.Column("model", sa.String(), nullable=True),
        sa.Column("seed_used", sa.Integer(), nullable=True),
        sa.Column("reproducible", sa.Boolean(), nullable=True),
        sa.Column("prompt", sa.String(), nullable=False),
        sa.Column("negative", sa.String(), nullable=False),
        sa.Column("revised_prompt", sa.String(), nullable=True),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("params", sa.JSON(), nullable=True),
        sa.Column("init_key", sa.String(), nullable=True),
        sa.Column("strength", sa.Float(), nullable=True),
        sa.Column("asset_key", sa.String(), nullable=True),
        sa.Column("final_key", sa.String(), nullable=True),
        sa.Column("review_score", sa.Float(), nullable=True),
        sa.Column("review_passed", sa.Boolean(), nullable=True),
        sa.Column("review_notes", sa.String(), nullable=True),
        sa.Column("review_model", sa.String(), nullable=True),
        sa.Column("parent_take_id", sa.String(), nullable=True),
        sa.Column("cost_usd", sa.Float(), nullable=False),
        sa.Column("error", sa.String(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    sa.Table(
        "providerattempt",
        meta,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("take_id", sa.String(), nullable=False, index=True),
        sa.Column("batch_id", sa.String(), nullable=False, index=True),
        sa.Column("stage", sa.String(), nullable=False),
        sa.Column("provider", sa.String(), nullable=False, index=True),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("error_class", sa.String(), nullable=True),
        sa.Column("error", sa.String(), nullable=True),
        sa.Column("job_id", sa.String(), nullable=True),
        sa.Column("latency_ms", sa.Integer(), nullable=True),
        sa.Column("cost_usd", sa.Float(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    sa.Table(
        "approval",
        meta,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shot_key", sa.String(), nullable=False, index=True),
        sa.Column("batch_id", sa.String(), nullable=False, index=True),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("decision", sa.String(), nullable=False),
        sa.Column("take_id", sa.String(), nullable=True),
        sa.Column("who", sa.String(), nullable=False),
        sa.Column("note", sa.String(), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    sa.Table(
        "publication",
        meta,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.String(), nullable=False, index=True),
        sa.Column("shot_key", sa.String(), nullable=False, index=True),
        sa.Column("take_id", sa.String(), nullable=False),
        sa.Column("path", sa.String(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    # index=True names an index ix_<table>_<column>, as SQLModel does: an earlier catalog's match.
    return meta


# Columns added after the first release, and the value an earlier row stands for. A batch made
# before replays and reruns existed is a plain project run with nothing to rerun and no sketch.
_EARLIER_ROWS: dict[tuple[str, str], Any] = {
    ("batch", "spending_stopped"): False,
    ("batch", "kind"): "project",
    ("batch", "rerun_only"): [],
    ("batch", "references"): {},
    ("take", "round"): 1,
}


def upgrade() -> None:
    """Create the tables, or complete an earlier studio's."""
    bind = op.get_bind()
    inspector = sa.inspect(bind)
    existing = set(inspector.get_table_names())
    for table in _baseline().sorted_tables:
        if table.name not in existing:
            table.create(bind)
            continue
        have = {c["name"] for c in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name not in have:
                op.add_column(table.name, sa.Column(column.name, column.type, nullable=True))
        indexes = {ix["name"] for ix in inspector.get_indexes(table.name)}
        for index in table.indexes:
            if index.name not in indexes:
                index.create(bind)
        for (name, column_name), value in _EARLIER_ROWS.items():
            if name == table.name:
                column = table.c[column_name]
                bind.execute(table.update().where(column.is_(None)).values({column_name: value}))


def downgrade() -> None:
    """Drop every table (developers only)."""
    bind = op.get_bind()
    for table in reversed(_baseline().sorted_tables):
        table.drop(bind, checkfirst=True)
