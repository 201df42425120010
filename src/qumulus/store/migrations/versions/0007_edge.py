"""jobs.idempotency_hash: the request an Idempotency-Key was first used with

Revision ID: 0007_edge
Revises: 0006_issue15
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_edge"
down_revision = "0006_issue15"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("idempotency_hash", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("idempotency_hash")
