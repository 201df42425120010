"""The backend status lifecycle: administrators set a status or schedule maintenance; everyone reads.

* :func:`set_status` — a platform administrator (``Action.PLATFORM_MANAGE``) sets a backend's status
  and message; the change, a history row (:class:`BackendStatusEvent`) and an audit event
  (``backend.status``) are one transaction.
* :func:`schedule_maintenance` / :func:`cancel_maintenance` — a window in which the backend is in
  ``maintenance`` (audited as ``backend.maintenance`` / ``backend.maintenance_cancel``).
* :func:`status_page` and :func:`history` — public reads for a status page.

What a status *does* is in :mod:`qumulus.backends.status` (pure): maintenance and major outage start
no job (the claim skips them, :mod:`qumulus.runtime.availability`), retired refuses new jobs
(``services.jobs.submission.backend_row``). Every change drops this process's backend and
closure caches and wakes the workers, so work held back starts at once when a backend comes back.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from qumulus.auth.permissions import Action, Actor
from qumulus.auth.principal import Principal
from qumulus.backends.catalog import resolve_backend_name
from qumulus.backends.status import STATUSES, Effective, Planned, check_status, effective
from qumulus.domain import BackendState
from qumulus.errors import Conflict, InvalidRequest, NotFound
from qumulus.runtime import availability
from qumulus.services.context import Context
from qumulus.services.tenancy import access, audit
from qumulus.store.models import Backend, BackendStatusEvent, MaintenanceWindow
from qumulus.timeutil import utcnow

#: Longest maintenance window one request may schedule.
MAX_WINDOW = timedelta(days=31)
#: Longest message kept with a status.
MAX_MESSAGE = 2000


def _require_admin(session: Session, principal: Principal) -> None:
    access.require(
        Actor(scopes=principal.scopes, is_admin=access.is_admin(session, principal)), Action.PLATFORM_MANAGE
    )


def _message(value: object) -> str:
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > MAX_MESSAGE:
        raise InvalidRequest(f"message: a string of at most {MAX_MESSAGE} characters", field="message")
    return value.strip()


def _backend(session: Session, name: str, *, lock: bool = False) -> Backend:
    stmt = select(Backend).where(Backend.name == resolve_backend_name(name))
    row = session.scalar(stmt.with_for_update() if lock else stmt)
    if row is None:
        raise NotFound(f"Backend {name} not found.")
    return row


def _changed(platform: Context) -> None:
    platform.backends.invalidate()
    availability.invalidate()
    platform.waker.notify(64)  # held work may start now


def set_status(
    platform: Context, principal: Principal, name: str, status: object, message: object
) -> Backend:
    """Set ``name``'s status (administrators only); returns the updated backend."""
    with platform.db.write() as session:
        _require_admin(session, principal)  # first: a non-administrator learns nothing from a 400
        try:
            new = check_status(status)
        except ValueError as exc:
            raise InvalidRequest(f"status: {exc}", field="status") from None
        text = _message(message)
        backend = _backend(session, name, lock=True)
        previous = backend.status
        backend.status = new
        backend.status_message = text
        backend.updated_at = utcnow()
        session.add(
            BackendStatusEvent(
                backend=backend.name,
                status=new,
                previous=previous,
                message=text,
                actor_user_id=principal.user_id,
            )
        )
        audit.record(
            session,
            principal,
            "backend.status",
            target_type="backend",
            target_id=backend.name,
            organization_id=None,
            details={"status": new, "previous": previous, "message": text},
        )
        session.flush()
        session.expunge(backend)
    _changed(platform)
    return backend


def _utc(value: datetime, field: str) -> datetime:
    if not isinstance(value, datetime):
        raise InvalidRequest(f"{field}: an ISO-8601 date", field=field)
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def schedule_maintenance(
    platform: Context,
    principal: Principal,
    name: str,
    *,
    starts_at: datetime,
    ends_at: datetime,
    message: object,
) -> MaintenanceWindow:
    """Schedule a maintenance window (administrators only). Windows may overlap (they just add up)."""
    with platform.db.write() as session:
        _require_admin(session, principal)
        start, end = _utc(starts_at, "starts_at"), _utc(ends_at, "ends_at")
        if end <= start:
            raise InvalidRequest("ends_at: must be after starts_at", field="ends_at")
        if end - start > MAX_WINDOW:
            raise InvalidRequest(f"ends_at: a window is at most {MAX_WINDOW.days} days", field="ends_at")
        if end <= utcnow():
            raise InvalidRequest("ends_at: the window is already over", field="ends_at")
        text = _message(message)
        backend = _backend(session, name)
        if backend.status == "retired":
            raise Conflict(f"Backend {backend.name} is retired; it needs no maintenance.")
        row = MaintenanceWindow(
            backend=backend.name, starts_at=start, ends_at=end, message=text, created_by=principal.user_id
        )
        session.add(row)
        session.flush()
        audit.record(
            session,
            principal,
            "backend.maintenance",
            target_type="backend",
            target_id=backend.name,
            organization_id=None,
            details={
                "window_id": row.id,
                "starts_at": start.isoformat(),
                "ends_at": end.isoformat(),
                "message": text,
            },
        )
        session.expunge(row)
    _changed(platform)
    return row


def cancel_maintenance(
    platform: Context, principal: Principal, name: str, window_id: str
) -> MaintenanceWindow:
    """Cancel a scheduled window (administrators only); the backend returns to its stored status."""
    with platform.db.write() as session:
        _require_admin(session, principal)
        backend = _backend(session, name)
        row = session.get(MaintenanceWindow, window_id) if 0 < len(window_id) <= 64 else None
        if row is None or row.backend != backend.name:
            raise NotFound(f"Maintenance window {window_id} not found for {backend.name}.")
        if row.status != "scheduled":
            raise Conflict(f"Maintenance window {window_id} is already {row.status}.")
        row.status = "canceled"
        audit.record(
            session,
            principal,
            "backend.maintenance_cancel",
            target_type="backend",
            target_id=backend.name,
            organization_id=None,
            details={"window_id": row.id},
        )
        session.flush()
        session.expunge(row)
    _changed(platform)
    return row


def _planned(session: Session, now: datetime, backend: str | None = None) -> dict[str, list[Planned]]:
    stmt = (
        select(MaintenanceWindow)
        .where(MaintenanceWindow.status == "scheduled", MaintenanceWindow.ends_at > now)
        .order_by(MaintenanceWindow.starts_at, MaintenanceWindow.id)
    )
    if backend is not None:
        stmt = stmt.where(MaintenanceWindow.backend == backend)
    out: dict[str, list[Planned]] = {}
    for w in session.scalars(stmt):
        out.setdefault(w.backend, []).append(Planned(w.id, w.backend, w.starts_at, w.ends_at, w.message))
    return out


def current(platform: Context, backends: list[Backend], now: datetime | None = None) -> dict[str, Effective]:
    """The status in force now of each of ``backends`` (a maintenance window overrides milder ones)."""
    now = now or utcnow()
    with platform.db.read() as session:
        planned = _planned(session, now)
    return {b.name: effective(b.status, b.status_message, planned.get(b.name, ()), now) for b in backends}


def status_page(platform: Context, now: datetime | None = None) -> list[BackendState]:
    """Every backend's status now, with its current and upcoming maintenance windows."""
    now = now or utcnow()
    with platform.db.read() as session:
        rows = list(session.scalars(select(Backend).order_by(Backend.kind.desc(), Backend.name)))
        planned = _planned(session, now)
    return [
        BackendState(
            backend=b.name,
            stored=b.status,
            current=effective(b.status, b.status_message, planned.get(b.name, ()), now),
            updated_at=b.updated_at,
            upcoming=planned.get(b.name, []),
        )
        for b in rows
    ]


def history(
    platform: Context, name: str, *, limit: int = 50
) -> tuple[list[BackendStatusEvent], list[MaintenanceWindow]]:
    """A backend's status changes (newest first) and its maintenance windows (canceled included)."""
    if not 1 <= limit <= 500:
        raise InvalidRequest("limit: from 1 to 500", field="limit")
    with platform.db.read() as session:
        backend = _backend(session, name)
        events = list(
            session.scalars(
                select(BackendStatusEvent)
                .where(BackendStatusEvent.backend == backend.name)
                .order_by(BackendStatusEvent.at.desc(), BackendStatusEvent.id)
                .limit(limit)
            )
        )
        windows = list(
            session.scalars(
                select(MaintenanceWindow)
                .where(MaintenanceWindow.backend == backend.name)
                .order_by(MaintenanceWindow.starts_at.desc(), MaintenanceWindow.id)
                .limit(limit)
            )
        )
    return events, windows


__all__ = [
    "STATUSES",
    "BackendState",
    "cancel_maintenance",
    "current",
    "history",
    "schedule_maintenance",
    "set_status",
    "status_page",
]
