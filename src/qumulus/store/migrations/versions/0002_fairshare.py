"""fair-share usage accumulators

Revision ID: 0002_fairshare
Revises: 0002_limits
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_fairshare"
down_revision = "0002_limits"  # re-chained after main's 0002_limits (rebase)
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "fairshare_usage",
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("entity_id", sa.String(length=100), nullable=False),
        sa.Column("backend", sa.String(length=100), nullable=False),
        sa.Column("g", sa.Float(), nullable=False),
        sa.Column("n", sa.Float(), nullable=False),
        sa.Column("epoch", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("kind", "entity_id", "backend", name=op.f("pk_fairshare_usage")),
    )
    live = sa.text("state IN ('queued', 'running')")
    with op.batch_alter_table("executions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_executions_live",
            ["backend", "project_id", "priority", "created_at"],
            unique=False,
            sqlite_where=live,
            postgresql_where=live,
        )


def downgrade() -> None:
    with op.batch_alter_table("executions", schema=None) as batch_op:
        batch_op.drop_index("ix_executions_live")
    op.drop_table("fairshare_usage")
