"""Backends and their characterizations → IonQ wire JSON (wire spec §7), with each client's quirks:
qiskit reads ``status`` from a characterization, cirq the legacy ``/calibrations`` shape, the ionq
package epoch-integer dates.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from qumulus.backends.status import Planned
from qumulus.domain import BackendState
from qumulus.store.models import Backend, Characterization, MaintenanceWindow, Reservation
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
    if backend.kind == "simulator":
        # ``qubits`` is what every client reads (the general width, like IonQ's 29); wider circuits
        # of some classes run too (docs/simulation.md, "Widths per circuit class").
        from qumulus.sim.ideal import widths

        body["qubits_by_class"] = {**widths(), "any": backend.qubits}
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


def window(row: Planned | MaintenanceWindow) -> dict[str, Any]:
    body = {
        "id": row.id,
        "backend": row.backend,
        "starts_at": iso(row.starts_at),
        "ends_at": iso(row.ends_at),
        "message": row.message,
    }
    if isinstance(row, MaintenanceWindow):
        body["status"] = row.status
    return body


def backend_state(state: BackendState) -> dict[str, Any]:
    now = state.current
    return {
        "backend": state.backend,
        "status": now.status,
        "wire_status": BACKEND_STATUS.get(now.status, "unavailable"),
        "message": now.message,
        "updated_at": iso(state.updated_at),
        "in_maintenance_window": now.window.id if now.window is not None else None,
        "maintenance": [window(w) for w in state.upcoming],
    }


def reservation(row: Reservation) -> dict[str, Any]:
    return {
        "id": row.id,
        "organization_id": row.organization_id,
        "backend": row.backend,
        "starts_at": iso(row.starts_at),
        "ends_at": iso(row.ends_at),
        "status": row.status,
        "created_by": row.created_by,
        "created_at": iso(row.created_at),
    }
