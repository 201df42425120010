"""Job use cases: submit, read, list, cancel, delete.

The API hands over a :class:`JobSpec` (the wire body already normalised: aliases resolved, shots an
int); everything the platform promises about jobs is enforced here, whatever the entry point.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, bindparam, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from qumulus.auth.permissions import Action
from qumulus.auth.principal import Principal
from qumulus.backends.catalog import NOISE_MODELS, emulation_target, resolve_backend_name
from qumulus.circuits.errors import CircuitError
from qumulus.circuits.ionq_json import parse_input
from qumulus.circuits.model import CircuitBatch
from qumulus.errors import Conflict, InvalidCircuit, InvalidRequest, NotFound
from qumulus.notifications.outbox import JobEvent, Outbox
from qumulus.services import charging, job_filters, limits
from qumulus.services.platform import Platform
from qumulus.store.fast_write import insert_rows
from qumulus.store.models import Backend, Execution, Job, new_id
from qumulus.timeutil import utcnow

MAX_LIST_LIMIT = 1000
DEFAULT_LIST_LIMIT = 25
ACTIVE = ("submitted", "ready", "started")
TERMINAL = ("completed", "failed", "canceled")


@dataclass
class JobSpec:
    """A job request in the platform's terms (no wire quirks left)."""

    backend: str
    job_type: str | None
    input: dict[str, Any]
    shots: int = 100
    name: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    noise: dict[str, Any] | None = None
    dry_run: bool = False
    session_id: str | None = None
    tags: list[str] = field(default_factory=list)
    idempotency_key: str | None = None
    submitted_at: datetime | None = None
    #: Chosen by the caller when it wants to wait for this id before the insert happens.
    job_id: str | None = None
    #: A job set member: the set's id, and ``{"index", "first_experiment"}`` (kept in ``stats``).
    job_set_id: str | None = None
    job_set_member: dict[str, int] | None = None


@dataclass
class JobView:
    """A job as callers see it: the row plus its children in circuit order."""

    job: Job
    child_ids: list[str] | None = None
    #: Queue figures of an active job (services/queue_view.py), set by the v0.4 GET route.
    queue: dict[str, Any] | None = None


# submission ----------------------------------------------------------------------------------


def submit_job(platform: Platform, principal: Principal, spec: JobSpec) -> JobView:
    """Validate, then insert the job, its children and their executions in one transaction.

    The job is committed before this returns, so an id given to a client is never lost.
    """
    plan = plan_submission(platform, principal, spec)
    if isinstance(plan, JobView):
        return plan
    try:
        view = platform.committer.run(plan)
    except IntegrityError as exc:
        return _after_conflict(platform, principal, spec, exc)
    return _submitted(platform, spec, view)


async def submit_job_async(platform: Platform, principal: Principal, spec: JobSpec) -> JobView:
    """:func:`submit_job` for the event loop (embedded SQLite): validation runs here, the insert in
    the group-commit thread; nothing parks a request thread. Same rules, same durability."""
    plan = plan_submission(platform, principal, spec)
    if isinstance(plan, JobView):
        return plan
    try:
        view = await platform.committer.run_async(plan)
    except IntegrityError as exc:
        return _after_conflict(platform, principal, spec, exc)
    return _submitted(platform, spec, view)


def plan_submission(
    platform: Platform, principal: Principal, spec: JobSpec
) -> Callable[[Connection], JobView] | JobView:
    """Every check that needs no write; returns the insert to run in a transaction, or the job an
    earlier submission with the same idempotency key created."""
    principal.require(Action.JOB_SUBMIT)
    backend_name = resolve_backend_name(spec.backend)
    backend = _backend(platform, backend_name)
    settings = platform.settings
    limits.check_shots(spec.shots, settings.max_shots)
    noise = _check_noise(spec.noise, backend)
    limits.check_input_size(spec.input, max_gates=settings.max_gates, max_circuits=settings.max_circuits)
    try:
        batch = parse_input(spec.job_type, spec.input, max_qubits=_max_qubits(platform, backend, noise))
    except CircuitError as exc:
        raise InvalidCircuit(str(exc), field=exc.path) from None
    limits.check_batch_size(batch, max_gates=settings.max_gates, max_circuits=settings.max_circuits)

    if spec.idempotency_key:
        existing = _by_idempotency_key(platform, principal, spec.idempotency_key)
        if existing is not None:
            return existing

    charge = charging.plan_for(platform, principal, backend, batch, spec.shots, dry_run=spec.dry_run)

    def insert_job(conn: Connection) -> JobView:
        if not spec.dry_run:
            limits.check_queue_room(conn, principal.project_id, default_cap=settings.max_queued_jobs)
        if spec.session_id is not None:
            _check_session(conn, principal, spec.session_id, backend_name)
        hold = charging.apply(conn, principal, charge)
        return _insert(conn, principal, spec, backend_name, batch, noise, hold)

    return insert_job


def _after_conflict(platform: Platform, principal: Principal, spec: JobSpec, exc: IntegrityError) -> JobView:
    """An IntegrityError on insert: a concurrent retry with the same idempotency key won the race."""
    if spec.idempotency_key:
        existing = _by_idempotency_key(platform, principal, spec.idempotency_key)
        if existing is not None:
            return existing
    raise exc


def _submitted(platform: Platform, spec: JobSpec, view: JobView) -> JobView:
    if not spec.dry_run:
        platform.waker.notify(len(view.child_ids or [view.job.id]))
    return view


def _backend(platform: Platform, name: str) -> Backend:
    backend = platform.backends.get(name)
    if backend is None:
        raise InvalidRequest(
            f"backend: unknown backend {name!r}; GET /v0.4/backends lists them", field="backend"
        )
    if backend.status == "retired":
        raise InvalidRequest(f"backend: {name} is retired and accepts no new jobs", field="backend")
    if not backend.accepting_jobs:
        raise InvalidRequest(
            f"backend: {name} does not accept jobs: {backend.status_message}", field="backend"
        )
    return backend


def _check_noise(noise: dict[str, Any] | None, backend: Backend) -> dict[str, Any] | None:
    if noise is None:
        return {"model": "ideal", "seed": None} if backend.kind == "simulator" else None
    model = noise.get("model", "ideal")
    if not isinstance(model, str) or model not in NOISE_MODELS:
        raise InvalidRequest(
            f"noise.model: unknown model {model!r}; one of {', '.join(NOISE_MODELS)}", field="noise.model"
        )
    seed = noise.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise InvalidRequest("noise.seed: must be an integer or null", field="noise.seed")
    if backend.kind != "simulator":
        return None  # a QPU has its own noise; the ionq package rejects a listed QPU job with one
    return {"model": model, "seed": seed}


def _max_qubits(platform: Platform, backend: Backend, noise: dict[str, Any] | None) -> int:
    """A noisy simulation inherits the emulated QPU's width (wire spec §7.1)."""
    target = emulation_target(backend.name, noise)
    if target is None or target == backend.name:
        return backend.qubits
    qpu = platform.backends.get(target)
    return min(backend.qubits, qpu.qubits) if qpu is not None else backend.qubits


def _check_session(conn: Connection, principal: Principal, session_id: str, backend: str) -> None:
    """Existence, tenancy, backend, end and limits: :func:`qumulus.services.sessions.admit`."""
    from qumulus.services.sessions import admit

    admit(conn, principal, session_id, backend)


def _insert(
    connection: Connection,
    principal: Principal,
    spec: JobSpec,
    backend: str,
    batch: CircuitBatch,
    noise: dict[str, Any] | None,
    hold: charging.Hold | None = None,
) -> JobView:
    now = utcnow()
    submitted_at = spec.submitted_at or now
    status = "completed" if spec.dry_run else "ready"
    job_id = spec.job_id or new_id()
    multi = batch.multi
    base: dict[str, Any] = {
        "project_id": principal.project_id,
        "submitter_id": principal.user_id,
        "api_key_id": principal.api_key_id,
        "backend": backend,
        "name": spec.name,
        "shots": spec.shots,
        "job_metadata": spec.metadata,
        "settings": spec.settings,
        "noise": noise,
        "dry_run": spec.dry_run,
        "status": status,
        "submitted_at": submitted_at,
        "ready_at": now,
        "completed_at": now if spec.dry_run else None,
        "session_id": spec.session_id,
        "tags": spec.tags,
        "job_set_id": spec.job_set_id,
        "budget_id": hold.budget_id if hold else None,
    }
    holds = hold.amounts if hold and hold.amounts else [None] * len(batch.circuits)
    estimates = hold.seconds if hold else [None] * len(batch.circuits)
    circuits_raw = _raw_circuits(spec.input, multi)
    parent = {
        **base,
        "id": job_id,
        "type": "ionq.multi-circuit.v1" if multi else "ionq.circuit.v1",
        "input": _normalised_input(spec.input, batch, circuits_raw),
        "stats": {
            "qubits": batch.qubits,
            "circuits": len(batch.circuits),
            "gate_counts": batch.gate_counts(),
            **({"job_set": spec.job_set_member} if spec.job_set_member is not None else {}),
        },
        "idempotency_key": spec.idempotency_key,
        "parent_id": None,
        "child_index": None,
        "budget_hold": None if multi else holds[0],
        "estimated_seconds": None if multi else estimates[0],
    }
    rows = [parent]
    child_ids: list[str] | None = None
    if multi:
        child_ids = []
        for index, (circuit, raw) in enumerate(zip(batch.circuits, circuits_raw, strict=True)):
            child_id = new_id()
            child_ids.append(child_id)
            rows.append(
                {
                    **base,
                    "id": child_id,
                    "type": "ionq.circuit.v1",
                    "name": circuit.name if circuit.name is not None else spec.name,
                    "input": {"gateset": circuit.gateset, "qubits": circuit.qubits, "circuit": raw},
                    "stats": {"qubits": circuit.qubits, "circuits": 1, "gate_counts": circuit.gate_counts()},
                    "parent_id": job_id,
                    "child_index": index,
                    "idempotency_key": None,
                    "budget_hold": holds[index],
                    "estimated_seconds": estimates[index],
                }
            )
    # executemany takes its column list from the first row: every row carries the same keys.
    insert_rows(connection, Job.__table__, [_columns(row) for row in rows])
    if not spec.dry_run:
        runnable = rows[1:] if multi else rows
        insert_rows(
            connection,
            Execution.__table__,
            [
                {
                    "id": new_id(),
                    "job_id": row["id"],
                    "backend": backend,
                    "project_id": principal.project_id,
                    "organization_id": principal.organization_id,
                    "state": "queued",
                    "created_at": now,
                }
                for row in runnable
            ],
        )
    job = Job(**{k: v for k, v in parent.items()})
    return JobView(job=job, child_ids=child_ids)


def _columns(row: dict[str, Any]) -> dict[str, Any]:
    """Attribute names → column names (``job_metadata`` is stored in the ``metadata`` column)."""
    return {("metadata" if key == "job_metadata" else key): value for key, value in row.items()}


def _raw_circuits(payload: dict[str, Any], multi: bool) -> list[list[Any]]:
    if multi:
        return [c.get("circuit", []) for c in payload.get("circuits", [])]
    return [payload.get("circuit", [])]


def _normalised_input(payload: dict[str, Any], batch: CircuitBatch, raw: list[list[Any]]) -> dict[str, Any]:
    """The v1 shape with ``qubits`` filled in, whatever shape (v0.3, missing qubits) arrived."""
    if batch.multi:
        circuits = []
        for circuit, gates, original in zip(batch.circuits, raw, payload.get("circuits", []), strict=True):
            entry: dict[str, Any] = {"circuit": gates, "gateset": circuit.gateset, "qubits": circuit.qubits}
            if isinstance(original, dict):
                for key in ("name", "registers"):
                    if key in original:
                        entry[key] = original[key]
            circuits.append(entry)
        return {"gateset": batch.circuits[0].gateset, "qubits": batch.qubits, "circuits": circuits}
    circuit = batch.circuits[0]
    return {"gateset": circuit.gateset, "qubits": circuit.qubits, "circuit": raw[0]}


def _by_idempotency_key(platform: Platform, principal: Principal, key: str) -> JobView | None:
    with platform.db.read() as session:
        job = session.scalars(
            select(Job).where(Job.project_id == principal.project_id, Job.idempotency_key == key)
        ).one_or_none()
        if job is None:
            return None
        return _view(session, job)


# reading -------------------------------------------------------------------------------------


def _owned(session: Session, principal: Principal, job_id: str) -> Job:
    job = session.get(Job, job_id) if isinstance(job_id, str) and len(job_id) <= 64 else None
    if job is None or job.project_id != principal.project_id or job.deleted_at is not None:
        raise NotFound(f"Job {job_id} not found.")
    return job


def _view(session: Session, job: Job) -> JobView:
    child_ids = None
    if job.type == "ionq.multi-circuit.v1":
        child_ids = list(
            session.scalars(select(Job.id).where(Job.parent_id == job.id).order_by(Job.child_index))
        )
    return JobView(job=job, child_ids=child_ids)


#: Every job attribute callers read (all but the deferred circuit), labelled with the attribute
#: names, so a row reads like a ``Job``. Built once: this read is on every client's polling path.
_JOB_FIELDS = [attr.key for attr in Job.__mapper__.column_attrs if attr.key != "input"]
_JOB_BY_ID = select(*(getattr(Job, name).label(name) for name in _JOB_FIELDS)).where(
    Job.id == bindparam("job_id")
)
_CHILD_IDS = select(Job.id).where(Job.parent_id == bindparam("job_id")).order_by(Job.child_index)


def get_job(platform: Platform, principal: Principal, job_id: str) -> JobView:
    """One job as a read-only row with the ``Job`` attribute names (no ORM object to build)."""
    principal.require(Action.JOB_READ)
    db = platform.db
    found = db.hot_rows(_JOB_BY_ID, {"job_id": job_id}) if len(job_id) <= 64 else []
    row = found[0] if found else None
    if row is None or row.project_id != principal.project_id or row.deleted_at is not None:
        raise NotFound(f"Job {job_id} not found.")
    child_ids = None
    if row.type == "ionq.multi-circuit.v1":
        child_ids = [child[0] for child in db.hot_rows(_CHILD_IDS, {"job_id": job_id})]
    return JobView(job=row, child_ids=child_ids)  # type: ignore[arg-type]


@dataclass
class JobQuery:
    status: Sequence[str] | None = None
    ids: Sequence[str] | None = None
    session_id: str | None = None
    backend: str | None = None
    parent_id: str | None = None
    limit: int = DEFAULT_LIST_LIMIT
    cursor: str | None = None
    #: SDK filters (services/job_filters.py): every tag must match (or any, with ``tags_any``).
    tags: Sequence[str] | None = None
    tags_any: bool = False
    name: str | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    job_set_id: str | None = None
    idempotency_key: str | None = None


def list_jobs(platform: Platform, principal: Principal, query: JobQuery) -> tuple[list[JobView], str | None]:
    """Newest first, cursor-paged. Children are listed only when asked for by ``parent_id``."""
    principal.require(Action.JOB_READ)
    limit = query.limit
    if not 1 <= limit <= MAX_LIST_LIMIT:
        raise InvalidRequest(f"limit: must be between 1 and {MAX_LIST_LIMIT}, got {limit}", field="limit")
    stmt = select(Job).where(Job.project_id == principal.project_id, Job.deleted_at.is_(None))
    if query.parent_id is not None:
        stmt = stmt.where(Job.parent_id == query.parent_id)
    elif not query.ids:
        stmt = stmt.where(Job.parent_id.is_(None))
    if query.status:
        stmt = stmt.where(Job.status.in_(list(query.status)))
    if query.ids:
        stmt = stmt.where(Job.id.in_(list(query.ids)))
    if query.session_id is not None:
        stmt = stmt.where(Job.session_id == query.session_id)
    if query.backend is not None:
        stmt = stmt.where(Job.backend == resolve_backend_name(query.backend))
    stmt = job_filters.apply(stmt, query, postgres=not platform.db.is_sqlite)
    if query.cursor:
        at, last_id = _decode_cursor(query.cursor)
        stmt = stmt.where(or_(Job.submitted_at < at, and_(Job.submitted_at == at, Job.id < last_id)))
    stmt = stmt.order_by(Job.submitted_at.desc(), Job.id.desc()).limit(limit + 1)
    with platform.db.read() as session:
        jobs = list(session.scalars(stmt))
        more = len(jobs) > limit
        jobs = jobs[:limit]
        parents = [j.id for j in jobs if j.type == "ionq.multi-circuit.v1"]
        children: dict[str, list[str]] = {p: [] for p in parents}
        if parents:
            for child_id, parent_id in session.execute(
                select(Job.id, Job.parent_id).where(Job.parent_id.in_(parents)).order_by(Job.child_index)
            ):
                children[parent_id].append(child_id)
    views = [JobView(job=j, child_ids=children.get(j.id)) for j in jobs]
    next_cursor = _encode_cursor(jobs[-1]) if more and jobs else None
    return views, next_cursor


def _encode_cursor(job: Job) -> str:
    raw = f"{job.submitted_at.isoformat()}|{job.id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, last_id = raw.split("|", 1)
        return datetime.fromisoformat(at), last_id
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidRequest("next: not a cursor returned by this server", field="next") from None


# changing ------------------------------------------------------------------------------------


def cancel_job(platform: Platform, principal: Principal, job_id: str) -> Job:
    """Cancel a queued or running job (and its children). Canceling twice is fine; a finished job is 409."""
    with platform.db.write() as session:
        job = _owned(session, principal, job_id)  # first: another tenant's job is a 404, whoever asks
        principal.require(Action.JOB_CANCEL)
        if job.status == "canceled":
            return job
        if job.status in TERMINAL:
            raise Conflict(f"Job {job_id} is already {job.status} and cannot be canceled.")
        _cancel(session, job, platform.outbox)
    platform.work_canceled()
    return job


def _cancel(session: Session, job: Job, outbox: Outbox | None = None) -> None:
    """Cancel ``job`` and its active children; ``outbox`` records the ``job.canceled`` notification."""
    from qumulus.runtime.completion import roll_up_parent

    now = utcnow()
    ids = [job.id, *session.scalars(select(Job.id).where(Job.parent_id == job.id, Job.status.in_(ACTIVE)))]
    canceled = session.execute(
        update(Job)
        .where(Job.id.in_(ids), Job.status.in_(ACTIVE))
        .values(status="canceled", canceled_at=now)
        .returning(Job.budget_id, Job.budget_hold)
    ).all()
    charging.release(session, canceled)
    session.execute(
        update(Execution)
        .where(Execution.job_id.in_(ids), Execution.state.in_(("queued", "running")))
        .values(state="canceled", finished_at=now, lease_owner=None, lease_expires_at=None)
    )
    job.status = "canceled"
    job.canceled_at = now
    final = None
    if job.parent_id:
        final = roll_up_parent(
            session, job.parent_id, postgres=session.get_bind().dialect.name == "postgresql"
        )
    if outbox is not None:
        top, status = (job.id, "canceled") if job.parent_id is None else (job.parent_id, final)
        if status is not None:
            outbox.record(session.connection(), [JobEvent(top, job.project_id, job.submitter_id, status)])


def delete_job(platform: Platform, principal: Principal, job_id: str) -> str:
    """Delete a job (canceling it first if it is still active); later reads are 404."""
    with platform.db.write() as session:
        job = _owned(session, principal, job_id)
        principal.require(Action.JOB_DELETE, owns_target=job.submitter_id == principal.user_id)
        _delete(session, job, platform.outbox)
    platform.work_canceled()
    return job.id


def _delete(session: Session, job: Job, outbox: Outbox | None = None) -> None:
    if job.status in ACTIVE:
        _cancel(session, job, outbox)
    now = utcnow()
    session.execute(update(Job).where(or_(Job.id == job.id, Job.parent_id == job.id)).values(deleted_at=now))


def bulk(
    platform: Platform, principal: Principal, ids: Sequence[str], action: str
) -> tuple[list[str], list[str]]:
    """Cancel or delete many jobs; returns (affected ids, ids not found).

    Finished jobs are skipped on cancel.
    """
    principal.require(Action.JOB_CANCEL if action == "cancel" else Action.JOB_DELETE)
    affected: list[str] = []
    missing: list[str] = []
    with platform.db.write() as session:
        for job_id in ids:
            try:
                job = _owned(session, principal, job_id)
            except NotFound:
                missing.append(job_id)
                continue
            if action == "cancel":
                if job.status in ACTIVE:
                    _cancel(session, job, platform.outbox)
                    affected.append(job.id)
                elif job.status == "canceled":
                    affected.append(job.id)
            else:
                _delete(session, job, platform.outbox)
                affected.append(job.id)
    platform.work_canceled()
    return affected, missing
