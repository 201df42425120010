"""workloads and workload_progress: hybrid quantum-function and optimization jobs (issue 14)

Revision ID: 0008_workloads
Revises: 0007_edge
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from qumulus.store.models import UTCDateTime

revision = "0008_workloads"
down_revision = "0007_edge"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "workloads",
        sa.Column("job_id", sa.String(length=36), nullable=False),
        sa.Column("backend", sa.String(length=100), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("lease_owner", sa.String(length=100), nullable=True),
        sa.Column("lease_expires_at", UTCDateTime(), nullable=True),
        sa.Column("evaluations", sa.Integer(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("best_value", sa.Float(), nullable=True),
        sa.Column("best_params", sa.JSON(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["job_id"], ["jobs.id"], name=op.f("fk_workloads_job_id_jobs")),
        sa.PrimaryKeyConstraint("job_id", name=op.f("pk_workloads")),
    )
    op.create_index("ix_workloads_state", "workloads", ["state", "lease_expires_at"])
    op.create_table(
        "workload_progress",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("workload_id", sa.String(length=36), nullable=False),
        sa.Column("iteration", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.String(length=36), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("variance", sa.Float(), nullable=True),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("usage_seconds", sa.Float(), nullable=True),
        sa.Column("finished_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workload_id"], ["jobs.id"], name=op.f("fk_workload_progress_workload_id_jobs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workload_progress")),
        sa.UniqueConstraint("workload_id", "iteration", name=op.f("uq_workload_progress_workload_id")),
    )
    op.create_index(
        op.f("ix_workload_progress_workload_id"), "workload_progress", ["workload_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_workload_progress_workload_id"), table_name="workload_progress")
    op.drop_table("workload_progress")
    op.drop_index("ix_workloads_state", table_name="workloads")
    op.drop_table("workloads")
