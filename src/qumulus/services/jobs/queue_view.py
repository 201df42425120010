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
* **Wait.** Executions *of the job's size class* ahead (claimed ones beyond the lanes included) ÷
  the lanes that class may use, times the mean run time, plus half a run time when every such lane
  is busy (the mean residual of the running work). Lanes (``scheduling/lanes.py``): long work (wider
  than 16 qubits, or emulated) may hold all slots of the pool but one; short work has the rest,
  whatever runs on *other* backends — the pool is shared, so running work is counted across every
  backend. A claimed execution's job reads as
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

from qumulus.backends.catalog import emulation_target
from qumulus.runtime import fairshare
from qumulus.scheduling import lanes as lanes_mod
from qumulus.scheduling.charging import DEFAULT_ESTIMATE_S
from qumulus.scheduling.policy import select_next
from qumulus.services.context import Context
from qumulus.sim.cost import QULACS_GATE_AMP
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
    #: top-level job id -> executions of its own size class ahead of its first one
    ahead_in_class: dict[str, int] = field(default_factory=dict)
    #: top-level job id -> whether it is long-class work (scheduling/lanes.py)
    long_jobs: dict[str, bool] = field(default_factory=dict)
    #: running executions in the whole pool (every backend), by class
    running_long: int = 0
    running_short: int = 0
    #: queued executions by class, for jobs newer than the refresh
    queued_long: int = 0
    #: long work: predicted seconds of the long executions queued ahead of a job's first one, all
    #: of them, and half the predicted seconds of the long work running in the pool (its residual)
    long_seconds_ahead: dict[str, float] = field(default_factory=dict)
    long_seconds_queued: float = 0.0
    long_residual_s: float = 0.0

    def place(self, job_id: str) -> tuple[int, int]:
        """(position among jobs, executions ahead); a job newer than the refresh goes last."""
        return self.positions.get(job_id) or (self.pending_jobs, self.queued)

    def figures(self, job_id: str, status: str, long: bool | None = None) -> dict[str, Any]:
        """The job-object fields for one active job of this backend (``long``: its size class,
        when the caller knows it and the refresh may not)."""
        count = max(1, self.executions.get(job_id, 1))
        out: dict[str, Any] = {"predicted_execution_duration_ms": int(count * self.per_execution_s * 1000)}
        if status == "started":
            out["predicted_wait_time_ms"] = 0
            return out
        position, _ = self.place(job_id)
        long = self.long_jobs.get(job_id, bool(long))
        if job_id in self.ahead_in_class:
            ahead = self.ahead_in_class[job_id]
        else:
            ahead = self.queued_long if long else self.queued - self.queued_long
        if long:  # long runs differ by orders of magnitude: their own predictions, not a mean
            lanes = lanes_mod.long_lanes(self.slots)
            seconds = self.long_seconds_ahead.get(job_id, self.long_seconds_queued)
            wait = (seconds + (self.long_residual_s if self.running_long >= lanes else 0.0)) / lanes
            out["queue_position"] = position
            out["predicted_wait_time_ms"] = int(wait * 1000)
            return out
        else:
            lanes, busy = lanes_mod.short_lanes(self.slots, self.running_long), self.running_short
        # Claimed executions beyond the lanes wait in a worker's hands: they go first.
        ahead += max(0, busy - lanes)
        wait = math.ceil(ahead / lanes) * self.per_execution_s
        if busy >= lanes:
            wait += self.per_execution_s / 2  # the mean residual of the work on the busy lanes
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
            select(
                Execution.id,
                Execution.state,
                func.coalesce(Job.parent_id, Job.id),
                fairshare.short_class().label("short"),
            )
            .join(Job, Job.id == Execution.job_id)
            .where(Execution.backend == backend, Execution.state.in_(("queued", "running")))
            .order_by(Execution.created_at, Execution.id)
        ).all()
        # The pool is shared by every backend it simulates: running work is counted everywhere.
        pool = conn.execute(
            select(fairshare.short_class().label("short"), Job.stats)
            .join(Job, Job.id == Execution.job_id)
            .where(Execution.state == "running")
        ).all()
        long_ids = [r[0] for r in rows if not r[3]]
        long_stats = (
            dict(
                conn.execute(
                    select(Execution.id, Job.stats)
                    .join(Job, Job.id == Execution.job_id)
                    .where(Execution.id.in_(long_ids))
                ).all()
            )
            if long_ids
            else {}
        )
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
    for short, stats in pool:
        if short:
            result.running_short += 1
        else:
            result.running_long += 1
            result.long_residual_s += run_seconds(stats) / 2
    long_of = {r[0]: not r[3] for r in rows}
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
    in_class = {True: 0, False: 0}
    long_s = 0.0
    for index, execution_id in enumerate(ordered):
        job_id = top_of.get(execution_id)
        long = long_of.get(execution_id, False)
        if job_id is not None and job_id not in result.positions:
            result.positions[job_id] = (len(result.positions), index)
            result.ahead_in_class[job_id] = in_class[long]
            result.long_jobs[job_id] = long
            result.long_seconds_ahead[job_id] = long_s
        in_class[long] += 1
        if long:
            long_s += run_seconds(long_stats.get(execution_id))
    result.long_seconds_queued = long_s
    result.pending_jobs = len(result.positions)
    result.queued = len(ordered)
    result.queued_long = in_class[True]
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
    return backend_queue(platform, job.backend).figures(job.id, job.status, _is_long(job))


def cached_job_figures(platform: Context, job: Job) -> dict[str, Any] | None:
    found = cached(platform, job.backend)
    return found.figures(job.id, job.status, _is_long(job)) if found is not None else None


#: Seconds per gate per amplitude of an ideal state-vector run (sim/cost.py's qulacs figure, with
#: its per-amplitude overhead): the prediction of a long ideal simulation, which has no other.
_GATE_AMP_S = 2 * QULACS_GATE_AMP


def run_seconds(stats: dict[str, Any] | None) -> float:
    """Predicted wall time of one long execution: the emulator's prediction made at submission
    (``stats.predicted_emulation_ms``), else gates × 2^qubits × the per-amplitude cost."""
    stats = stats or {}
    predicted = stats.get("predicted_emulation_ms")
    if isinstance(predicted, int | float):
        return float(predicted) / 1000
    qubits = stats.get("qubits") if isinstance(stats.get("qubits"), int) else 0
    counts = stats.get("gate_counts") or {}
    gates = sum(v for v in counts.values() if isinstance(v, int)) if isinstance(counts, dict) else 0
    return max(gates, 1) * (2.0 ** min(int(qubits), 40)) * _GATE_AMP_S


def _is_long(job: Job) -> bool:
    """The job's size class (scheduling/lanes.py), from what it declared at submission."""
    qubits = (job.stats or {}).get("qubits")
    emulated = emulation_target(job.backend, job.noise) is not None
    return lanes_mod.is_long(qubits if isinstance(qubits, int) else 0, emulated)
