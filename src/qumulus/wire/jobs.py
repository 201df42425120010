"""Domain objects → IonQ wire JSON, per API version and per client quirk (wire spec §4, §7, §11).

Rules that matter to real clients and are easy to break:

* keys that have no value are *omitted* (``failure``, ``warning``), never ``null``;
* ``metadata`` is echoed verbatim, ``{}`` when absent;
* result URLs are root-relative paths that start with ``/v0.4/``;
* ISO dates carry milliseconds (cirq splits on '.'), the ionq package's v0.3-style paths want epoch ints;
* the v0.4 status is ``started``; v0.3 calls it ``running``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from qumulus.backends.catalog import emulation_target
from qumulus.domain import JobView
from qumulus.store.models import Backend, Characterization
from qumulus.timeutil import epoch, iso

#: Internal backend status → the ionq package's status enum (wire spec §7.1).
#: Our statuses → the ionq package's enum (available, unavailable, running, reserved, calibrating,
#: offline, retired). A backend that still starts jobs is ``available`` (qiskit's ``status()`` is
#: True only then), with ``degraded: true`` when it is not at its best; one that holds jobs is not.
BACKEND_STATUS = {
    "operational": "available",
    "degraded": "available",
    "partial_outage": "available",
    "major_outage": "unavailable",
    "maintenance": "offline",
    "retired": "retired",
}


def _num(value: Any) -> float | None:
    return float(value) if value is not None else None


def job_v04(view: JobView) -> dict[str, Any]:
    job = view.job
    body: dict[str, Any] = {
        "id": job.id,
        "type": job.type,
        "status": job.status,
        "backend": job.backend,
        "name": job.name,
        "dry_run": job.dry_run,
        "submitter_id": job.submitter_id,
        "project_id": job.project_id,
        "parent_job_id": job.parent_id,
        "child_job_ids": view.child_ids,
        "session_id": job.session_id,
        "metadata": job.job_metadata if job.job_metadata is not None else {},
        "shots": job.shots,
        "settings": job.settings or {},
        "stats": job.stats or {},
        "tags": job.tags or [],
        "submitted_at": iso(job.submitted_at),
        "ready_at": iso(job.ready_at),
        "started_at": iso(job.started_at),
        "completed_at": iso(job.completed_at),
        "predicted_wait_time_ms": 0,
        "execution_duration_ms": job.execution_duration_ms,
        "predicted_execution_duration_ms": job.execution_duration_ms,
        "usage_seconds": job.usage_seconds,
        "cost": _num(job.cost),
        "output": {},
        "results": None,
    }
    if view.queue is not None:  # active jobs only: position and predictions (services/queue_view.py)
        body.update(view.queue)
    if job.noise is not None:
        body["noise"] = job.noise
    if job.canceled_at is not None:
        body["canceled_at"] = iso(job.canceled_at)
    if job.engine:
        body["engine"] = job.engine
    if job.job_set_id is not None:
        body["job_set_id"] = job.job_set_id
    if job.status == "completed" and not job.dry_run:
        base = f"/v0.4/jobs/{job.id}/results"
        body["results"] = {"probabilities": {"url": f"{base}/probabilities"}}
        if emulation_target(job.backend, job.noise) is not None:  # sampled shots: advertise them
            body["results"]["histogram"] = {"url": f"{base}/histogram"}
            body["results"]["shots"] = {"url": f"{base}/shots"}
    if job.status == "failed" and job.failure:
        body["failure"] = _failure(job.failure)
    return body


def _failure(failure: dict[str, Any]) -> dict[str, Any]:
    message = failure.get("message") or "job failed"
    return {"code": failure.get("code", "InternalError"), "error": message, "message": message}


V03_STATUS = {"started": "running"}


def job_v03(view: JobView) -> dict[str, Any]:
    job = view.job
    stats = job.stats or {}
    body: dict[str, Any] = {
        "id": job.id,
        "status": V03_STATUS.get(job.status, job.status),
        "target": job.backend,
        "name": job.name,
        "metadata": job.job_metadata if job.job_metadata is not None else {},
        "request": epoch(job.submitted_at),
        "start": epoch(job.started_at),
        "response": epoch(job.completed_at),
        "execution_time": job.execution_duration_ms,
        "predicted_execution_time": job.execution_duration_ms,
        "qubits": stats.get("qubits"),
        "circuits": stats.get("circuits"),
        "gate_counts": stats.get("gate_counts", {}),
        "shots": job.shots,
        "cost_usd": _num(job.cost),
    }
    if view.child_ids is not None:
        body["children"] = view.child_ids
    if job.noise is not None:
        body["noise"] = job.noise
    if job.status == "completed" and not job.dry_run:
        body["results_url"] = f"/v0.3/jobs/{job.id}/results"
    if job.status == "failed" and job.failure:
        failure = _failure(job.failure)
        body["failure"] = {"error": failure["error"], "code": failure["code"]}
    return body


def backend_v04(
    backend: Backend,
    pending: int | None = None,
    average_queue_ms: int | None = None,
    *,
    current: tuple[str, str] | None = None,
    reserved: list[tuple[datetime, datetime]] | None = None,
) -> dict[str, Any]:
    """``current`` = (status, message) in force now when it differs from the row (a maintenance
    window); ``status_detail`` is our own status name, ``status`` the ionq package's enum.
    ``average_queue_time`` (ms): measured from recent jobs when given, else the catalog's figure.
    ``reservations``: approved windows ahead (times only; whose they are is not public)."""
    status, message = current or (backend.status, backend.status_message)
    queue_ms = average_queue_ms if average_queue_ms is not None else backend.average_queue_time_ms
    body: dict[str, Any] = {
        "backend": backend.name,
        "status": BACKEND_STATUS.get(status, "unavailable"),
        "status_detail": status,
        "qubits": backend.qubits,
        "average_queue_time": int(queue_ms),
        "last_updated": epoch(backend.updated_at),
        "degraded": status in ("degraded", "partial_outage"),
        "kind": backend.kind,
        "gatesets": backend.gatesets,
        "accepting_jobs": backend.accepting_jobs and status != "retired",
    }
    if message:
        body["status_message"] = message
    if pending is not None:
        body["pending_jobs"] = pending
    if reserved is not None:
        body["reservations"] = [{"starts_at": iso(a), "ends_at": iso(b)} for a, b in reserved]
    if backend.characterization_id:
        body["characterization_id"] = backend.characterization_id
        body["characterization_url"] = f"/characterizations/{backend.characterization_id}"
    return body


def characterization(row: Characterization, *, status: str, epoch_date: bool = False) -> dict[str, Any]:
    """qiskit and cirq want ISO dates (``epoch_date=False``); the ionq package's paths want ints."""
    data = row.data
    return {
        "id": row.id,
        "backend": row.backend,
        "date": epoch(row.date) if epoch_date else iso(row.date),
        "qubits": row.qubits,
        "connectivity": data.get("connectivity", []),
        "fidelity": data.get("fidelity", {}),
        "timing": data.get("timing", {}),
        "status": status,
    }


def calibration(row: Characterization, *, status: str) -> dict[str, Any]:
    """cirq's legacy ``/calibrations`` shape: ``target`` instead of ``backend``."""
    body = characterization(row, status=status)
    body["target"] = body.pop("backend")
    return body
