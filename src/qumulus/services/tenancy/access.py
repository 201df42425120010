"""Reach and roles of a caller relative to a target organization or project.

:mod:`qumulus.auth.permissions` decides *what* a role may do; this module finds *which* roles the
caller holds on a given target, and whether the target is reachable at all:

* a key reaches its own organization only (a platform administrator reaches every one); a target
  outside reach is a 404, so nothing leaks;
* inside the organization, a project is visible to an organization owner, to the key's own project,
  and to the projects where the key's user is a member; any other project is a 404 too;
* roles are read from the database in the caller's transaction (not from the 2 s key cache), so a
  demoted owner loses administrative rights at once.

A visible target the caller may not act on is a 403, raised by :func:`require`.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from qumulus.auth.permissions import DEFAULT_SCOPES, Action, Actor, allowed, denial_reason
from qumulus.auth.principal import Principal
from qumulus.errors import Forbidden, NotFound
from qumulus.store.models import Organization, OrganizationMember, Project, ProjectMember, User

#: The caller of the admin CLI: the platform administrator, working directly on the database.
CLI_ADMIN = Principal(
    organization_id="",
    project_id="",
    user_id=None,
    api_key_id=None,
    scopes=DEFAULT_SCOPES,
    is_admin=True,
)


def is_cli(principal: Principal) -> bool:
    return principal is CLI_ADMIN


def is_admin(session: Session, principal: Principal) -> bool:
    """Platform administrator, read fresh (the key cache may be up to 2 s old)."""
    if principal.user_id is None:
        return principal is CLI_ADMIN  # a key without a user holds no role at all
    return bool(session.scalar(select(User.is_admin).where(User.id == principal.user_id)))


def org_role(session: Session, user_id: str | None, organization_id: str) -> str | None:
    if user_id is None:
        return None
    return session.scalar(
        select(OrganizationMember.role).where(
            OrganizationMember.organization_id == organization_id, OrganizationMember.user_id == user_id
        )
    )


def project_role(session: Session, user_id: str | None, project_id: str) -> str | None:
    if user_id is None:
        return None
    return session.scalar(
        select(ProjectMember.role).where(
            ProjectMember.project_id == project_id, ProjectMember.user_id == user_id
        )
    )


@dataclass(frozen=True)
class OrgTarget:
    organization: Organization
    actor: Actor


@dataclass(frozen=True)
class ProjectTarget:
    project: Project
    actor: Actor


def reaches_org(principal: Principal, admin: bool, organization_id: str) -> bool:
    """Pure: whether the caller's key reaches an organization at all."""
    return admin or organization_id == principal.organization_id


def organization(session: Session, principal: Principal, organization_id: str) -> OrgTarget:
    """The organization and the caller's roles there, or 404 when it is out of reach."""
    admin = is_admin(session, principal)
    org = session.get(Organization, organization_id) if _plausible_id(organization_id) else None
    if org is None or not reaches_org(principal, admin, org.id):
        raise NotFound(f"Organization {organization_id} not found.")
    actor = Actor(
        scopes=principal.scopes,
        is_admin=admin,
        org_role=org_role(session, principal.user_id, org.id),
    )
    return OrgTarget(org, actor)


def project(
    session: Session, principal: Principal, project_id: str, *, include_archived: bool = True
) -> ProjectTarget:
    """The project and the caller's roles there, or 404 when it is out of reach or invisible."""
    admin = is_admin(session, principal)
    row = session.get(Project, project_id) if _plausible_id(project_id) else None
    if row is None or not reaches_org(principal, admin, row.organization_id):
        raise NotFound(f"Project {project_id} not found.")
    actor = Actor(
        scopes=principal.scopes,
        is_admin=admin,
        org_role=org_role(session, principal.user_id, row.organization_id),
        project_role=project_role(session, principal.user_id, row.id),
    )
    if not project_visible(principal, actor, row.id):
        raise NotFound(f"Project {project_id} not found.")
    if row.archived_at is not None and not include_archived:
        raise NotFound(f"Project {project_id} not found.")
    return ProjectTarget(row, actor)


def project_visible(principal: Principal, actor: Actor, project_id: str) -> bool:
    """Pure: an organization owner sees every project of it, anyone else their own ones."""
    return (
        actor.is_admin
        or actor.org_role == "owner"
        or actor.project_role is not None
        or project_id == principal.project_id
    )


def require(actor: Actor, action: Action, *, owns_target: bool = False) -> None:
    """403 naming the missing role or scope unless the matrix allows ``action``."""
    if not allowed(actor, action, owns_target=owns_target):
        raise Forbidden(denial_reason(actor, action, owns_target=owns_target))


def _plausible_id(value: str) -> bool:
    return isinstance(value, str) and 0 < len(value) <= 64
