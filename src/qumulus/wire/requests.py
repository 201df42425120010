"""A ``POST /jobs`` body (v0.4 or v0.3, from any client) → :class:`JobSpec`.

Tolerant where clients differ (string shots from cirq, ``target`` from v0.3, ``lang``, unknown extra
keys), strict where a value cannot mean anything (a list as shots, a string as metadata): those get
a 400 naming the field.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from qumulus import values
from qumulus.domain import JobSpec
from qumulus.errors import InvalidRequest
from qumulus.values import optional_name

MAX_NAME = values.MAX_NAME
MAX_TAGS = 50


#: Fields of a job that the server sets (v0.4 and v0.3 response names, and tenancy): a body that
#: tries to set one is refused rather than silently ignored, so nobody believes they chose a job's
#: status, cost or project. Unknown keys are still accepted: qiskit and cirq merge a user's
#: ``extra_query_params`` into the body, and ``lang`` comes from cirq (wire spec §3.1).
READ_ONLY_FIELDS = frozenset(
    {
        "id", "status", "cost", "cost_usd", "usage", "usage_seconds", "project_id", "project",
        "organization_id", "organization", "submitter_id", "api_key_id", "parent_job_id",
        "child_job_ids", "children", "request", "response", "start", "submitted_at", "ready_at",
        "started_at", "completed_at", "canceled_at", "deleted_at", "execution_time",
        "execution_duration_ms", "predicted_execution_time", "predicted_execution_duration_ms",
        "predicted_wait_time_ms", "failure", "warning", "results", "results_url", "output", "stats",
        "gate_counts", "engine",
    }
)  # fmt: skip


def refuse_read_only(body: dict[str, Any]) -> None:
    """400 naming the first server-set field found in a job body (in the body's own key order)."""
    for key in body:
        if key in READ_ONLY_FIELDS:
            raise InvalidRequest(
                f"{key}: is set by the server and cannot be given when creating a job", field=key
            )


def request_digest(body: Any) -> str:
    """SHA-256 of a request body in canonical form (sorted keys, no spaces): a retry that sends the
    same JSON, however its keys are ordered or spaced, has the same digest."""
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def parse_job_request(body: Any, *, idempotency_key: str | None = None) -> JobSpec:
    if not isinstance(body, dict):
        raise InvalidRequest("body: expected a JSON object", field="body")
    refuse_read_only(body)
    backend = body.get("backend") if body.get("backend") is not None else body.get("target")
    if backend is None:
        raise InvalidRequest('backend: required (e.g. "simulator")', field="backend")
    if not isinstance(backend, str) or not backend.strip():
        raise InvalidRequest("backend: must be a non-empty string", field="backend")
    payload = body.get("input")
    if not isinstance(payload, dict):
        raise InvalidRequest("input: required, a JSON object with the circuit", field="input")
    job_type = _job_type(body.get("type"), payload)
    settings = _object(body, "settings")
    legacy_em = body.get("error_mitigation")
    if isinstance(legacy_em, dict) and "debias" in legacy_em:
        settings = {
            **settings,
            "error_mitigation": {
                **settings.get("error_mitigation", {}),
                "debiasing": bool(legacy_em["debias"]),
            },
        }
    noise = body.get("noise")
    if noise is not None and not isinstance(noise, dict):
        raise InvalidRequest('noise: must be an object like {"model": "ideal", "seed": 1}', field="noise")
    name = body.get("name")
    if isinstance(name, int | float) and not isinstance(name, bool):
        name = str(name)  # a number as a name is read as its text
    name = optional_name(name)
    dry_run = body.get("dry_run", False)
    if dry_run is None:
        dry_run = False
    if not isinstance(dry_run, bool):
        raise InvalidRequest("dry_run: must be true or false", field="dry_run")
    session_id = body.get("session_id")
    if session_id is not None and not isinstance(session_id, str):
        raise InvalidRequest("session_id: must be a string", field="session_id")
    return JobSpec(
        backend=backend,
        job_type=job_type,
        input=payload,
        shots=_shots(body.get("shots")),
        name=name,
        metadata=_object(body, "metadata"),
        settings=settings,
        noise=noise,
        dry_run=dry_run,
        session_id=session_id,
        tags=_tags(body.get("tags")),
        idempotency_key=idempotency_key,
        idempotency_hash=request_digest(body) if idempotency_key else None,
    )


def _job_type(value: Any, payload: dict[str, Any]) -> str | None:
    if value is None:
        if payload.get("format") in ("ionq.circuit.v0", "openqasm"):
            return None  # the v0.3 body: circuits.parse_input reads input.format
        return "ionq.multi-circuit.v1" if "circuits" in payload else "ionq.circuit.v1"
    if not isinstance(value, str):
        raise InvalidRequest('type: must be a string such as "ionq.circuit.v1"', field="type")
    return value


def _shots(value: Any) -> int:
    if value is None:
        return 100
    if isinstance(value, bool):
        raise InvalidRequest("shots: must be an integer", field="shots")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            pass
    raise InvalidRequest(f"shots: must be an integer, got {value!r}"[:200], field="shots")


def _object(body: dict[str, Any], key: str) -> dict[str, Any]:
    value = body.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidRequest(f"{key}: must be a JSON object", field=key)
    return value


def _tags(value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(t, str) for t in value) or len(value) > MAX_TAGS:
        raise InvalidRequest(f"tags: must be a list of at most {MAX_TAGS} strings", field="tags")
    return value
