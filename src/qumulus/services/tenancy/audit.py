"""The audit log: one append-only row per administrative change or key event.

:func:`record` adds the row to the caller's session, so it commits or rolls back together with the
change it describes. Details never hold secrets (keys, passwords, hashes): :func:`record` refuses
the field names that would carry one, so a careless caller fails loudly in tests, not in a leak.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from qumulus.auth.permissions import Action
from qumulus.auth.principal import Principal
from qumulus.services import paging
from qumulus.services.context import Context
from qumulus.services.tenancy import access
from qumulus.store.models import AuditEvent

_SECRET_FIELDS = frozenset({"key", "secret", "secret_hash", "password", "password_hash"})


def record(
    session: Session,
    principal: Principal,
    action: str,
    *,
    target_type: str,
    target_id: str | None,
    organization_id: str | None,
    project_id: str | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add an audit row for a change made by ``principal`` in this transaction."""
    details = dict(details or {})
    leaked = _SECRET_FIELDS & set(details)
    if leaked:
        raise ValueError(f"audit details must not carry secrets: {sorted(leaked)}")
    if access.is_cli(principal):
        details.setdefault("via", "cli")
    event = AuditEvent(
        actor_user_id=principal.user_id,
        actor_key_id=principal.api_key_id,
        organization_id=organization_id,
        project_id=project_id,
        action=action,
        target_type=target_type,
        target_id=target_id,
        details=details,
    )
    session.add(event)
    return event


@dataclass
class AuditQuery:
    limit: int | None = None
    cursor: str | None = None
    action: str | None = None
    project_id: str | None = None


def list_events(
    platform: Context, principal: Principal, organization_id: str, query: AuditQuery
) -> tuple[list[AuditEvent], str | None]:
    """An organization's audit log, newest first, cursor-paged (organization owners only)."""
    limit = paging.check_limit(query.limit)
    with platform.db.read() as session:
        target = access.organization(session, principal, organization_id)
        access.require(target.actor, Action.AUDIT_READ)
        stmt = select(AuditEvent).where(AuditEvent.organization_id == target.organization.id)
        if query.action:
            stmt = stmt.where(AuditEvent.action == query.action)
        if query.project_id:
            stmt = stmt.where(AuditEvent.project_id == query.project_id)
        stmt = paging.newest_first(stmt, AuditEvent.at, AuditEvent.id, limit, query.cursor)
        rows = list(session.scalars(stmt))
    return paging.split(rows, limit, lambda e: (e.at, e.id))
