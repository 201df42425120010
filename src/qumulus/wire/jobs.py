"""Jobs → IonQ wire JSON, per API version and per client quirk (wire spec §4, §11).

Rules that matter to real clients and are easy to break:

* keys that have no value are *omitted* (``failure``, ``warning``), never ``null``;
* ``metadata`` is echoed verbatim, ``{}`` when absent;
* result URLs are root-relative paths that start with ``/v0.4/``;
* ISO dates carry milliseconds (cirq splits on '.'), the ionq package's v0.3-style paths want epoch ints;
* the v0.4 status is ``started``; v0.3 calls it ``running``.
"""

from __future__ import annotations

import re
from typing import Any

from qumulus.backends.catalog import emulation_target
from qumulus.domain import WORKLOAD_TYPES, JobView, sampled_by_provider
from qumulus.timeutil import epoch, iso


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
        "metadata": view.metadata(),
        "shots": job.shots,
        "settings": view.settings(),
        "stats": job.stats or {},
        "tags": view.tags(),
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
    predicted = (job.stats or {}).get("predicted_emulation_ms")
    if predicted is not None:  # emulated jobs: the emulator's predicted wall time (not billed time)
        body["predicted_emulation_duration_ms"] = predicted
    if job.job_set_id is not None:
        body["job_set_id"] = job.job_set_id
    if job.type in WORKLOAD_TYPES:  # results inline (docs/workloads.md), no compiled artifact
        if job.status == "completed":
            body["results"] = view.results
        if job.status == "failed" and job.failure:
            body["failure"] = _failure(job.failure)
        return body
    emulated = emulation_target(job.backend, job.noise)
    held = held_artifacts(job.stats)  # a driver-served job's provider artifacts: {format: local id}
    final = job.status in ("completed", "failed", "canceled")
    if final and (job.dry_run or emulated is not None or NATIVE_FORMAT in held):
        # Compiled at submission (services/jobs/compilation.py), or by the provider of a
        # driver-served backend (kept at completion): qiskit's ``compiled_circuit()``.
        body["output"] = {
            "compilation": {"compiled_circuits": {NATIVE_FORMAT: _artifact(NATIVE_ARTIFACT, NATIVE_FORMAT)}}
        }
    if job.status == "completed" and not job.dry_run:
        base = f"/v0.4/jobs/{job.id}/results"
        body["results"] = {"probabilities": {"url": f"{base}/probabilities"}}
        program = job.type == QASM3_V1
        sampled = job.engine in SAMPLED_ENGINES or sampled_by_provider(job.engine)
        if emulated is not None or program or sampled:  # sampled shots (emulated, engine, provider)
            body["results"]["histogram"] = {"url": f"{base}/histogram"}
            body["results"]["shots"] = {"url": f"{base}/shots"}
        if program:  # per-shot classical registers, what qiskit-ionq reads for an OpenQASM job
            body["results"][SHOTS_V2_FORMAT] = _artifact(SHOTS_ARTIFACT, SHOTS_V2_FORMAT)
        for fmt, artifact_id in held.items():  # the provider's other result artifacts, served here
            if fmt != NATIVE_FORMAT:
                body["results"].setdefault(fmt, _artifact(artifact_id, fmt))
    if job.status == "failed" and job.failure:
        body["failure"] = _failure(job.failure)
    return body


#: Engines whose results are sampled shots rather than exact probabilities (sim/ideal.py).
SAMPLED_ENGINES = frozenset({"mps", "trajectories", "stim-shots"})
QASM3_V1 = "ionq.qasm3.v1"
SHOTS_V2_FORMAT = "ionq.result.shots.json.v2"
SHOTS_ARTIFACT = "shots"
NATIVE_FORMAT = "ionq.native.v1"
NATIVE_ARTIFACT = "native"


#: A provider's artifact format name that can serve as a local artifact id (a URL path segment).
_FORMAT = re.compile(r"[A-Za-z][A-Za-z0-9._-]{0,99}")


def local_artifact_id(fmt: str) -> str | None:
    """The local artifact id under which a driver-served job serves its provider's artifact of
    format ``fmt``: the id local jobs use for that format (``native``, ``shots``), else the format
    name itself. None for a format that cannot be one (odd characters, or a local id's name)."""
    known = {NATIVE_FORMAT: NATIVE_ARTIFACT, SHOTS_V2_FORMAT: SHOTS_ARTIFACT}
    if fmt in known:
        return known[fmt]
    if fmt in known.values() or not _FORMAT.fullmatch(fmt):
        return None
    return fmt


def held_artifacts(stats: dict[str, Any] | None) -> dict[str, str]:
    """``{format: local id}`` of the provider artifacts a driver-served job keeps (``stats``)."""
    held = (stats or {}).get("artifacts")
    return {str(k): str(v) for k, v in held.items()} if isinstance(held, dict) else {}


def _artifact(artifact_id: str, fmt: str) -> dict[str, str]:
    """An artifact descriptor: fetched from ``GET /v0.4/jobs/{id}/artifacts/{artifact_id}``."""
    return {"id": artifact_id, "format": fmt, "media_type": "application/json"}


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
        "metadata": view.metadata(),
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


def estimate_v04(estimate: Any, currency: str = "usd") -> dict[str, Any]:
    """``/jobs/estimate``: the fields qiskit-ionq reads (``estimated_cost``, ``cost_unit``, seconds)
    and the newer v0.4 spellings (``estimated_total_cost``, ``estimated_unit``, milliseconds)."""
    from qumulus.timeutil import utcnow

    cost = float(estimate.cost)
    seconds = float(estimate.seconds)
    rate = {
        "backend": estimate.backend,
        "contract_id": estimate.contract_id,
        "rate_per_second": float(estimate.rate),
        "unit": currency,
    }
    if estimate.contract_id is None:
        rate["message"] = "no contract in force for this backend: a QPU job would be refused"
    emulation: dict[str, Any] = {}
    predicted = getattr(estimate, "emulation_seconds", None)
    if predicted is not None:
        # Qumulus extension: the emulator's predicted wall time (the job's field of the same name),
        # and whether the server's limit would refuse the job (TooLongPredictedExecutionTime).
        limit = float(estimate.emulation_limit)
        emulation = {
            "predicted_emulation_duration_ms": round(predicted * 1000),
            "emulation_limit_ms": round(limit * 1000) if limit > 0 else None,
            "emulation_refused": bool(limit > 0 and predicted > limit),
        }
    return emulation | {
        "input_values": estimate.inputs,
        "estimate_context": estimate.inputs,
        "estimated_cost": cost,
        "estimated_total_cost": cost,
        "cost_unit": currency,
        "estimated_unit": currency,
        "estimated_execution_time": seconds,
        "estimated_execution_time_ms": round(seconds * 1000),
        "current_predicted_queue_time": 0,
        "current_predicted_queue_time_ms": 0,
        "estimated_at": iso(utcnow()),
        "rate_information": rate,
        "rate_card": rate,
    }


def progress_v04(view: Any) -> dict[str, Any]:
    """``GET /jobs/{id}/progress`` (the ``ionq`` package's ``JobProgress``), with the workload's
    figures beside it for our own clients."""
    return {
        "progress": [
            {
                "job_id": row.job_id or view.job_id,
                "status": row.status,
                "finished_at": iso(row.finished_at),
                "value": row.value,
                "variance": row.variance,
                "params": row.params,
                "iteration": row.iteration,
            }
            for row in view.rows
        ],
        "status": view.status,
        "evaluations": view.evaluations,
        "log_interval": view.log_interval,
        "best": None if view.best_value is None else {"value": view.best_value, "params": view.best_params},
    }
