"""Console login sessions: create at login, look up per request, revoke at logout.

The cookie holds a random token; the table holds only its SHA-256, so the database alone cannot be
replayed as a login. Revocation is a row update, so logout ends the session in every API process
at once (no signed token that stays valid until it expires). The session also remembers the
project the console acts in: like an API key, a console principal works in exactly one project.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from qumulus.auth.permissions import DEFAULT_SCOPES
from qumulus.auth.principal import Principal
from qumulus.errors import NotFound
from qumulus.services.context import Context
from qumulus.services.tenancy import access
from qumulus.store.models import (
    ConsoleSession,
    Organization,
    OrganizationMember,
    Project,
    ProjectMember,
    User,
)
from qumulus.timeutil import utcnow

SESSION_LIFETIME = timedelta(hours=12)


@dataclass(frozen=True)
class ConsoleUser:
    """The logged-in user as the console sees them, with the principal it acts as."""

    session_id: str
    csrf_token: str
    user_id: str
    email: str
    is_admin: bool
    principal: Principal
    project_name: str
    organization_name: str


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start(platform: Context, user_id: str) -> str:
    """A new session for ``user_id``; returns the cookie token (never stored)."""
    token = secrets.token_urlsafe(32)
    project_id = None
    projects = visible_projects(platform, user_id)
    if projects:
        project_id = projects[0][0].id
    with platform.db.write() as session:
        session.add(
            ConsoleSession(
                id=_digest(token),
                user_id=user_id,
                project_id=project_id,
                csrf_token=secrets.token_urlsafe(24),
                expires_at=utcnow() + SESSION_LIFETIME,
            )
        )
    return token


def end(platform: Context, token: str) -> None:
    """Revoke the session: the same cookie is refused from now on, in every process."""
    with platform.db.write() as session:
        session.execute(
            update(ConsoleSession)
            .where(ConsoleSession.id == _digest(token), ConsoleSession.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )


def visible_projects(platform: Context, user_id: str) -> list[tuple[Project, Organization]]:
    """Projects the user may work in: those they are a member of, and every project of the
    organizations they own (an owner holds every project permission there), oldest first."""
    with platform.db.read() as session:
        owned = select(OrganizationMember.organization_id).where(
            OrganizationMember.user_id == user_id, OrganizationMember.role == "owner"
        )
        member_of = select(ProjectMember.project_id).where(ProjectMember.user_id == user_id)
        rows = session.execute(
            select(Project, Organization)
            .join(Organization, Organization.id == Project.organization_id)
            .where(
                Project.archived_at.is_(None),
                or_(Project.id.in_(member_of), Project.organization_id.in_(owned)),
            )
            .order_by(Project.created_at, Project.id)
        ).all()
        return [(p, o) for p, o in rows]


def organizations_of(platform: Context, user_id: str) -> list[tuple[Organization, str]]:
    """The organizations the user belongs to and their role in each (owners first), for a user who
    works in no project yet: an owner is led to create the first one, a member to ask for one."""
    with platform.db.read() as session:
        rows = session.execute(
            select(Organization, OrganizationMember.role)
            .join(OrganizationMember, OrganizationMember.organization_id == Organization.id)
            .where(OrganizationMember.user_id == user_id)
            .order_by(OrganizationMember.role.desc(), Organization.created_at, Organization.id)
        ).all()
        return [(o, r) for o, r in rows]


def principal_in_organization(platform: Context, me: ConsoleUser, organization_id: str) -> Principal:
    """The user acting in one of their organizations before any project exists there (to create
    its first project); an organization they do not belong to is a 404."""
    if organization_id not in {o.id for o, _ in organizations_of(platform, me.user_id)}:
        raise NotFound(f"Organization {organization_id} not found.")
    with platform.db.read() as session:
        return Principal(
            organization_id=organization_id,
            project_id="",
            user_id=me.user_id,
            api_key_id=None,
            scopes=DEFAULT_SCOPES,
            is_admin=me.is_admin,
            org_role=access.org_role(session, me.user_id, organization_id),
        )


def current(platform: Context, token: str | None) -> ConsoleUser | None:
    """The session's user and principal, or None when the token is unknown, expired or revoked."""
    if not token or len(token) > 200:
        return None
    with platform.db.read() as session:
        row = session.get(ConsoleSession, _digest(token))
        if row is None or row.revoked_at is not None or row.expires_at <= utcnow():
            return None
        user = session.get(User, row.user_id)
        if user is None:
            return None
        project = session.get(Project, row.project_id) if row.project_id else None
        org = session.get(Organization, project.organization_id) if project else None
        principal = _principal(session, user, project)
        return ConsoleUser(
            session_id=row.id,
            csrf_token=row.csrf_token,
            user_id=user.id,
            email=user.email,
            is_admin=bool(user.is_admin),
            principal=principal,
            project_name=project.name if project else "",
            organization_name=org.name if org else "",
        )


def _principal(session: Session, user: User, project: Project | None) -> Principal:
    """The user acting in ``project`` with every scope: the console is the user themself."""
    org_id = project.organization_id if project else ""
    return Principal(
        organization_id=org_id,
        project_id=project.id if project else "",
        user_id=user.id,
        api_key_id=None,
        scopes=DEFAULT_SCOPES,
        is_admin=bool(user.is_admin),
        org_role=access.org_role(session, user.id, org_id) if project else None,
        project_role=access.project_role(session, user.id, project.id) if project else None,
    )


def principal_for(platform: Context, me: ConsoleUser, project_id: str | None) -> Principal:
    """The user acting in another of their projects (a filter or a link), without changing the
    session's project; one they cannot work in is a 404."""
    if not project_id or project_id == me.principal.project_id:
        return me.principal
    if project_id not in {p.id for p, _ in visible_projects(platform, me.user_id)}:
        raise NotFound(f"Project {project_id} not found.")
    with platform.db.read() as session:
        user = session.get(User, me.user_id)
        project = session.get(Project, project_id)
        if user is None or project is None:
            raise NotFound(f"Project {project_id} not found.")
        return _principal(session, user, project)


def switch_project(platform: Context, token: str, project_id: str) -> None:
    """Act in another project; one the user cannot work in is a 404, like any unreachable target."""
    me = current(platform, token)
    if me is None:
        raise NotFound("No session.")
    if project_id not in {p.id for p, _ in visible_projects(platform, me.user_id)}:
        raise NotFound(f"Project {project_id} not found.")
    with platform.db.write() as session:
        session.execute(
            update(ConsoleSession).where(ConsoleSession.id == _digest(token)).values(project_id=project_id)
        )
