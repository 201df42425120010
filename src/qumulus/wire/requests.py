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
from qumulus.circuits.ionq_json import CIRCUIT_V0_FORMAT, OPENQASM_FORMAT
from qumulus.domain import JobSpec
from qumulus.errors import InvalidCircuit, InvalidRequest
from qumulus.values import optional_name

MAX_NAME = values.MAX_NAME
MAX_TAGS = 50
#: Characters in one tag (the name rule's length).
MAX_TAG_CHARS = values.MAX_NAME


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
    _check_format(payload)
    job_type = _job_type(body.get("type"), payload)
    settings = _settings(_object(body, "settings"))
    legacy_em = body.get("error_mitigation")
    if legacy_em is not None:
        debias = _strict_object(legacy_em, "error_mitigation", {"debias": bool}).get("debias")
        if debias is not None:
            settings = {
                **settings,
                "error_mitigation": {**settings.get("error_mitigation", {}), "debiasing": debias},
            }
    noise = body.get("noise")
    if noise is not None:
        noise = _noise(noise)
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


#: ``input.format`` values a body may carry (v0.3 bodies; others would silently run as v1).
INPUT_FORMATS = (CIRCUIT_V0_FORMAT, OPENQASM_FORMAT)
#: Largest noise seed: a 63-bit integer (numpy's generators take any; the store keeps it as JSON).
MAX_SEED = (1 << 63) - 1


def _check_format(payload: dict[str, Any]) -> None:
    fmt = payload.get("format")
    if fmt is not None and fmt not in INPUT_FORMATS:
        raise InvalidCircuit(
            f"input.format: unsupported format {str(fmt)[:60]!r}; one of {', '.join(INPUT_FORMATS)}, "
            "or leave it out and give the job's type",
            field="input.format",
        )


def _strict_object(value: Any, field: str, known: dict[str, type]) -> dict[str, Any]:
    """An object whose known keys have exactly the given JSON types (``"yes"`` is no boolean, ``1``
    no boolean either); null counts as absent; unknown keys are refused, naming them."""
    if not isinstance(value, dict):
        raise InvalidRequest(f"{field}: must be a JSON object", field=field)
    for key, item in value.items():
        if key not in known:
            raise InvalidRequest(
                f"{field}.{key}: unknown field; {field} takes {', '.join(known)}", field=f"{field}.{key}"
            )
        kind = known[key]
        if item is not None and (not isinstance(item, kind) or (kind is not bool and isinstance(item, bool))):
            name = {bool: "true or false", int: "an integer", str: "a string"}.get(kind, kind.__name__)
            raise InvalidRequest(
                f"{field}.{key}: must be {name}, got {str(item)[:40]!r}", field=f"{field}.{key}"
            )
    return value


def _settings(settings: dict[str, Any]) -> dict[str, Any]:
    """``settings`` as given (qiskit merges its ``job_settings`` in), with ``error_mitigation`` typed:
    it decides how a job runs, so ``"on"`` or ``"yes"`` are refused rather than read one way or another."""
    em = settings.get("error_mitigation")
    if em is not None:
        _strict_object(em, "settings.error_mitigation", {"debiasing": bool, "symmetry_verification": bool})
    return settings


def _noise(noise: Any) -> dict[str, Any]:
    if not isinstance(noise, dict):
        raise InvalidRequest('noise: must be an object like {"model": "ideal", "seed": 1}', field="noise")
    _strict_object(noise, "noise", {"model": str, "seed": int})
    seed = noise.get("seed")
    if seed is not None and not 0 <= seed <= MAX_SEED:
        raise InvalidRequest(f"noise.seed: must be from 0 to {MAX_SEED}, got {seed}", field="noise.seed")
    return noise


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
    for n, tag in enumerate(value):
        if len(tag) > MAX_TAG_CHARS:
            raise InvalidRequest(
                f"tags[{n}]: {len(tag)} characters; a tag has at most {MAX_TAG_CHARS}", field=f"tags[{n}]"
            )
    return value
