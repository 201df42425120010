"""IonQ's v0.4 wire (and its v0.3 leftovers) → the driver interface's types: pure functions.

The same code must read IonQ's cloud and another Qumulus, so every field has its fallbacks, each
documented in the wire reference (``/work/shared/reference/ionq-wire-spec.md``): ``started`` and the
older ``running``; ``failure.error`` and ``failure.message``; usage as ``usage_seconds`` (Qumulus),
``execution_duration_ms`` (v0.4) or ``execution_time`` (v0.3, ms); cost as a number (Qumulus), a
``{value, unit}`` object (IonQ's ``/jobs/{id}/cost``) or ``cost_usd`` (v0.3).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

from qumulus.drivers.base import (
    DeviceCharacterization,
    DeviceStatus,
    Failure,
    ProviderJob,
    ProviderStatus,
)

#: The provider's job status → the interface's. ``deleted`` is final and means the job is gone.
STATUS: dict[str, ProviderStatus] = {
    "submitted": "queued",
    "ready": "queued",
    "queued": "queued",
    "started": "running",
    "running": "running",
    "completed": "completed",
    "failed": "failed",
    "canceled": "canceled",
    "cancelled": "canceled",
    "deleted": "canceled",
}

#: The provider's backend status (ionq package enum) → the platform's status vocabulary.
DEVICE_STATUS = {
    "available": "operational",
    "running": "operational",
    "reserved": "operational",
    "unavailable": "major_outage",
    "offline": "maintenance",
    "calibrating": "maintenance",
    "retired": "retired",
}

#: Metadata key carrying the job's token, so a provider without idempotency can still be searched.
TOKEN_KEY = "qumulus_token"


def submit_body(job: ProviderJob, target: str) -> dict[str, Any]:
    """The ``POST /jobs`` body for ``job`` on the provider's ``target`` backend.

    Only what the provider needs travels: the circuits, shots, settings (error mitigation,
    compilation) and, for a simulator target, noise. The user's metadata stays local (it can be
    kilobytes of client state, and it is the user's, not the provider's); the job carries the
    platform's tags instead.
    """
    body: dict[str, Any] = {
        "type": job.type,
        "backend": target,
        "shots": job.shots,
        "input": dict(job.input),
        "metadata": {**{k: str(v) for k, v in job.tags.items()}, TOKEN_KEY: job.token},
    }
    name = safe_name(job.name)
    if name:
        body["name"] = name
    if job.settings:
        body["settings"] = dict(job.settings)
    if job.noise and target == "simulator":
        body["noise"] = dict(job.noise)
    return body


def safe_name(name: str | None) -> str | None:
    """A job name IonQ's API accepts (letters, digits, space, ``-``, ``_``; 100 characters): clients
    send names such as ``circuit-60`` or ``bell/2``, which a strict provider would refuse."""
    if not name:
        return None
    cleaned = re.sub(r"[^A-Za-z0-9 _-]+", "_", name).strip()[:100]
    return cleaned or None


def status_of(body: Mapping[str, Any]) -> tuple[ProviderStatus, str]:
    """(mapped status, the provider's word); an unknown word counts as still queued."""
    word = str(body.get("status") or "").lower()
    return STATUS.get(word, "queued"), word


def failure_of(body: Mapping[str, Any]) -> Failure:
    raw = body.get("failure")
    if not isinstance(raw, Mapping):
        return Failure("QuantumComputerError", "provider: the job failed and gave no reason")
    code = str(raw.get("code") or "QuantumComputerError")
    message = str(raw.get("message") or raw.get("error") or "no reason given")
    return Failure(code, f"provider: {message}")


def usage_of(body: Mapping[str, Any]) -> float | None:
    """Seconds of device time the provider reports."""
    seconds = _number(body.get("usage_seconds"))
    if seconds is not None:
        return seconds
    for key in ("execution_duration_ms", "execution_time"):
        ms = _number(body.get(key))
        if ms is not None:
            return ms / 1000.0
    return None


def cost_of(body: Mapping[str, Any]) -> tuple[Decimal | None, str | None]:
    """(amount, currency) from a job body or a ``/jobs/{id}/cost`` body."""
    raw = body.get("cost")
    if isinstance(raw, Mapping):
        return _decimal(raw.get("value")), _currency(raw.get("unit"))
    amount = _decimal(raw)
    if amount is not None:
        return amount, _currency(body.get("currency"))
    return _decimal(body.get("cost_usd")), "USD" if body.get("cost_usd") is not None else None


def distribution(raw: Any) -> dict[int, float]:
    """A flat distribution (decimal-string keys) → {outcome: probability}; ValueError if malformed."""
    if not isinstance(raw, Mapping) or not raw:
        raise ValueError("the provider's distribution is empty or not an object")
    out: dict[int, float] = {}
    for key, value in raw.items():
        number = _number(value)
        if number is None:
            raise ValueError(f"the provider's distribution has a non-number for {key!r}")
        out[int(str(key), 10)] = number
    return out


def distributions(raw: Any, child_ids: list[str]) -> list[dict[int, float]]:
    """A multi-circuit parent's ``{child id: distribution}`` → distributions in circuit order."""
    if not isinstance(raw, Mapping):
        raise ValueError("the provider's multi-circuit results are not an object")
    if child_ids and all(c in raw for c in child_ids):
        return [distribution(raw[c]) for c in child_ids]
    return [distribution(v) for v in raw.values()]  # key order is circuit order (wire spec §5.3)


def shots_of(raw: Any) -> list[int]:
    """Per-shot outcomes (``[0, 3, ...]`` or ``["0", "3", ...]``)."""
    if not isinstance(raw, list):
        raise ValueError("the provider's shots are not a list")
    return [int(str(v), 10) for v in raw]


def histogram_of(raw: Any) -> dict[int, int]:
    if not isinstance(raw, Mapping):
        raise ValueError("the provider's histogram is not an object")
    return {int(str(k), 10): int(v) for k, v in raw.items()}


def device_status(body: Mapping[str, Any]) -> DeviceStatus:
    word = str(body.get("status") or "").lower()
    status = DEVICE_STATUS.get(word, "major_outage")
    if status == "operational" and body.get("degraded") is True:
        status = "degraded"
    qubits = body.get("qubits")
    queue = _number(body.get("average_queue_time"))
    message = str(body.get("status_message") or "")
    if word not in DEVICE_STATUS:
        message = message or f"the provider reports an unknown status {word!r}"
    return DeviceStatus(
        status=status,  # type: ignore[arg-type]
        message=message,
        qubits=qubits if isinstance(qubits, int) and not isinstance(qubits, bool) else None,
        average_queue_ms=int(queue) if queue is not None else None,
        provider_status=word,
    )


def characterization_of(body: Mapping[str, Any], *, qubits: int) -> DeviceCharacterization:
    """A v0.4 characterization (ISO ``date``) or a v0.3 one (epoch ``date``)."""
    count = body.get("qubits")
    data = {
        "fidelity": body.get("fidelity") or {},
        "timing": body.get("timing") or {},
        "connectivity": body.get("connectivity") or [],
    }
    return DeviceCharacterization(
        provider_id=str(body["id"]) if body.get("id") is not None else None,
        date=_date(body.get("date")),
        qubits=count if isinstance(count, int) and not isinstance(count, bool) else qubits,
        data=data,
    )


def _date(value: Any) -> datetime | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.fromtimestamp(float(value), tz=timezone.utc)
    if isinstance(value, str) and value:
        try:
            parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
    return None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return amount if amount.is_finite() else None


def _currency(value: Any) -> str | None:
    return str(value).upper() if isinstance(value, str) and value else None


def http_failure(status_code: int, body: Any, text: str) -> Failure:
    """A refused request (4xx other than 404/429) → the failure the local job records."""
    message = text[:300]
    if isinstance(body, Mapping) and body.get("message"):
        message = str(body["message"])
    if status_code in (401, 403):
        return Failure(
            "InternalError", f"provider refused the site's credentials (HTTP {status_code}): {message}"
        )
    if status_code == 402:
        return Failure("QuotaExhaustedError", f"provider: {message}")
    return Failure("InvalidInput", f"provider refused the job (HTTP {status_code}): {message}")
