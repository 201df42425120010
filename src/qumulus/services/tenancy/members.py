"""Memberships of organizations and projects: list, add, change role, remove — one implementation.

A :class:`Scope` says where a membership lives (its table, the actions that guard it, its roles, its
audit event names); the use cases are the same for both. What genuinely differs is kept here, next
to the shared steps, and nowhere else:

* adding to an **organization** invites by email (creating the user when the email is new); adding to
  a **project** takes someone who already belongs to its organization, by id or email, and not to an
  archived project;
* an organization always keeps at least one owner;
* a key lives only as long as its user's membership: leaving a project revokes their keys in it;
  leaving the organization also ends their project memberships there and revokes their keys in
  every project of it.

Every function takes the caller's :class:`Principal` (the admin CLI passes ``access.CLI_ADMIN``),
resolves reach and roles with :mod:`~qumulus.services.tenancy.access`, asks the permission matrix,
and makes its change and its audit row in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from qumulus.auth.permissions import Action, Actor
from qumulus.auth.principal import Principal
from qumulus.domain import MemberView
from qumulus.errors import Conflict, InvalidRequest, NotFound
from qumulus.services.context import Context
from qumulus.services.tenancy import access, audit, common, rules
from qumulus.services.tenancy.users import user_for_invite
from qumulus.store.models import OrganizationMember, Project, ProjectMember, User


@dataclass(frozen=True)
class Scope:
    """Where a membership lives."""

    noun: str
    table: type[OrganizationMember] | type[ProjectMember]
    read: Action
    manage: Action
    check_role: Callable[[str], str]
    #: Audit actions are ``<event>.add`` / ``.update`` / ``.remove``.
    event: str

    @property
    def key(self) -> Any:
        """The membership table's column naming the organization or project."""
        return self.table.organization_id if self is ORGANIZATION else self.table.project_id  # type: ignore[union-attr]


ORGANIZATION = Scope(
    "organization", OrganizationMember, Action.ORG_MEMBERS_READ, Action.ORG_MEMBERS_MANAGE,
    rules.check_org_role, "org_member",
)  # fmt: skip
PROJECT = Scope(
    "project", ProjectMember, Action.PROJECT_MEMBERS_READ, Action.PROJECT_MEMBERS_MANAGE,
    rules.check_project_role, "project_member",
)  # fmt: skip


@dataclass(frozen=True)
class _Target:
    id: str
    organization_id: str
    project: Project | None
    actor: Actor

    def audit_ids(self) -> dict[str, str]:
        ids = {"organization_id": self.organization_id}
        if self.project is not None:
            ids["project_id"] = self.project.id
        return ids


def _target(session: Session, principal: Principal, scope: Scope, target_id: str, action: Action) -> _Target:
    """The organization or project (404 out of reach), after checking the caller may ``action``."""
    if scope is ORGANIZATION:
        org = access.organization(session, principal, target_id)
        target = _Target(org.organization.id, org.organization.id, None, org.actor)
    else:
        found = access.project(session, principal, target_id)
        project = found.project
        target = _Target(project.id, project.organization_id, project, found.actor)
    access.require(target.actor, action)
    return target


def list_members(
    platform: Context,
    principal: Principal,
    scope: Scope,
    target_id: str,
    *,
    limit: int | None = None,
    cursor: str | None = None,
) -> tuple[list[MemberView], str | None]:
    with platform.db.read() as session:
        target = _target(session, principal, scope, target_id, scope.read)
        stmt = (
            select(User.id, User.email, User.name, scope.table.role)
            .join(scope.table, scope.table.user_id == User.id)
            .where(scope.key == target.id)
        )
        return common.member_page(session, stmt, limit, cursor)


def add_member(
    platform: Context,
    principal: Principal,
    scope: Scope,
    target_id: str,
    *,
    role: str = "member",
    email: str | None = None,
    user_id: str | None = None,
    name: str | None = None,
    password: str | None = None,
) -> MemberView:
    """Organization: invite by ``email`` (``name``, ``password`` for a user created by the invite).
    Project: add a member of its organization, by exactly one of ``user_id`` and ``email``."""
    if scope is ORGANIZATION:
        email = rules.clean_email(email or "")
    scope.check_role(role)
    if scope is PROJECT and (user_id is None) == (email is None):
        raise InvalidRequest("user_id: give exactly one of user_id and email", field="user_id")
    with common.writing(platform) as session:
        target = _target(session, principal, scope, target_id, scope.manage)
        if target.project is None:
            user = user_for_invite(
                session, principal, email or "", name, password=password, organization_id=target.id
            )
            duplicate = Conflict(f"email: {email} is already a member of this organization", field="email")
        else:
            if target.project.archived_at is not None:
                raise Conflict(f"Project {target_id} is archived and cannot be changed.")
            user = _organization_user(session, target.organization_id, user_id=user_id, email=email)
            duplicate = Conflict(
                f"user_id: {user.email} is already a member of this project", field="user_id"
            )
        if session.get(scope.table, (target.id, user.id)) is not None:
            raise duplicate
        session.add(scope.table(**{scope.key.key: target.id}, user_id=user.id, role=role))
        audit.record(
            session,
            principal,
            f"{scope.event}.add",
            target_type="user",
            target_id=user.id,
            details={"email": user.email, "role": role},
            **target.audit_ids(),
        )
        return MemberView(user.id, user.email, user.name, role)


def update_member(
    platform: Context, principal: Principal, scope: Scope, target_id: str, user_id: str, *, role: str
) -> MemberView:
    scope.check_role(role)
    with common.writing(platform) as session:
        target = _target(session, principal, scope, target_id, scope.manage)
        member, user = _member(session, scope, target.id, user_id)
        if member.role != role:
            if scope is ORGANIZATION:
                _keep_an_owner(session, target.id, user_id, role)
            audit.record(
                session,
                principal,
                f"{scope.event}.update",
                target_type="user",
                target_id=user_id,
                details={"email": user.email, "role": role, "previous_role": member.role},
                **target.audit_ids(),
            )
            member.role = role
        return MemberView(user.id, user.email, user.name, role)


def remove_member(
    platform: Context, principal: Principal, scope: Scope, target_id: str, user_id: str
) -> list[str]:
    """Remove a member and revoke their keys (in the project; in every project of the organization,
    whose project memberships end too). Returns the key ids revoked."""
    with common.writing(platform) as session:
        target = _target(session, principal, scope, target_id, scope.manage)
        member, user = _member(session, scope, target.id, user_id)
        if target.project is None:
            _keep_an_owner(session, target.id, user_id, None)
            project_ids = list(
                session.scalars(select(Project.id).where(Project.organization_id == target.id))
            )
            if project_ids:
                session.execute(
                    delete(ProjectMember).where(
                        ProjectMember.project_id.in_(project_ids), ProjectMember.user_id == user_id
                    )
                )
        else:
            project_ids = [target.id]
        revoked = common.revoke_keys_of(
            session, principal, target.organization_id, project_ids, user_id, reason=f"{scope.event}.remove"
        )
        session.delete(member)
        audit.record(
            session,
            principal,
            f"{scope.event}.remove",
            target_type="user",
            target_id=user_id,
            details={"email": user.email, "role": member.role, "revoked_keys": len(revoked)},
            **target.audit_ids(),
        )
        return revoked


def _member(session: Session, scope: Scope, target_id: str, user_id: str) -> tuple[Any, User]:
    member = session.get(scope.table, (target_id, user_id)) if len(user_id) <= 64 else None
    if member is None:
        raise NotFound(f"User {user_id} is not a member of this {scope.noun}.")
    return member, session.get(User, user_id)  # type: ignore[return-value]


def _organization_user(
    session: Session, organization_id: str, *, user_id: str | None, email: str | None
) -> User:
    """A member of the organization, for a project of it (400 naming the field otherwise)."""
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


def _keep_an_owner(session: Session, organization_id: str, user_id: str, new_role: str | None) -> None:
    owners = list(
        session.scalars(
            select(OrganizationMember.user_id)
            .where(OrganizationMember.organization_id == organization_id, OrganizationMember.role == "owner")
            .with_for_update()
        )
    )
    if rules.leaves_no_owner(owners, user_id, new_role):
        raise Conflict(
            "role: this would leave the organization without an owner; make another member owner first",
            field="role",
        )
