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
    with op.batch_alter_table("executions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_executions_queued",
            ["backend", "project_id", sa.text("priority DESC"), "created_at", "id"],
            unique=False,
            sqlite_where=sa.text("state = 'queued'"),
            postgresql_where=sa.text("state = 'queued'"),
        )
        batch_op.create_index(
            "ix_executions_running",
            ["backend", "project_id", "organization_id"],
            unique=False,
            sqlite_where=sa.text("state = 'running'"),
            postgresql_where=sa.text("state = 'running'"),
        )


def downgrade() -> None:
    with op.batch_alter_table("executions", schema=None) as batch_op:
        batch_op.drop_index("ix_executions_running")
        batch_op.drop_index("ix_executions_queued")
    op.drop_table("fairshare_usage")
