"""A job's submitted circuits, for the console's circuit summary and drawing.

The job listing and ``get_job`` leave ``input`` out (it can be megabytes); this reads it only for the
one job a person opens, after the same ownership check as every job read.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from qumulus.auth.principal import Principal
from qumulus.circuits import CircuitBatch, parse_input
from qumulus.circuits.errors import CircuitError
from qumulus.services.context import Context
from qumulus.services.jobs.queries import get_job
from qumulus.store.models import Job


def job_input(platform: Context, principal: Principal, job_id: str) -> dict[str, Any] | None:
    """The stored input of a job the caller can read (404 otherwise, as for any job read)."""
    get_job(platform, principal, job_id)
    with platform.db.read() as session:
        return session.scalar(select(Job.input).where(Job.id == job_id))


def job_circuits(platform: Context, principal: Principal, job_id: str) -> CircuitBatch | None:
    """The job's circuits parsed again (they were valid at submission), or None if not stored."""
    view = get_job(platform, principal, job_id)
    payload = job_input(platform, principal, job_id)
    if not payload:
        return None
    try:
        return parse_input(view.job.type, payload)
    except CircuitError:
        return None
