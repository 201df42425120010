"""Which organization or project a caller may address, and with which roles there.

A key reaches its own organization and project. Inside its organization an owner reaches every
project; a platform administrator reaches every organization (operators manage contracts). Anything
else is a 404, whether or not it exists, so nothing leaks across tenants; what the roles then allow
is :mod:`qumulus.auth.permissions`' decision.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from qumulus.auth.permissions import Action, Actor, allowed, denial_reason
from qumulus.auth.principal import Principal
from qumulus.errors import Forbidden, NotFound
from qumulus.store.models import AuditEvent, Organization, Project


def org_actor(session: Session, principal: Principal, organization_id: str) -> Actor:
    """The caller as seen from ``organization_id``; 404 if it cannot reach it."""
    if organization_id == principal.organization_id:
        return Actor(principal.scopes, principal.is_admin, principal.org_role, None)
    if principal.is_admin and _exists(session, Organization, organization_id):
        return Actor(principal.scopes, True, None, None)
    raise NotFound(f"Organization {organization_id} not found.")


def project_actor(session: Session, principal: Principal, project_id: str) -> tuple[Project, Actor]:
    """The project and the caller as seen from it; 404 if it cannot reach it."""
    project = session.get(Project, project_id) if len(project_id) <= 64 else None
    if project is not None:
        if project.id == principal.project_id:
            return project, principal.actor()
        if project.organization_id == principal.organization_id and principal.org_role == "owner":
            return project, Actor(principal.scopes, principal.is_admin, principal.org_role, None)
        if principal.is_admin:
            return project, Actor(principal.scopes, True, None, None)
    raise NotFound(f"Project {project_id} not found.")


def require(actor: Actor, action: Action) -> None:
    if not allowed(actor, action):
        raise Forbidden(denial_reason(actor, action))


def audit(
    session: Session,
    principal: Principal | None,
    action: str,
    *,
    target_type: str,
    target_id: str | None,
    organization_id: str | None,
    project_id: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Append an audit event to the caller's transaction (so it commits or rolls back with the change)."""
    session.add(
        AuditEvent(
            actor_user_id=principal.user_id if principal else None,
            actor_key_id=principal.api_key_id if principal else None,
            organization_id=organization_id,
            project_id=project_id,
            action=action,
            target_type=target_type,
            target_id=target_id,
            details=details or {},
        )
    )


def _exists(session: Session, model: Any, id_: str) -> bool:
    return len(id_) <= 64 and session.scalar(select(model.id).where(model.id == id_)) is not None
