"""Reservations: an organization alone on a backend for a window of time (DESIGN §3, issue 4).

Organization owners *request* a window (status ``requested``); platform administrators *approve*
it, or create one directly (``approved``). Only approved windows take effect: inside one, the claim
starts only the reserving organization's work on that backend, and before it the backend drains
(:func:`qumulus.scheduling.policy.gate`). Two approved windows on one backend may not overlap
(409). Owners and administrators can cancel. Every change writes an audit event in its transaction,
and drops this process's cached scheduling terms so the next claim sees it (other processes within
``runtime.fairshare.TERMS_TTL_S``).

Reach follows the tenancy rules: another organization's reservation is a 404, a member's request a
403.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from qumulus.auth.permissions import Action, Actor
from qumulus.auth.principal import Principal
from qumulus.errors import Conflict, InvalidRequest, NotFound
from qumulus.runtime import fairshare
from qumulus.services.context import Context
from qumulus.services.tenancy import access, audit, common
from qumulus.store.models import Backend, Reservation
from qumulus.timeutil import utcnow

#: Longest window one reservation may cover.
MAX_WINDOW = timedelta(days=31)


def list_reservations(platform: Context, principal: Principal, organization_id: str) -> list[Reservation]:
    """An organization's reservations that have not ended, soonest first (any member may look)."""
    with platform.db.read() as session:
        target = access.organization(session, principal, organization_id)
        access.require(target.actor, Action.ORG_READ)
        stmt = (
            select(Reservation)
            .where(Reservation.organization_id == target.organization.id, Reservation.ends_at > utcnow())
            .order_by(Reservation.starts_at, Reservation.id)
        )
        return list(session.scalars(stmt))


def reserved_windows(platform: Context, *, horizon: timedelta = timedelta(days=7)) -> dict[str, list[Any]]:
    """Approved windows that have not ended and start within ``horizon``, per backend, soonest
    first. Public (the backends list shows them): times only, never which organization holds them."""
    now = utcnow()
    with platform.db.read() as session:
        rows = session.execute(
            select(Reservation.backend, Reservation.starts_at, Reservation.ends_at)
            .where(
                Reservation.status == "approved",
                Reservation.ends_at > now,
                Reservation.starts_at < now + horizon,
            )
            .order_by(Reservation.starts_at)
        ).all()
    windows: dict[str, list[Any]] = {}
    for row in rows:
        windows.setdefault(row.backend, []).append((row.starts_at, row.ends_at))
    return windows


def create_reservation(
    platform: Context,
    principal: Principal,
    organization_id: str,
    *,
    backend: str,
    starts_at: datetime,
    ends_at: datetime,
) -> Reservation:
    """A request by an organization owner, or an approved window when an administrator asks."""
    starts_at, ends_at = _utc(starts_at), _utc(ends_at)
    if ends_at <= starts_at:
        raise InvalidRequest("ends_at: must be after starts_at", field="ends_at")
    if ends_at - starts_at > MAX_WINDOW:
        raise InvalidRequest(f"ends_at: a reservation covers at most {MAX_WINDOW.days} days", field="ends_at")
    if ends_at <= utcnow():
        raise InvalidRequest("ends_at: the window is already over", field="ends_at")
    with common.writing(platform) as session:
        target = access.organization(session, principal, organization_id)
        admin = target.actor.is_admin
        access.require(target.actor, Action.PLATFORM_MANAGE if admin else Action.RESERVATION_REQUEST)
        if session.get(Backend, backend) is None:
            raise InvalidRequest(f"backend: no backend named {backend!r}", field="backend")
        row = Reservation(
            backend=backend,
            organization_id=target.organization.id,
            starts_at=starts_at,
            ends_at=ends_at,
            status="approved" if admin else "requested",
            created_by=principal.user_id,
        )
        if admin:
            _refuse_overlap(session, row)
        session.add(row)
        session.flush()
        _audit(session, principal, row, "reservation.create" if admin else "reservation.request")
    fairshare.invalidate()
    return row


def approve_reservation(platform: Context, principal: Principal, reservation_id: str) -> Reservation:
    """Platform administrators approve a requested window (409 if it overlaps an approved one)."""
    with common.writing(platform) as session:
        row, actor = _find(session, principal, reservation_id)
        access.require(actor, Action.PLATFORM_MANAGE)
        if row.status != "requested":
            raise Conflict(f"reservation {row.id} is {row.status}, only a requested one can be approved")
        _refuse_overlap(session, row)
        row.status = "approved"
        _audit(session, principal, row, "reservation.approve")
    fairshare.invalidate()
    return row


def cancel_reservation(platform: Context, principal: Principal, reservation_id: str) -> Reservation:
    """The organization's owners or an administrator withdraw a window (requested or approved)."""
    with common.writing(platform) as session:
        row, actor = _find(session, principal, reservation_id)
        access.require(actor, Action.RESERVATION_REQUEST)
        if row.status == "canceled":
            raise Conflict(f"reservation {row.id} is already canceled")
        row.status = "canceled"
        _audit(session, principal, row, "reservation.cancel")
    fairshare.invalidate()
    return row


def _find(session: Session, principal: Principal, reservation_id: str) -> tuple[Reservation, Actor]:
    row = session.get(Reservation, reservation_id) if 0 < len(reservation_id) <= 64 else None
    if row is None:
        raise NotFound(f"Reservation {reservation_id} not found.")
    try:
        target = access.organization(session, principal, row.organization_id)
    except NotFound:
        raise NotFound(f"Reservation {reservation_id} not found.") from None
    return row, target.actor


def _refuse_overlap(session: Session, row: Reservation) -> None:
    clash = session.scalar(
        select(Reservation.id).where(
            Reservation.backend == row.backend,
            Reservation.status == "approved",
            Reservation.id != row.id,
            Reservation.starts_at < row.ends_at,
            Reservation.ends_at > row.starts_at,
        )
    )
    if clash is not None:
        raise Conflict(f"the window overlaps approved reservation {clash} on {row.backend}")


def _audit(session: Session, principal: Principal, row: Reservation, action: str) -> None:
    audit.record(
        session,
        principal,
        action,
        target_type="reservation",
        target_id=row.id,
        organization_id=row.organization_id,
        details={
            "backend": row.backend,
            "starts_at": row.starts_at.isoformat(),
            "ends_at": row.ends_at.isoformat(),
            "status": row.status,
        },
    )


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)
