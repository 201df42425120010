"""Submitting a ``quantum-function`` or ``optimization`` job: validation, admission, the insert.

The request is read by the pure library (:func:`qumulus.workloads.parse`: 400/422 naming the field),
then admitted like a circuit job: role, backend, shots, noise, width, preflight of the first
evaluation's circuits, contract (403 on a QPU without one), session, queue room.

**Budget policy: held per evaluation.** How many evaluations an optimizer will make is not known up
front (COBYLA stops early, BFGS takes ``n + 1`` per gradient, ``maxiter`` is only a bound), so
holding "the whole workload" would either over-hold by the bound or under-hold. Instead each
evaluation's circuits are held when the runner queues them, by the same conditional UPDATE a
circuit job's submission uses, so the project can never spend past its limit. Here, at submission,
the first evaluation must fit (held and released in the same transaction, so a workload that could
not run a single evaluation is refused with 402 at once); a workload whose budget runs out later
fails with ``QuotaExhaustedError``, keeping the best result found so far in its progress.
"""

from __future__ import annotations

import copy
import hashlib
import json
import threading
from collections import OrderedDict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import insert, update

from qumulus.auth.permissions import Action
from qumulus.auth.principal import Principal
from qumulus.backends.catalog import emulation_target, resolve_backend_name
from qumulus.circuits.model import CircuitBatch
from qumulus.domain import JobSpec, JobView
from qumulus.errors import InvalidCircuit, InvalidRequest
from qumulus.services.billing import charging
from qumulus.services.context import Context
from qumulus.services.jobs import limits, preflight
from qumulus.services.jobs.submission import (
    _by_idempotency_key,
    _check_noise,
    _check_session,
    _max_qubits,
    backend_row,
)
from qumulus.store.models import Backend, Budget, Job, Workload, new_id
from qumulus.timeutil import utcnow
from qumulus.workloads import OptimizationSpec, QuantumFunctionSpec, parse

#: Specs parsed recently in this process, by request digest: the runner of a workload submitted
#: here does not parse its OpenQASM ansatz again (specs are never changed once parsed).
_PARSED: OrderedDict[str, QuantumFunctionSpec | OptimizationSpec] = OrderedDict()
_PARSED_LOCK = threading.Lock()
_PARSED_MAX = 64


def parse_workload(job_type: str, payload: Any) -> QuantumFunctionSpec | OptimizationSpec:
    """:func:`qumulus.workloads.parse`, remembered for the last few distinct requests."""
    key = hashlib.sha256(json.dumps([job_type, payload], sort_keys=True, default=str).encode()).hexdigest()
    with _PARSED_LOCK:
        found = _PARSED.get(key)
        if found is not None:
            _PARSED.move_to_end(key)
            return copy.copy(found)
    spec = parse(job_type, payload)
    with _PARSED_LOCK:
        _PARSED[key] = spec
        while len(_PARSED) > _PARSED_MAX:
            _PARSED.popitem(last=False)
    return copy.copy(spec)


def first_params(spec: QuantumFunctionSpec | OptimizationSpec) -> list[float]:
    return spec.params if isinstance(spec, QuantumFunctionSpec) else spec.initial_params


@dataclass(frozen=True)
class Admitted:
    """A workload request validated as its submission validates it, with what its hold is made of:
    the first evaluation's circuits (one per measurement group)."""

    parsed: QuantumFunctionSpec | OptimizationSpec
    backend: Backend
    noise: dict[str, Any] | None
    batch: CircuitBatch
    emulated: str | None


def validate_workload(platform: Context, principal: Principal, spec: JobSpec) -> Admitted:
    """Role, input (parsed), backend, shots, noise, width and preflight of the first evaluation's
    circuits: everything a submission checks about the request itself (``POST /jobs/estimate``
    runs exactly this too)."""
    principal.require(Action.JOB_SUBMIT)
    assert spec.job_type is not None
    parsed = parse_workload(spec.job_type, spec.input)
    if spec.dry_run:
        raise InvalidRequest("dry_run: a workload job cannot be a dry run", field="dry_run")
    backend = backend_row(platform, resolve_backend_name(spec.backend))
    limits.check_shots(spec.shots, platform.settings.max_shots)
    noise = _check_noise(spec.noise, backend)
    function = parsed.function
    widest = _max_qubits(platform, backend, noise)
    if function.qubits > widest:
        raise InvalidCircuit(
            f"input: the ansatz has {function.qubits} qubits; {backend.name} runs at most {widest}",
            field="input",
        )
    circuits = function.circuits(first_params(parsed))
    batch = CircuitBatch(tuple(circuits), multi=True)
    emulated = emulation_target(backend.name, noise)
    if circuits:
        preflight.check(batch, backend, emulated, multi=True)
    return Admitted(parsed, backend, noise, batch, emulated)


def submit_workload(platform: Context, principal: Principal, spec: JobSpec) -> JobView:
    """Validate, admit and insert the workload job and its ``workloads`` row in one transaction."""
    admitted = validate_workload(platform, principal, spec)
    parsed, backend, noise, batch, emulated = (
        admitted.parsed, admitted.backend, admitted.noise, admitted.batch, admitted.emulated,
    )  # fmt: skip
    settings = platform.settings
    function = parsed.function
    circuits = list(batch.circuits)
    if spec.idempotency_key:
        existing = _by_idempotency_key(platform, principal, spec)
        if existing is not None:
            return existing
    charge = (
        charging.plan_for(platform, principal, backend, batch, spec.shots, dry_run=False, emulated=emulated)
        if circuits
        else None
    )
    now = utcnow()
    job_id = spec.job_id or new_id()
    stats = {
        "qubits": function.qubits,
        "circuits": len(circuits),
        "gate_counts": batch.gate_counts(),
        "terms": len(function.hamiltonian.terms),
        "parameters": function.parameters,
    }
    if isinstance(parsed, OptimizationSpec):
        stats.update(method=parsed.method, maxiter=parsed.maxiter, log_interval=parsed.log_interval)
    with platform.db.write() as session:
        conn = session.connection()
        limits.check_queue_room(conn, principal.project_id, default_cap=settings.max_queued_jobs)
        if spec.session_id is not None:
            _check_session(conn, principal, spec.session_id, backend.name)
        hold = charging.apply(conn, principal, charge)
        if hold is not None and hold.budget_id is not None and hold.amounts:
            # The first evaluation fits: give the hold back (the runner holds per evaluation).
            total = sum(hold.amounts, Decimal(0))
            conn.execute(update(Budget).where(Budget.id == hold.budget_id).values(held=Budget.held - total))
        row: dict[str, Any] = {
            "id": job_id,
            "project_id": principal.project_id,
            "submitter_id": principal.user_id,
            "api_key_id": principal.api_key_id,
            "backend": backend.name,
            "type": spec.job_type,
            "name": spec.name,
            "shots": spec.shots,
            "metadata": spec.metadata,
            "input": spec.input,
            "settings": spec.settings,
            "noise": noise,
            "dry_run": False,
            "status": "ready",
            "stats": stats,
            "submitted_at": spec.submitted_at or now,
            "ready_at": now,
            "session_id": spec.session_id,
            "tags": spec.tags,
            "idempotency_key": spec.idempotency_key,
            "idempotency_hash": spec.idempotency_hash,
        }
        conn.execute(insert(Job.__table__), [row])
        conn.execute(
            insert(Workload.__table__),
            [{"job_id": job_id, "backend": backend.name, "state": "queued", "attempt": 0, "evaluations": 0,
              "created_at": now}],
        )  # fmt: skip
        job = session.get(Job, job_id)
        assert job is not None
        session.expunge(job)
    platform.admission.clear()
    platform.workloads_waker.notify()
    platform.waker.notify()  # distributed mode: NOTIFY reaches the runners of worker processes
    return JobView(job=job)
