"""What a notification says about a job: its v0.4 JSON, read at delivery time by the notifier.

Read when delivering rather than when the job finishes, so the completion transaction writes one
small row and reads nothing.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from qumulus.domain import JobView
from qumulus.store.db import Database
from qumulus.store.models import Job
from qumulus.wire.jobs import job_v04

_FIELDS = [attr.key for attr in Job.__mapper__.column_attrs if attr.key != "input"]
_BY_ID = select(*(getattr(Job, name).label(name) for name in _FIELDS))
_CHILDREN = select(Job.id).order_by(Job.child_index)


def job_payload(db: Database, job_id: str) -> dict[str, Any] | None:
    """The job as its owner's API would show it, or None if it was deleted."""
    with db.connect() as conn:
        row = conn.execute(_BY_ID.where(Job.id == job_id)).first()
        if row is None or row.deleted_at is not None:
            return None
        child_ids = None
        if row.type == "ionq.multi-circuit.v1":
            child_ids = list(conn.scalars(_CHILDREN.where(Job.parent_id == job_id)))
    return job_v04(JobView(job=row, child_ids=child_ids))  # type: ignore[arg-type]
