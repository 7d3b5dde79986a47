"""pause: when a batch was paused (no new render starts while it is set)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 20:05:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Apply the change (runs inside the schema lock's transaction)."""
    with op.batch_alter_table("batch", schema=None) as batch_op:
        batch_op.add_column(sa.Column("paused_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    """Undo the change (developers only: `studio db` upgrades, never downgrades)."""
    with op.batch_alter_table("batch", schema=None) as batch_op:
        batch_op.drop_column("paused_at")
