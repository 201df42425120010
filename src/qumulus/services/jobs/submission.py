"""Submitting a job: validation, admission (contract, budget, limits, session) and the durable insert.

The API hands over a :class:`~qumulus.domain.JobSpec` (the wire body already normalised: aliases
resolved, shots an int); everything the platform promises about a new job is enforced here, whatever
the entry point. The job is committed before its id leaves this module.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.exc import IntegrityError

from qumulus.auth.permissions import Action
from qumulus.auth.principal import Principal
from qumulus.backends.catalog import BY_NAME, NOISE_MODELS, emulation_target, resolve_backend_name
from qumulus.circuits.errors import CircuitError, TooManyGates
from qumulus.circuits.ionq_json import OPENQASM_FORMAT, QASM3_V1, parse_input
from qumulus.circuits.model import Circuit, CircuitBatch
from qumulus.domain import JobSpec, JobView
from qumulus.errors import IdempotencyKeyReused, InvalidCircuit, InvalidRequest, PayloadTooLarge
from qumulus.services.billing import charging
from qumulus.services.context import Context
from qumulus.services.jobs import compilation, emulation, limits, preflight
from qumulus.services.jobs.queries import view_of
from qumulus.store.fast_write import insert_rows
from qumulus.store.models import Backend, Execution, Job, new_id
from qumulus.timeutil import utcnow


def submit_job(platform: Context, principal: Principal, spec: JobSpec) -> JobView:
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


async def submit_job_async(platform: Context, principal: Principal, spec: JobSpec) -> JobView:
    """:func:`submit_job` for the event loop (embedded SQLite): validation runs here, the insert in
    the group-commit thread; nothing parks a request thread. Same rules, same durability. Jobs whose
    plan compiles circuits never come here (``api/routes_jobs._compiles``: the thread pool)."""
    plan = plan_submission(platform, principal, spec)
    if isinstance(plan, JobView):
        return plan
    try:
        view = await platform.committer.run_async(plan)
    except IntegrityError as exc:
        return _after_conflict(platform, principal, spec, exc)
    return _submitted(platform, spec, view)


def plan_submission(
    platform: Context, principal: Principal, spec: JobSpec
) -> Callable[[Connection], JobView] | JobView:
    """Every check that needs no write; returns the insert to run in a transaction, or the job an
    earlier submission with the same idempotency key created."""
    backend, batch, noise = validate(platform, principal, spec)
    backend_name = backend.name
    settings = platform.settings

    if spec.idempotency_key:
        existing = _by_idempotency_key(platform, principal, spec)
        if existing is not None:
            return existing

    emulated = emulation_target(backend.name, noise)
    predicted = emulation.predictions(
        backend_name, noise, batch, spec.shots, spec.settings, settings.max_emulation_seconds
    )
    refused = None if spec.dry_run else emulation.too_long(predicted, settings.max_emulation_seconds)
    charge = charging.plan_for(
        platform,
        principal,
        backend,
        batch,
        spec.shots,
        dry_run=spec.dry_run or bool(refused),
        emulated=emulated,
    )
    compiled = compilation.compile_job(backend, emulated, batch, dry_run=spec.dry_run)

    def insert_job(conn: Connection) -> JobView:
        if not spec.dry_run:
            limits.check_queue_room(conn, principal.project_id, default_cap=settings.max_queued_jobs)
        if spec.session_id is not None:
            _check_session(conn, principal, spec.session_id, backend_name)
        hold = None if refused else charging.apply(conn, principal, charge)
        return _insert(conn, principal, spec, backend_name, batch, noise, hold, compiled, predicted, refused)

    return insert_job


def validate(
    platform: Context, principal: Principal, spec: JobSpec
) -> tuple[Backend, CircuitBatch, dict[str, Any] | None]:
    """Everything a submission checks about the request itself: role, backend, shots, noise, input
    (parsed), limits and preflight. ``POST /jobs/estimate`` runs exactly this too."""
    principal.require(Action.JOB_SUBMIT)
    backend_name = resolve_backend_name(spec.backend)
    backend = backend_row(platform, backend_name)
    if backend_name not in BY_NAME and (spec.job_type == QASM3_V1 or "data" in (spec.input or {})):
        _check_driver_takes_programs(platform, backend_name)
    settings = platform.settings
    limits.check_shots(spec.shots, settings.max_shots)
    limits.check_labels(
        spec.metadata or {},
        spec.settings or {},
        max_keys=settings.max_metadata_keys,
        max_value_chars=settings.max_metadata_value_chars,
    )
    noise = _check_noise(spec.noise, backend)
    limits.check_input_size(spec.input, max_gates=settings.max_gates, max_circuits=settings.max_circuits)
    try:
        batch = parse_input(
            spec.job_type,
            spec.input,
            max_qubits=_max_qubits(platform, backend, noise),
            max_gates=settings.max_gates,
        )
    except TooManyGates as exc:
        raise PayloadTooLarge(
            f"{exc.path}: more than {settings.max_gates} gates in this job; the limit is "
            f"{settings.max_gates} gates per job (QUMULUS_MAX_GATES)",
            field=exc.path,
        ) from None
    except CircuitError as exc:
        raise InvalidCircuit(str(exc), field=exc.path) from None
    limits.check_batch_size(batch, max_gates=settings.max_gates, max_circuits=settings.max_circuits)
    preflight.check(batch, backend, emulation_target(backend.name, noise), multi=batch.multi)

    return backend, batch, noise


def _check_driver_takes_programs(platform: Context, backend_name: str) -> None:
    """A driver-served backend forwards the stored job as is: an OpenQASM program goes only to a
    driver that lists ``ionq.qasm3.v1`` in its ``job_types`` (the ``ionq`` driver: IonQ's API takes
    the text). Otherwise 400, before anything is stored or held. (Programs are planned in the
    thread pool, ``api/routes_jobs._compiles``: this read never blocks the event loop.)"""
    from qumulus.drivers.base import ConfigError
    from qumulus.drivers.registry import driver_class
    from qumulus.store.models import BackendDriver

    with platform.db.read() as session:
        row = session.get(BackendDriver, backend_name)
        driver = row.driver if row is not None else None
    try:
        takes = driver is not None and QASM3_V1 in driver_class(driver).job_types
    except ConfigError:  # the driver is not installed in this process: it cannot say it takes them
        takes = False
    if not takes:
        raise InvalidRequest(
            f"type: {backend_name} takes ionq.circuit.v1 and ionq.multi-circuit.v1 jobs (gate lists), "
            f"not OpenQASM programs (its driver {driver!r} does not forward them)",
            field="type",
        )


def _after_conflict(platform: Context, principal: Principal, spec: JobSpec, exc: IntegrityError) -> JobView:
    """An IntegrityError on insert: a concurrent retry with the same idempotency key won the race
    (its transaction is committed before ours learns of the conflict): answer with its job."""
    if spec.idempotency_key:
        existing = _by_idempotency_key(platform, principal, spec)
        if existing is not None:
            return existing
    raise exc


def _submitted(platform: Context, spec: JobSpec, view: JobView) -> JobView:
    if not spec.dry_run:
        platform.waker.notify(len(view.child_ids or [view.job.id]))
    return view


def backend_row(platform: Context, name: str) -> Backend:
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


def _max_qubits(platform: Context, backend: Backend, noise: dict[str, Any] | None) -> int:
    """A noisy simulation inherits the emulated QPU's width (wire spec §7.1); the ideal simulator
    takes its widest circuit class here, and :mod:`.preflight` checks each circuit's own class."""
    target = emulation_target(backend.name, noise)
    if target is None and backend.kind == "simulator":
        return max(backend.qubits, preflight.widest_simulator_circuit())
    if target is None or target == backend.name:
        return backend.qubits
    qpu = platform.backends.get(target)
    return min(backend.qubits, qpu.qubits) if qpu is not None else backend.qubits


def _check_session(conn: Connection, principal: Principal, session_id: str, backend: str) -> None:
    """Existence, tenancy, backend, end and limits: :func:`qumulus.services.jobs.sessions.admit`."""
    from qumulus.services.jobs.sessions import admit

    admit(conn, principal, session_id, backend)


def _insert(
    connection: Connection,
    principal: Principal,
    spec: JobSpec,
    backend: str,
    batch: CircuitBatch,
    noise: dict[str, Any] | None,
    hold: charging.Hold | None = None,
    compiled: list[dict[str, Any] | None] | None = None,
    predicted: list[float | None] | None = None,
    refused: dict[str, str] | None = None,
) -> JobView:
    now = utcnow()
    submitted_at = spec.submitted_at or now
    status = "completed" if spec.dry_run else ("failed" if refused else "ready")
    predicted = predicted or [None] * len(batch.circuits)

    def emulation_ms(values: list[float | None]) -> dict[str, int]:
        known = [v for v in values if v is not None]
        return {"predicted_emulation_ms": round(1000 * sum(known))} if known else {}

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
        "completed_at": now if spec.dry_run or refused else None,
        "failure": refused,
        "session_id": spec.session_id,
        "tags": spec.tags,
        "job_set_id": spec.job_set_id,
        "budget_id": hold.budget_id if hold else None,
    }
    holds = hold.amounts if hold and hold.amounts else [None] * len(batch.circuits)
    estimates = hold.seconds if hold else [None] * len(batch.circuits)
    program = is_openqasm(spec.job_type, spec.input)
    circuits_raw = [] if program else _raw_circuits(spec.input, multi)
    parent = {
        **base,
        "id": job_id,
        "type": QASM3_V1 if program else ("ionq.multi-circuit.v1" if multi else "ionq.circuit.v1"),
        "input": _program_input(spec.input, batch)
        if program
        else _normalised_input(spec.input, batch, circuits_raw),
        "stats": {
            "qubits": batch.qubits,
            "circuits": len(batch.circuits),
            "gate_counts": batch.gate_counts(),
            **emulation_ms(predicted),
            **(_classical_layout(batch.circuits[0]) if program else {}),
            **({"job_set": spec.job_set_member} if spec.job_set_member is not None else {}),
        },
        "idempotency_key": spec.idempotency_key,
        "idempotency_hash": spec.idempotency_hash,
        "parent_id": None,
        "child_index": None,
        "budget_hold": None if multi else holds[0],
        "estimated_seconds": None if multi else estimates[0],
        "compiled": compilation.stored(compiled, None if multi else 0),
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
                    "stats": {
                        "qubits": circuit.qubits,
                        "circuits": 1,
                        "gate_counts": circuit.gate_counts(),
                        **emulation_ms([predicted[index]]),
                    },
                    # Metadata, settings and tags are the parent's, stored once (read through
                    # services/jobs/queries.inherit and the claim): a child holds its circuit only.
                    "job_metadata": {},
                    "settings": {},
                    "tags": [],
                    "parent_id": job_id,
                    "child_index": index,
                    "idempotency_key": None,
                    "idempotency_hash": None,
                    "budget_hold": holds[index],
                    "estimated_seconds": estimates[index],
                    "compiled": compilation.stored(compiled, index),
                }
            )
    # executemany takes its column list from the first row: every row carries the same keys.
    insert_rows(connection, Job.__table__, [_columns(row) for row in rows])
    if not spec.dry_run and not refused:
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


def is_openqasm(job_type: str | None, payload: Any) -> bool:
    """An OpenQASM job: v0.4 ``ionq.qasm3.v1``, or a v0.3 body with ``input.format: openqasm``."""
    return job_type == QASM3_V1 or (
        job_type is None and isinstance(payload, dict) and payload.get("format") == OPENQASM_FORMAT
    )


def _program_input(payload: dict[str, Any], batch: CircuitBatch) -> dict[str, Any]:
    """The program as sent (the worker parses it again), with ``qubits`` filled in."""
    return {"data": payload["data"], "qubits": batch.circuits[0].qubits}


def _classical_layout(circuit: Circuit) -> dict[str, Any]:
    """What reading a program's results needs without parsing it again: its classical bits and
    registers (each register's clbits, in order), kept in ``stats``."""
    return {"clbits": circuit.clbits, "registers": {name: list(bits) for name, bits in circuit.cregs}}


def _by_idempotency_key(platform: Context, principal: Principal, spec: JobSpec) -> JobView | None:
    """The job an earlier request with this key made; 422 if that request was a different one."""
    key = spec.idempotency_key
    with platform.db.read() as session:
        job = session.scalars(
            select(Job).where(Job.project_id == principal.project_id, Job.idempotency_key == key)
        ).one_or_none()
        if job is None:
            return None
        check_same_request(key, job.idempotency_hash, spec.idempotency_hash)
        return view_of(session, job)


def check_same_request(key: str | None, stored: str | None, given: str | None) -> None:
    """A retry must repeat the request its key was first used with (Stripe's and the IETF draft's
    rule): another request under the same key is refused, never answered with a job it did not ask
    for. Jobs stored before digests were kept (``stored`` None) match any request."""
    if stored is not None and given is not None and stored != given:
        raise IdempotencyKeyReused(
            f"Idempotency-Key: {key!r} was already used with a different request; "
            "use a new key for a new request",
            field="Idempotency-Key",
        )
