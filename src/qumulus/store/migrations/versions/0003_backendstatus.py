"""backend status history and scheduled maintenance windows

Revision ID: 0003_backendstatus
Revises: 0003_console
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from qumulus.store.models import UTCDateTime

revision = "0003_backendstatus"
down_revision = "0003_console"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "backend_status_events",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("backend", sa.String(length=100), nullable=False),
        sa.Column("at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("previous", sa.String(length=20), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("actor_user_id", sa.String(length=36), nullable=True),
        sa.ForeignKeyConstraint(
            ["backend"], ["backends.name"], name=op.f("fk_backend_status_events_backend_backends")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_backend_status_events")),
    )
    op.create_index("ix_backend_status_events_backend_at", "backend_status_events", ["backend", "at"])
    op.create_table(
        "maintenance_windows",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("backend", sa.String(length=100), nullable=False),
        sa.Column("starts_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_by", sa.String(length=36), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["backend"], ["backends.name"], name=op.f("fk_maintenance_windows_backend_backends")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_maintenance_windows")),
    )
    op.create_index("ix_maintenance_windows_backend_ends", "maintenance_windows", ["backend", "ends_at"])


def downgrade() -> None:
    op.drop_index("ix_maintenance_windows_backend_ends", table_name="maintenance_windows")
    op.drop_table("maintenance_windows")
    op.drop_index("ix_backend_status_events_backend_at", table_name="backend_status_events")
    op.drop_table("backend_status_events")
