"""Queue visibility: where an active job stands, and how busy each backend is.

Job objects (v0.4, active jobs only) gain ``queue_position`` (0 = next to start on its backend),
``predicted_wait_time_ms`` and ``predicted_execution_duration_ms``; backends gain a measured
``average_queue_time`` and ``pending_jobs``. Everything comes from per-backend figures computed at
most once every :data:`TTL_S` seconds per process and shared by every reader, so polling clients
cost no extra query, and completed jobs never touch this module.

How the figures are made (approximations, stated):

* **Order.** The claim's own snapshot (``runtime.fairshare.snapshot``) with a wide window, run
  through the real policy (``select_next``) for every queued execution: the order the scheduler
  would take them *now*, if nothing new arrived and nothing finished differently. Executions the
  policy would hold back (a reservation of another organization, an exhausted allocation) or that
  lie beyond the window come after, oldest first. A job's position counts the distinct jobs whose
  first execution comes before its own.
* **Run time.** The backend's decayed mean execution time, the number the policy itself uses
  (``scheduling.charging.estimate``). On QPUs the measured seconds are the timing model's
  (``backends/timing.py``), since that is what the emulated device runs and bills.
* **Wait.** Executions ahead (claimed ones beyond the parallel slots included) ÷ the backend's
  parallel slots (the worker pool size), times the mean run time, plus half a run time when every
  slot is busy (the mean residual of the running work). A claimed execution's job reads as
  ``started`` from the claim on; a claim takes many small circuits but at most one large one, so
  only a little work waits in a worker's hands (shown as started, predicted wait 0).
* **Backend queue time.** Mean ``ready_at → started_at`` of the backend's last
  :data:`QUEUE_SAMPLE` started jobs (one indexed query per refresh).
"""

from __future__ import annotations

import math
import os
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select

from qumulus.runtime import fairshare
from qumulus.scheduling.charging import DEFAULT_ESTIMATE_S
from qumulus.scheduling.policy import select_next
from qumulus.services.context import Context
from qumulus.store.models import Execution, Job
from qumulus.timeutil import utcnow

#: How long one backend's figures are reused, seconds.
TTL_S = 2.0
#: Queued executions per project the ordering looks at (the rest follow, oldest first).
WINDOW = 1000
#: Started jobs averaged for a backend's ``average_queue_time``.
QUEUE_SAMPLE = 100


@dataclass
class BackendQueue:
    """One backend's queue, as of one refresh."""

    #: top-level job id -> (position among jobs, executions ahead of its first one)
    positions: dict[str, tuple[int, int]] = field(default_factory=dict)
    #: top-level job id -> its executions still queued or running
    executions: dict[str, int] = field(default_factory=dict)
    per_execution_s: float = 0.0
    running: int = 0
    slots: int = 1
    #: jobs waiting to start (top-level jobs with a queued execution)
    pending_jobs: int = 0
    #: mean ready→started of recent jobs, milliseconds (None: no history)
    average_queue_ms: int | None = None
    #: queued executions at the refresh
    queued: int = 0

    def place(self, job_id: str) -> tuple[int, int]:
        """(position among jobs, executions ahead); a job newer than the refresh goes last."""
        return self.positions.get(job_id) or (self.pending_jobs, self.queued)

    def figures(self, job_id: str, status: str) -> dict[str, Any]:
        """The job-object fields for one active job of this backend."""
        count = max(1, self.executions.get(job_id, 1))
        out: dict[str, Any] = {"predicted_execution_duration_ms": int(count * self.per_execution_s * 1000)}
        if status == "started":
            out["predicted_wait_time_ms"] = 0
            return out
        position, ahead = self.place(job_id)
        # Claimed executions beyond the slots wait in a worker's hands: they go first.
        ahead += max(0, self.running - self.slots)
        wait = math.ceil(ahead / self.slots) * self.per_execution_s
        if self.running >= self.slots:
            wait += self.per_execution_s / 2  # the mean residual of the work on the busy slots
        out["queue_position"] = position
        out["predicted_wait_time_ms"] = int(wait * 1000)
        return out


_CACHE: dict[tuple[str, str], tuple[float, BackendQueue]] = {}
_REFRESH: dict[tuple[str, str], threading.Lock] = {}
_LOCK = threading.Lock()


def cached(platform: Context, backend: str) -> BackendQueue | None:
    """The backend's figures if fresh, without touching the database (callable on the event loop)."""
    with _LOCK:
        hit = _CACHE.get((str(platform.db.engine.url), backend))
    if hit is not None and time.monotonic() - hit[0] < TTL_S:
        return hit[1]
    return None


def backend_queue(platform: Context, backend: str) -> BackendQueue:
    """The backend's figures, refreshed when older than :data:`TTL_S` (blocking: thread pool).

    One thread refreshes a backend at a time; the others meanwhile get the previous figures when
    there are any, so a burst of polls on a long queue does not compute the order many times.
    """
    key = (str(platform.db.engine.url), backend)
    with _LOCK:
        hit = _CACHE.get(key)
        refreshing = _REFRESH.setdefault(key, threading.Lock())
    if hit is not None and time.monotonic() - hit[0] < TTL_S:
        return hit[1]
    if not refreshing.acquire(blocking=hit is None):
        assert hit is not None
        return hit[1]  # someone else is refreshing: the previous figures will do
    try:
        found = cached(platform, backend)  # refreshed while this thread waited
        if found is not None:
            return found
        fresh = _compute(platform, backend)
        with _LOCK:
            _CACHE[key] = (time.monotonic(), fresh)
        return fresh
    finally:
        refreshing.release()


def invalidate() -> None:
    with _LOCK:
        _CACHE.clear()


def _slots(platform: Context) -> int:
    return max(1, platform.settings.pool_processes or os.cpu_count() or 1)


def _compute(platform: Context, backend: str) -> BackendQueue:
    now = utcnow()
    with platform.db.connect() as conn:
        snap = fairshare.snapshot(conn, backends=[backend], limit=WINDOW, now=now)
        rows = conn.execute(
            select(Execution.id, Execution.state, func.coalesce(Job.parent_id, Job.id))
            .join(Job, Job.id == Execution.job_id)
            .where(Execution.backend == backend, Execution.state.in_(("queued", "running")))
            .order_by(Execution.created_at, Execution.id)
        ).all()
        recent = (
            select(Job.ready_at, Job.started_at)
            .where(Job.backend == backend, Job.parent_id.is_(None), Job.started_at.is_not(None))
            .order_by(Job.started_at.desc())
            .limit(QUEUE_SAMPLE)
            .subquery()
        )
        queue_ms = conn.scalar(
            select(func.avg(_ms_between(recent.c.ready_at, recent.c.started_at, conn.dialect.name)))
        )
    top_of = {r[0]: r[2] for r in rows}
    result = BackendQueue(slots=_slots(platform))
    result.running = sum(1 for r in rows if r[1] == "running")
    for r in rows:
        result.executions[r[2]] = result.executions.get(r[2], 0) + 1
    estimates = {c.estimate_seconds for c in snap.candidates}
    if estimates:
        result.per_execution_s = max(estimates)  # one number per backend: all equal
    elif snap.running and result.running:
        result.per_execution_s = sum(r.seconds for r in snap.running) / result.running
    else:
        result.per_execution_s = DEFAULT_ESTIMATE_S
    ordered = [c.id for c in select_next(snap, len(snap.candidates))]
    seen = set(ordered)
    ordered += [r[0] for r in rows if r[1] == "queued" and r[0] not in seen]  # held back or beyond the window
    for index, execution_id in enumerate(ordered):
        job_id = top_of.get(execution_id)
        if job_id is not None and job_id not in result.positions:
            result.positions[job_id] = (len(result.positions), index)
    result.pending_jobs = len(result.positions)
    result.queued = len(ordered)
    if queue_ms is not None:
        result.average_queue_ms = max(0, int(float(queue_ms)))
    return result


def _ms_between(start: Any, end: Any, dialect: str) -> Any:
    """``end - start`` in milliseconds, in SQL."""
    if dialect == "postgresql":
        return func.extract("epoch", end - start) * 1000
    return (func.julianday(end) - func.julianday(start)) * 86_400_000


def job_figures(platform: Context, job: Job) -> dict[str, Any]:
    """Queue fields for an active top-level job (blocking when the backend's figures are stale)."""
    return backend_queue(platform, job.backend).figures(job.id, job.status)


def cached_job_figures(platform: Context, job: Job) -> dict[str, Any] | None:
    found = cached(platform, job.backend)
    return found.figures(job.id, job.status) if found is not None else None
