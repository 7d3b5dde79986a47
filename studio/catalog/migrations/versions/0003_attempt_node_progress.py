"""provider_attempt: the render node a call went to, and its last progress

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 14:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Apply the change (runs inside the schema lock's transaction)."""
    with op.batch_alter_table("providerattempt") as batch:
        batch.add_column(sa.Column("node", sa.String(), nullable=True))
        batch.add_column(sa.Column("progress", sa.JSON(), nullable=True))
        batch.create_index("ix_providerattempt_provider_node_status", ["provider", "node", "status"])


def downgrade() -> None:
    """Undo the change (developers only: `studio db` upgrades, never downgrades)."""
    with op.batch_alter_table("providerattempt") as batch:
        batch.drop_index("ix_providerattempt_provider_node_status")
        batch.drop_column("progress")
        batch.drop_column("node")
