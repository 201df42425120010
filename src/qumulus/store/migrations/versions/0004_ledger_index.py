"""usage ledger index for allocation usage (organization, backend, recorded_at)

Revision ID: 0004_ledger_index
Revises: 0003_backendstatus
"""

from __future__ import annotations

from alembic import op

revision = "0004_ledger_index"
down_revision = "0003_backendstatus"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_usage_ledger_org_backend_at", "usage_ledger", ["organization_id", "backend", "recorded_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_usage_ledger_org_backend_at", table_name="usage_ledger")
