"""Projects: create, read, update, archive (their members: :mod:`qumulus.services.tenancy.members`).

Same shape as :mod:`qumulus.services.tenancy.organizations`. Archiving a project revokes all of its
keys (its jobs and audit trail stay readable).
"""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from qumulus.auth.permissions import Action
from qumulus.auth.principal import Principal
from qumulus.errors import Conflict
from qumulus.services import paging
from qumulus.services.context import Context
from qumulus.services.tenancy import access, audit, common, rules
from qumulus.store.models import Project, ProjectMember
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
