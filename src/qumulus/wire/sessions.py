"""A session → IonQ's v0.4 session object (wire spec §8.1): ``status`` (IonQ's documented name) and
``state`` (what the clients read), ``usage_time`` in seconds."""

from __future__ import annotations

from typing import Any

from qumulus.domain import SESSION_ENDED, SessionView
from qumulus.timeutil import iso


def session_v04(view: SessionView, organization_id: str) -> dict[str, Any]:
    row = view.row
    body: dict[str, Any] = {
        "id": row.id,
        "organization_id": organization_id,
        "project_id": row.project_id,
        "backend": row.backend,
        "creator_id": row.creator_id,
        "ender_id": row.ender_id,
        "settings": row.settings or {},
        "status": row.status,
        "state": row.status,
        "active": row.status != SESSION_ENDED,
        "created_at": iso(row.created_at),
        "started_at": iso(row.started_at),
        "ended_at": iso(row.ended_at),
        "job_count": view.job_count,
        "usage_time": view.usage_seconds,
        "cost": float(view.cost),
    }
    return body
