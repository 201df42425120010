"""What a waiting job can expect: its place in the queue, when it should start and end, and what it
should cost — the figures the console shows while a job waits.

The place and the times are the REST API's own (``queue_position``, ``predicted_wait_time_ms``,
``predicted_execution_duration_ms`` from :mod:`.queue_view`), so the page and ``GET /jobs/{id}``
agree. The cost is the estimate made at submission (``jobs.estimated_seconds``, per executable
job) at the rate of the contract in force: what admission held against the budget, when there is
one (``jobs.budget_hold``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from qumulus.accounting.budget import estimated_cost, money
from qumulus.auth.permissions import Action
from qumulus.auth.principal import Principal
from qumulus.domain import ACTIVE, JobView
from qumulus.services.billing import contracts
from qumulus.services.context import Context
from qumulus.services.jobs import queue_view
from qumulus.store.models import Job
from qumulus.timeutil import utcnow


@dataclass(frozen=True)
class Outlook:
    #: Jobs that start before this one on its backend (0: next); None once it has started.
    position: int | None
    starts_at: datetime | None
    ends_at: datetime | None
    estimated_seconds: float | None
    estimated_cost: Decimal | None
    currency: str
    #: What admission holds against the project's budget for it (None: no budget in force).
    held: Decimal | None


def outlook(platform: Context, principal: Principal, view: JobView) -> Outlook | None:
    """The outlook of an active top-level job; None for a finished job, a child or a dry run."""
    principal.require(Action.JOB_READ)
    job = view.job
    if job.status not in ACTIVE or job.parent_id is not None or job.dry_run:
        return None
    figures = queue_view.job_figures(platform, job)
    now = utcnow()
    wait_s = figures.get("predicted_wait_time_ms", 0) / 1000
    run_s = figures.get("predicted_execution_duration_ms", 0) / 1000
    started = job.started_at if job.status == "started" and job.started_at is not None else None
    starts_at = started or now + timedelta(seconds=wait_s)
    seconds, held = _estimate_and_hold(platform, job)
    price = contracts.prices(platform, principal, [job.backend]).get(job.backend)
    cost = None
    if seconds is not None:
        cost = (
            held
            if held is not None
            else estimated_cost(seconds, price.rate_per_second if price else Decimal(0))
        )
    return Outlook(
        position=figures.get("queue_position") if job.status != "started" else None,
        starts_at=starts_at,
        ends_at=max(starts_at + timedelta(seconds=run_s), now),
        estimated_seconds=seconds,
        estimated_cost=cost,
        currency=price.currency if price else "USD",
        held=held,
    )


def _estimate_and_hold(platform: Context, job: Job) -> tuple[float | None, Decimal | None]:
    """The job's estimated seconds and budget hold, summed over its children for a multi-circuit job."""
    if job.type != "ionq.multi-circuit.v1":
        return job.estimated_seconds, (money(job.budget_hold) if job.budget_hold is not None else None)
    with platform.db.read() as session:
        seconds, held, holding = session.execute(
            select(
                func.sum(Job.estimated_seconds), func.sum(Job.budget_hold), func.count(Job.budget_id)
            ).where(Job.parent_id == job.id)
        ).one()
    return (
        float(seconds) if seconds is not None else None,
        money(held) if holding and held is not None else None,
    )


def predicted_done_within(platform: Context, job: Job, seconds: float) -> bool:
    """Whether a job just submitted is predicted to be final within ``seconds`` — the rule for the
    wait of ``POST /jobs`` (``QUMULUS_SUBMIT_WAIT_MS``), called on the event loop (no I/O).

    Waiting is for jobs that finish in it, so that their first GET has results; for any other job it
    only slowed a sequential client to ~2 submissions a second (issue 16.13). Predicted end = the
    queue ahead (the backend's figures when this process has fresh ones; none read here) + the run:
    the emulator's predicted wall time for emulated jobs, else the state-vector cost model
    (``sim.routing.sv_seconds``) on the job's width, gate count and shots. A driver-served backend
    (a real device) never finishes within a request.
    """
    if seconds <= 0 or job.status in ("completed", "failed", "canceled"):
        return False
    from qumulus.backends.catalog import BY_NAME
    from qumulus.sim.routing import sv_seconds

    if job.backend not in BY_NAME:
        return False  # driver-served: a provider's queue
    stats = job.stats or {}
    emulated_ms = stats.get("predicted_emulation_ms")
    if emulated_ms is not None:
        run_s = emulated_ms / 1000
    else:
        gates = sum((stats.get("gate_counts") or {}).values())
        circuits = max(1, int(stats.get("circuits") or 1))
        qubits = int(stats.get("qubits") or 1)
        run_s = circuits * sv_seconds("qulacs", qubits, max(1, gates // circuits), job.shots or 0)
    figures = queue_view.cached_job_figures(platform, job)
    wait_s = (figures or {}).get("predicted_wait_time_ms", 0) / 1000
    return wait_s + run_s <= seconds
