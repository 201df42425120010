"""UTC time helpers and the two date formats clients need (ISO with milliseconds, epoch seconds)."""

from __future__ import annotations

from datetime import datetime, timezone


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def iso(value: datetime | None) -> str | None:
    """``2025-06-16T12:00:00.000Z``: cirq splits on '.', qiskit needs fromisoformat after 'Z'→'+00:00'."""
    if value is None:
        return None
    value = value.astimezone(timezone.utc)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def epoch(value: datetime | None) -> int | None:
    """Whole epoch seconds: the ionq package's pydantic models want ints."""
    if value is None:
        return None
    return int(value.timestamp())


def parse_iso(text: str) -> datetime:
    """Parse an ISO-8601 timestamp (``Z`` allowed); naive values are taken as UTC."""
    value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value
