"""Reading a workload: its progress rows (``GET /jobs/{id}/progress``) and its inline results."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from qumulus.auth.permissions import Action
from qumulus.auth.principal import Principal
from qumulus.domain import WORKLOAD_TYPES
from qumulus.services.context import Context
from qumulus.services.jobs.queries import owned
from qumulus.store.models import Workload, WorkloadProgress


@dataclass(frozen=True, slots=True)
class ProgressRow:
    iteration: int
    job_id: str | None
    status: str
    value: float | None
    variance: float | None
    params: list[float]
    finished_at: datetime


@dataclass
class WorkloadView:
    """A workload's state, best point and progress rows (``log_interval`` applied unless ``every``)."""

    job_id: str
    job_type: str
    status: str
    evaluations: int
    log_interval: int
    best_value: float | None
    best_params: list[float] | None
    result: dict[str, Any] | None
    rows: list[ProgressRow]


def shown(iterations: list[int], log_interval: int, best: int | None) -> set[int]:
    """Which iterations the progress lists: the first, every ``log_interval``-th, the last, and the
    best (so a client can always find its minimum among the rows)."""
    if not iterations:
        return set()
    keep = {i for i in iterations if i == 1 or i % log_interval == 0}
    keep.add(iterations[-1])
    if best is not None:
        keep.add(best)
    return keep


def workload(platform: Context, principal: Principal, job_id: str, *, every: bool = False) -> WorkloadView:
    principal.require(Action.JOB_READ)
    with platform.db.read() as session:
        job = owned(session, principal, job_id)
        state = session.get(Workload, job_id) if job.type in WORKLOAD_TYPES else None
        rows = (
            [
                ProgressRow(
                    r.iteration, r.job_id, r.status, r.value, r.variance, list(r.params), r.finished_at
                )
                for r in session.scalars(
                    select(WorkloadProgress)
                    .where(WorkloadProgress.workload_id == job_id)
                    .order_by(WorkloadProgress.iteration)
                )
            ]
            if state is not None
            else []
        )
        interval = int((job.stats or {}).get("log_interval") or 1)
        view = WorkloadView(
            job_id=job.id,
            job_type=job.type,
            status=job.status,
            evaluations=state.evaluations if state is not None else 0,
            log_interval=interval,
            best_value=state.best_value if state is not None else None,
            best_params=state.best_params if state is not None else None,
            result=state.result if state is not None else None,
            rows=rows,
        )
    if not every and interval > 1 and rows:
        best = min((r for r in rows if r.value is not None), key=lambda r: r.value, default=None)  # type: ignore[arg-type,return-value]
        keep = shown([r.iteration for r in rows], interval, best.iteration if best else None)
        view.rows = [r for r in rows if r.iteration in keep]
    return view


def inline_results(platform: Context, job_id: str) -> dict[str, Any] | None:
    """The ``results`` object of a completed workload job (what the ionq package reads inline)."""
    with platform.db.read() as session:
        return session.scalar(select(Workload.result).where(Workload.job_id == job_id))
