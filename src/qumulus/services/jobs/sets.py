"""Job sets: a list of circuits split into jobs on the server, kept together under one id.

Why server-side: a client that crashes half-way through submitting 40 jobs must not leave an
unknowable half-set behind (the legacy IBMQ JobManager's tag-based sets did). Here the set and every
member job are inserted in **one** durable transaction, each member through the ordinary submission
path (same validation, limits and queue), so a set exists completely or not at all.

Members are multi-circuit jobs. A member's place in the set (``index`` and ``first_experiment``, the
global index of its first circuit) is kept in its ``stats["job_set"]``; a rerun of a failed member is
a new job with the same place, and the newest job at each place is the set's current member.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import undefer

from qumulus.auth.permissions import Action
from qumulus.auth.principal import Principal
from qumulus.domain import ACTIVE, JobSpec, JobView
from qumulus.errors import InvalidCircuit, InvalidRequest, NotFound
from qumulus.services import paging
from qumulus.services.context import Context
from qumulus.services.jobs.lifecycle import cancel_in
from qumulus.services.jobs.submission import check_same_request, plan_submission, submit_job
from qumulus.store.models import Job, JobSet, new_id
from qumulus.timeutil import iso, utcnow

#: Circuits per member job when neither the request nor the server setting says otherwise.
DEFAULT_MAX_CIRCUITS = 5000
MAX_MEMBERS = 1000
_CIRCUIT_PATH = re.compile(r"^input\.circuits\[(\d+)\]")


@dataclass
class JobSetSpec:
    backend: str
    circuits: list[Any]
    name: str = ""
    tags: list[str] = field(default_factory=list)
    shots: int = 100
    gateset: str = "qis"
    max_experiments_per_job: int | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    noise: dict[str, Any] | None = None
    idempotency_key: str | None = None
    #: SHA-256 of the request (a retry under the same key must send the same one).
    idempotency_hash: str | None = None


def create_job_set(platform: Context, principal: Principal, spec: JobSetSpec) -> dict[str, Any]:
    """Split, validate every member, then insert the set and all members in one transaction."""
    principal.require(Action.JOB_SUBMIT)
    if spec.idempotency_key:
        existing = _by_key(platform, principal, spec)
        if existing is not None:
            return get_job_set(platform, principal, existing)
    cap = int(getattr(platform.settings, "max_circuits", DEFAULT_MAX_CIRCUITS) or DEFAULT_MAX_CIRCUITS)
    size = min(spec.max_experiments_per_job or cap, cap)
    chunks = [spec.circuits[i : i + size] for i in range(0, len(spec.circuits), size)]
    if len(chunks) > MAX_MEMBERS:
        raise InvalidRequest(
            f"max_experiments_per_job: {len(spec.circuits)} circuits at {size} per job make {len(chunks)} "
            f"jobs; a set has at most {MAX_MEMBERS}",
            field="max_experiments_per_job",
        )
    set_id = new_id()
    plans = []
    offset = 0
    for index, chunk in enumerate(chunks):
        member = JobSpec(
            backend=spec.backend,
            job_type="ionq.multi-circuit.v1",
            input={"gateset": spec.gateset, "circuits": chunk},
            shots=spec.shots,
            name=f"{spec.name}_{index}" if spec.name else None,
            metadata=spec.metadata,
            settings=spec.settings,
            noise=spec.noise,
            tags=spec.tags,
            idempotency_key=f"{spec.idempotency_key}#{index}" if spec.idempotency_key else None,
            idempotency_hash=spec.idempotency_hash,
            job_set_id=set_id,
            job_set_member={"index": index, "first_experiment": offset},
        )
        try:
            plan = plan_submission(platform, principal, member)
        except InvalidCircuit as exc:
            raise _global_circuit_error(exc, offset) from None
        if isinstance(plan, JobView):  # an earlier attempt's member: that attempt won
            assert plan.job.job_set_id is not None
            return get_job_set(platform, principal, plan.job.job_set_id)
        plans.append(plan)
        offset += len(chunk)

    def insert_all(conn: Connection) -> None:
        conn.execute(
            insert(JobSet).values(
                id=set_id,
                project_id=principal.project_id,
                name=spec.name,
                tags=spec.tags,
                created_by=principal.user_id,
                created_at=utcnow(),
            )
        )
        for plan in plans:
            plan(conn)

    try:
        platform.committer.run(insert_all)
    except IntegrityError:
        existing = _by_key(platform, principal, spec) if spec.idempotency_key else None
        if existing is None:
            raise
        return get_job_set(platform, principal, existing)  # a concurrent retry won the race
    platform.waker.notify(len(spec.circuits))
    return get_job_set(platform, principal, set_id)


def _global_circuit_error(exc: InvalidCircuit, offset: int) -> InvalidCircuit:
    """``input.circuits[j]...`` of one member → ``circuits[offset + j]...`` of the whole request."""
    where = exc.field or ""
    match = _CIRCUIT_PATH.match(where)
    if match is None:
        return exc
    path = f"circuits[{offset + int(match.group(1))}]{where[match.end() :]}"
    message = exc.message.replace(where, path) if where in exc.message else f"{path}: {exc.message}"
    return InvalidCircuit(message, field=path)


def _by_key(platform: Context, principal: Principal, spec: JobSetSpec) -> str | None:
    """The set an earlier request with this key made; 422 if that request was a different one."""
    with platform.db.read() as session:
        row = session.execute(
            select(Job.job_set_id, Job.idempotency_hash).where(
                Job.project_id == principal.project_id, Job.idempotency_key == f"{spec.idempotency_key}#0"
            )
        ).first()
    if row is None:
        return None
    check_same_request(spec.idempotency_key, row.idempotency_hash, spec.idempotency_hash)
    return row.job_set_id


def _owned_set(session: Any, principal: Principal, set_id: str) -> JobSet:
    row = session.get(JobSet, set_id) if isinstance(set_id, str) and len(set_id) <= 64 else None
    if row is None or row.project_id != principal.project_id:
        raise NotFound(f"Job set {set_id} not found.")
    return row


def _members(session: Any, set_id: str, *, with_input: bool = False) -> tuple[list[Job], list[Job]]:
    """(current member per index in index order, superseded members)."""
    stmt = select(Job).where(Job.job_set_id == set_id, Job.parent_id.is_(None), Job.deleted_at.is_(None))
    if with_input:
        stmt = stmt.options(undefer(Job.input))
    rows = list(session.scalars(stmt.order_by(Job.submitted_at, Job.id)))
    current: dict[int, Job] = {}
    superseded: list[Job] = []
    for job in rows:  # oldest first: a later job at the same index replaces the earlier one
        index = int(((job.stats or {}).get("job_set") or {}).get("index", 0))
        if index in current:
            superseded.append(current[index])
        current[index] = job
    return [current[i] for i in sorted(current)], superseded


def combined_status(statuses: Sequence[str]) -> str:
    """One status for the set, in the jobs' own vocabulary."""
    if not statuses:
        return "completed"
    if any(s in ACTIVE for s in statuses):
        progressed = any(s not in ("submitted", "ready") for s in statuses)
        return "started" if progressed else "ready"
    if "failed" in statuses:
        return "failed"
    if "canceled" in statuses:
        return "canceled"
    return "completed"


def _summary(job_set: JobSet, members: list[Job], superseded: list[Job]) -> dict[str, Any]:
    counts: dict[str, int] = {}
    for job in members:
        counts[job.status] = counts.get(job.status, 0) + 1
    entries = []
    total = 0
    for job in members:
        place = (job.stats or {}).get("job_set") or {}
        first = int(place.get("first_experiment", total))
        size = int((job.stats or {}).get("circuits", 0))
        total = max(total, first + size)
        entry: dict[str, Any] = {
            "id": job.id,
            "index": int(place.get("index", 0)),
            "name": job.name,
            "status": job.status,
            "backend": job.backend,
            "experiments": [first, first + size],
        }
        if job.status == "failed" and job.failure:
            entry["failure"] = job.failure
        entries.append(entry)
    return {
        "id": job_set.id,
        "name": job_set.name,
        "tags": job_set.tags or [],
        "created_at": iso(job_set.created_at),
        "status": combined_status([j.status for j in members]),
        "counts": counts,
        "experiments": total,
        "jobs": entries,
        "superseded_job_ids": [j.id for j in superseded],
    }


def get_job_set(platform: Context, principal: Principal, set_id: str) -> dict[str, Any]:
    principal.require(Action.JOB_READ)
    with platform.db.read() as session:
        job_set = _owned_set(session, principal, set_id)
        members, superseded = _members(session, set_id)
        return _summary(job_set, members, superseded)


def list_job_sets(
    platform: Context,
    principal: Principal,
    limit: int | None,
    cursor: str | None,
    *,
    name: str | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """Newest first, cursor-paged; each entry without its member list (GET the set for that).
    ``name``: only the sets of exactly that name (IBMQ's ``job_sets(name=)``), before the cursor."""
    principal.require(Action.JOB_READ)
    size = paging.check_limit(limit)
    query = select(JobSet).where(JobSet.project_id == principal.project_id)
    if name is not None:
        query = query.where(JobSet.name == name)
    stmt = paging.newest_first(
        query,
        JobSet.created_at,
        JobSet.id,
        size,
        cursor,
    )
    with platform.db.read() as session:
        rows, next_cursor = paging.split(list(session.scalars(stmt)), size, lambda s: (s.created_at, s.id))
        out = []
        for job_set in rows:
            members, superseded = _members(session, job_set.id)
            summary = _summary(job_set, members, superseded)
            summary.pop("jobs")
            out.append(summary)
    return out, next_cursor


def cancel_job_set(platform: Context, principal: Principal, set_id: str) -> dict[str, Any]:
    """Cancel every active member (finished ones keep their results)."""
    with platform.db.write() as session:
        _owned_set(session, principal, set_id)
        principal.require(Action.JOB_CANCEL)
        members, _ = _members(session, set_id)
        for job in members:
            if job.status in ACTIVE:
                cancel_in(session, job)
    platform.work_canceled()  # running members stop simulating now
    return get_job_set(platform, principal, set_id)


def rerun_failed(platform: Context, principal: Principal, set_id: str) -> dict[str, Any]:
    """Submit again, from the circuits the server kept, every member that failed or was canceled.

    Works from any process: the client needs only the set id.
    """
    principal.require(Action.JOB_SUBMIT)
    with platform.db.read() as session:
        _owned_set(session, principal, set_id)
        members, _ = _members(session, set_id, with_input=True)
        specs = [
            JobSpec(
                backend=job.backend,
                job_type=job.type,
                input=job.input or {},
                shots=job.shots,
                name=job.name,
                metadata=job.job_metadata or {},
                settings=job.settings or {},
                noise=job.noise,
                tags=list(job.tags or []),
                job_set_id=set_id,
                job_set_member=(job.stats or {}).get("job_set"),
            )
            for job in members
            if job.status in ("failed", "canceled")
        ]
    for spec in specs:
        submit_job(platform, principal, spec)
    return get_job_set(platform, principal, set_id)
