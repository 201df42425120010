"""driver-served backends: provider job ids on executions, backend driver declarations

Revision ID: 0006_issue15
Revises: 0005_issue13
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from qumulus.store.models import UTCDateTime

revision = "0006_issue15"
down_revision = "0005_issue13"
branch_labels = None
depends_on = None

_AT_PROVIDER = "provider_status IN ('queued', 'running')"


def upgrade() -> None:
    with op.batch_alter_table("executions") as batch:
        batch.add_column(sa.Column("provider_job_id", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("provider_status", sa.String(length=20), nullable=True))
    op.create_index(
        "ix_executions_at_provider",
        "executions",
        ["backend", "state"],
        sqlite_where=sa.text(_AT_PROVIDER),
        postgresql_where=sa.text(_AT_PROVIDER),
    )
    op.create_table(
        "backend_drivers",
        sa.Column("backend", sa.String(length=100), nullable=False),
        sa.Column("driver", sa.String(length=100), nullable=False),
        sa.Column("declaration", sa.JSON(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["backend"], ["backends.name"], name=op.f("fk_backend_drivers_backend_backends")
        ),
        sa.PrimaryKeyConstraint("backend", name=op.f("pk_backend_drivers")),
    )


def downgrade() -> None:
    op.drop_table("backend_drivers")
    op.drop_index("ix_executions_at_provider", table_name="executions")
    with op.batch_alter_table("executions") as batch:
        batch.drop_column("provider_status")
        batch.drop_column("provider_job_id")
