"""billing: budget periods, per-job budget holds and usage estimates

Revision ID: 0002_billing
Revises: 0002_limits
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_billing"
down_revision = "0002_fairshare"  # re-chained at merge: after limits and fairshare
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("budgets", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("period", sa.String(length=16), nullable=False, server_default="custom")
        )
        batch_op.add_column(sa.Column("recurring", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("budget_id", sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column("budget_hold", sa.Numeric(precision=18, scale=6), nullable=True))
        batch_op.add_column(sa.Column("estimated_seconds", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_column("estimated_seconds")
        batch_op.drop_column("budget_hold")
        batch_op.drop_column("budget_id")
    with op.batch_alter_table("budgets", schema=None) as batch_op:
        batch_op.drop_column("recurring")
        batch_op.drop_column("period")
