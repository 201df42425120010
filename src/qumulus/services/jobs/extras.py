"""Job use cases the SDK needs beyond the IonQ API: bulk status, name/tag updates, queue position,
the project's job limit.

Same rules as ``services/jobs.py``: a job outside the caller's project is "not found", never
"forbidden", so nothing leaks across tenants.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update

from qumulus.auth.permissions import Action
from qumulus.auth.principal import Principal
from qumulus.domain import ACTIVE, JobView
from qumulus.services.context import Context
from qumulus.services.jobs import queue_view
from qumulus.services.jobs.queries import owned, view_of
from qumulus.store.models import Execution, Job, Project
from qumulus.timeutil import utcnow

#: Finished executions averaged for a queue estimate.
ESTIMATE_SAMPLE = 100


def bulk_status(
    platform: Context, principal: Principal, ids: Sequence[str]
) -> tuple[list[dict[str, Any]], list[str]]:
    """``([{id, status, failure?, name, backend}], ids not found)``: one query for many jobs."""
    principal.require(Action.JOB_READ)
    with platform.db.connect() as conn:
        rows = conn.execute(
            select(
                Job.id, Job.status, Job.failure, Job.name, Job.backend, Job.project_id, Job.deleted_at
            ).where(Job.id.in_(list(ids)))
        ).all()
    found = {r.id: r for r in rows if r.project_id == principal.project_id and r.deleted_at is None}
    jobs: list[dict[str, Any]] = []
    for job_id in ids:
        row = found.get(job_id)
        if row is None:
            continue
        item: dict[str, Any] = {"id": row.id, "status": row.status, "name": row.name, "backend": row.backend}
        if row.status == "failed" and row.failure:
            item["failure"] = row.failure
        jobs.append(item)
    return jobs, [i for i in ids if i not in found]


def update_job(platform: Context, principal: Principal, job_id: str, changes: dict[str, Any]) -> JobView:
    """Rename a job and/or replace its tags (the SDK's ``update_name`` / ``update_tags``)."""
    with platform.db.write() as session:
        job = owned(session, principal, job_id)
        principal.require(Action.JOB_SUBMIT)
        if changes:
            session.execute(update(Job).where(Job.id == job.id).values(**changes))
            for key, value in changes.items():
                setattr(job, key, value)
        return view_of(session, job)


@dataclass
class QueueInfo:
    """Where a job stands. ``position`` is 1 + the executions ahead of it on its backend, in the order
    the fair-share policy would start them now (services/queue_view.py), ``None`` once the job is no
    longer queued."""

    job_id: str
    status: str
    position: int | None
    ahead: int
    estimated_start: datetime | None
    estimated_complete: datetime | None


def queue_info(platform: Context, principal: Principal, job_id: str) -> QueueInfo:
    principal.require(Action.JOB_READ)
    with platform.db.read() as session:
        job = owned(session, principal, job_id)
        ids = [job.id, *session.scalars(select(Job.id).where(Job.parent_id == job.id))]
        mine = session.execute(
            select(func.min(Execution.created_at), func.count()).where(
                Execution.job_id.in_(ids), Execution.state == "queued"
            )
        ).one()
        first_queued, queued_count = mine
        running = session.scalar(
            select(func.count()).where(Execution.job_id.in_(ids), Execution.state == "running")
        )
        if job.status not in ACTIVE or (first_queued is None and not running):
            return QueueInfo(job.id, job.status, None, 0, None, None)
        per_execution = _mean_execution_seconds(session, job.backend)
    ahead = 0
    if first_queued is not None:  # executions ahead in the scheduler's order (services/queue_view.py)
        ahead = queue_view.backend_queue(platform, job.backend).place(job.id)[1]
    parallel = max(1, platform.settings.pool_processes or os.cpu_count() or 1)
    now = utcnow()
    start = end = None
    if per_execution is not None:
        start = now if first_queued is None else now + timedelta(seconds=ahead * per_execution / parallel)
        end = start + timedelta(seconds=max(1, queued_count + (running or 0)) * per_execution / parallel)
    position = ahead + 1 if first_queued is not None else 0
    return QueueInfo(job.id, job.status, position, ahead, start, end)


def _mean_execution_seconds(session: Any, backend: str) -> float | None:
    recent = (
        select(Execution.usage_seconds)
        .where(Execution.backend == backend, Execution.state == "done", Execution.usage_seconds.is_not(None))
        .order_by(Execution.finished_at.desc())
        .limit(ESTIMATE_SAMPLE)
        .subquery()
    )
    mean = session.scalar(select(func.avg(recent.c.usage_seconds)))
    return float(mean) if mean is not None else None


def job_limit(platform: Context, principal: Principal) -> dict[str, int | None]:
    """``{maximum_jobs, active_jobs}`` for the caller's project; ``maximum_jobs`` None = unlimited.

    The cap is the project's ``max_queued_jobs``, else the platform's ``max_queued_jobs`` setting when
    this server has one.
    """
    principal.require(Action.JOB_READ)
    with platform.db.read() as session:
        own = session.scalar(select(Project.max_queued_jobs).where(Project.id == principal.project_id))
        active = session.scalar(
            select(func.count()).where(
                Job.project_id == principal.project_id,
                Job.parent_id.is_(None),
                Job.deleted_at.is_(None),
                Job.status.in_(ACTIVE),
            )
        )
    default = getattr(platform.settings, "max_queued_jobs", None)
    maximum = own if own is not None and own >= 0 else default
    return {"maximum_jobs": maximum, "active_jobs": int(active or 0)}
