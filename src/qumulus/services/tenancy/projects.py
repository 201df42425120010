"""Projects and their members: create, read, update, archive; add, change role, remove.

Same shape as :mod:`qumulus.services.tenancy.organizations`. A project member must already belong to the
project's organization. Removing a member revokes their keys in the project; archiving a project
revokes all of its keys (its jobs and audit trail stay readable).
"""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from qumulus.auth.permissions import Action
from qumulus.auth.principal import Principal
from qumulus.domain import MemberView
from qumulus.errors import Conflict, InvalidRequest, NotFound
from qumulus.services import paging
from qumulus.services.context import Context
from qumulus.services.tenancy import access, audit, common, rules
from qumulus.store.models import OrganizationMember, Project, ProjectMember, User
from qumulus.timeutil import utcnow

# projects ---------------------------------------------------------------------------------------


def list_projects(
    platform: Context,
    principal: Principal,
    organization_id: str,
    *,
    include_archived: bool = False,
    limit: int | None = None,
    cursor: str | None = None,
) -> tuple[list[Project], str | None]:
    """The organization's projects the caller can see (all of them for an owner)."""
    limit = paging.check_limit(limit)
    with platform.db.read() as session:
        target = access.organization(session, principal, organization_id)
        access.require(target.actor, Action.ORG_READ)
        actor = target.actor
        stmt = select(Project).where(Project.organization_id == target.organization.id)
        if not (actor.is_admin or actor.org_role == "owner"):
            mine = select(ProjectMember.project_id).where(ProjectMember.user_id == principal.user_id)
            stmt = stmt.where(or_(Project.id == principal.project_id, Project.id.in_(mine)))
        if not include_archived:
            stmt = stmt.where(Project.archived_at.is_(None))
        return common.page(session, stmt, Project, limit, cursor)


def create_project(
    platform: Context, principal: Principal, organization_id: str, *, name: str, description: str = ""
) -> Project:
    name = rules.clean_name(name)
    with common.writing(platform) as session:
        target = access.organization(session, principal, organization_id)
        access.require(target.actor, Action.PROJECT_CREATE)
        org = target.organization
        _name_free(session, org.id, name)
        project = Project(organization_id=org.id, name=name, description=description or "")
        session.add(project)
        session.flush()
        audit.record(
            session,
            principal,
            "project.create",
            target_type="project",
            target_id=project.id,
            organization_id=org.id,
            project_id=project.id,
            details={"name": name},
        )
        return project


def _name_free(session: Session, organization_id: str, name: str) -> None:
    taken = session.scalar(
        select(Project.id).where(Project.organization_id == organization_id, Project.name == name)
    )
    if taken:
        raise Conflict(f"name: the organization already has a project named {name!r}", field="name")


def get_project(platform: Context, principal: Principal, project_id: str) -> Project:
    with platform.db.read() as session:
        target = access.project(session, principal, project_id)
        access.require(target.actor, Action.PROJECT_READ)
        return target.project


def update_project(
    platform: Context,
    principal: Principal,
    project_id: str,
    *,
    name: str | None = None,
    description: str | None = None,
) -> Project:
    with common.writing(platform) as session:
        target = access.project(session, principal, project_id)
        access.require(target.actor, Action.PROJECT_UPDATE)
        project = target.project
        if project.archived_at is not None:
            raise Conflict(f"Project {project_id} is archived and cannot be changed.")
        changes: dict[str, object] = {}
        if name is not None and rules.clean_name(name) != project.name:
            _name_free(session, project.organization_id, rules.clean_name(name))
            changes["name"] = project.name = rules.clean_name(name)
        if description is not None and description != project.description:
            changes["description"] = project.description = description
        if changes:
            audit.record(
                session,
                principal,
                "project.update",
                target_type="project",
                target_id=project.id,
                organization_id=project.organization_id,
                project_id=project.id,
                details=changes,
            )
        return project


def archive_project(platform: Context, principal: Principal, project_id: str) -> tuple[Project, list[str]]:
    """Archive a project: its keys are revoked (no new jobs); its jobs and audit trail stay."""
    with common.writing(platform) as session:
        target = access.project(session, principal, project_id)
        access.require(target.actor, Action.PROJECT_ARCHIVE)
        project = target.project
        if project.archived_at is not None:
            return project, []
        project.archived_at = utcnow()
        revoked = common.revoke_keys_of(
            session, principal, project.organization_id, [project.id], None, reason="project.archive"
        )
        audit.record(
            session,
            principal,
            "project.archive",
            target_type="project",
            target_id=project.id,
            organization_id=project.organization_id,
            project_id=project.id,
            details={"name": project.name, "revoked_keys": len(revoked)},
        )
        return project, revoked


# project members ----------------------------------------------------------------------------------


def list_project_members(
    platform: Context,
    principal: Principal,
    project_id: str,
    *,
    limit: int | None = None,
    cursor: str | None = None,
) -> tuple[list[MemberView], str | None]:
    with platform.db.read() as session:
        target = access.project(session, principal, project_id)
        access.require(target.actor, Action.PROJECT_MEMBERS_READ)
        stmt = (
            select(User.id, User.email, User.name, ProjectMember.role)
            .join(ProjectMember, ProjectMember.user_id == User.id)
            .where(ProjectMember.project_id == target.project.id)
        )
        return common.member_page(session, stmt, limit, cursor)


def add_project_member(
    platform: Context,
    principal: Principal,
    project_id: str,
    *,
    role: str,
    user_id: str | None = None,
    email: str | None = None,
) -> MemberView:
    """Add a member of the organization to the project (invite them to the organization first)."""
    rules.check_project_role(role)
    if (user_id is None) == (email is None):
        raise InvalidRequest("user_id: give exactly one of user_id and email", field="user_id")
    with common.writing(platform) as session:
        target = access.project(session, principal, project_id)
        access.require(target.actor, Action.PROJECT_MEMBERS_MANAGE)
        project = target.project
        if project.archived_at is not None:
            raise Conflict(f"Project {project_id} is archived and cannot be changed.")
        user = _org_user(session, project.organization_id, user_id=user_id, email=email)
        if access.project_role(session, user.id, project.id) is not None:
            raise Conflict(f"user_id: {user.email} is already a member of this project", field="user_id")
        session.add(ProjectMember(project_id=project.id, user_id=user.id, role=role))
        audit.record(
            session,
            principal,
            "project_member.add",
            target_type="user",
            target_id=user.id,
            organization_id=project.organization_id,
            project_id=project.id,
            details={"email": user.email, "role": role},
        )
        return MemberView(user.id, user.email, user.name, role)


def _org_user(session: Session, organization_id: str, *, user_id: str | None, email: str | None) -> User:
    field = "user_id" if user_id is not None else "email"
    stmt = select(User).join(OrganizationMember, OrganizationMember.user_id == User.id)
    stmt = stmt.where(OrganizationMember.organization_id == organization_id)
    if user_id is not None:
        stmt = stmt.where(User.id == user_id)
    else:
        stmt = stmt.where(User.email == rules.clean_email(email or ""))
    user = session.scalars(stmt).one_or_none()
    if user is None:
        raise InvalidRequest(
            f"{field}: {user_id or email} is not a member of this project's organization; invite them first",
            field=field,
        )
    return user


def update_project_member(
    platform: Context, principal: Principal, project_id: str, user_id: str, *, role: str
) -> MemberView:
    rules.check_project_role(role)
    with common.writing(platform) as session:
        target = access.project(session, principal, project_id)
        access.require(target.actor, Action.PROJECT_MEMBERS_MANAGE)
        project = target.project
        member, user = _project_member(session, project.id, user_id)
        if member.role != role:
            audit.record(
                session,
                principal,
                "project_member.update",
                target_type="user",
                target_id=user_id,
                organization_id=project.organization_id,
                project_id=project.id,
                details={"email": user.email, "role": role, "previous_role": member.role},
            )
            member.role = role
        return MemberView(user.id, user.email, user.name, role)


def remove_project_member(
    platform: Context, principal: Principal, project_id: str, user_id: str
) -> list[str]:
    """Remove a member; their keys in the project are revoked. Returns the key ids revoked."""
    with common.writing(platform) as session:
        target = access.project(session, principal, project_id)
        access.require(target.actor, Action.PROJECT_MEMBERS_MANAGE)
        project = target.project
        member, user = _project_member(session, project.id, user_id)
        revoked = common.revoke_keys_of(
            session, principal, project.organization_id, [project.id], user_id, reason="project_member.remove"
        )
        session.delete(member)
        audit.record(
            session,
            principal,
            "project_member.remove",
            target_type="user",
            target_id=user_id,
            organization_id=project.organization_id,
            project_id=project.id,
            details={"email": user.email, "role": member.role, "revoked_keys": len(revoked)},
        )
        return revoked


def _project_member(session: Session, project_id: str, user_id: str) -> tuple[ProjectMember, User]:
    member = session.get(ProjectMember, (project_id, user_id)) if len(user_id) <= 64 else None
    if member is None:
        raise NotFound(f"User {user_id} is not a member of this project.")
    return member, session.get(User, user_id)
