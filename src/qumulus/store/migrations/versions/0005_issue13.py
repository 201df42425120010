"""jobs.compiled: the native compilation of dry runs and QPU jobs (served as an artifact)

Revision ID: 0005_issue13
Revises: 0004_ledger_index
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_issue13"
down_revision = "0004_ledger_index"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("compiled", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("compiled")
