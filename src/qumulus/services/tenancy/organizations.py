"""Organizations and their members: create, read, update; invite, change role, remove.

Every function takes the caller's :class:`Principal` (the admin CLI passes
:data:`qumulus.services.tenancy.access.CLI_ADMIN`), resolves reach and roles relative to the target with
:mod:`qumulus.services.tenancy.access`, asks the permission matrix, and makes its change and its audit row in
one transaction. An organization always keeps at least one owner.

Memberships and keys: a key lives only as long as its user's membership. Removing a user from the
organization also removes their project memberships there and revokes their keys in every project
of it.
"""

from __future__ import annotations

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from qumulus.auth.permissions import Action, Actor
from qumulus.auth.principal import Principal
from qumulus.domain import MemberView
from qumulus.errors import Conflict, InvalidRequest, NotFound
from qumulus.services import paging
from qumulus.services.context import Context
from qumulus.services.tenancy import access, audit, common, rules
from qumulus.services.tenancy.users import user_for_invite
from qumulus.store.models import Organization, OrganizationMember, Project, ProjectMember, User

# organizations --------------------------------------------------------------------------------


def list_organizations(
    platform: Context, principal: Principal, *, limit: int | None = None, cursor: str | None = None
) -> tuple[list[Organization], str | None]:
    """Every organization for a platform administrator; the key's own one for anyone else."""
    limit = paging.check_limit(limit)
    with platform.db.read() as session:
        stmt = select(Organization)
        if not access.is_admin(session, principal):
            target = access.organization(session, principal, principal.organization_id)
            access.require(target.actor, Action.ORG_READ)
            stmt = stmt.where(Organization.id == principal.organization_id)
        return common.page(session, stmt, Organization, limit, cursor)


def create_organization(
    platform: Context,
    principal: Principal,
    *,
    name: str,
    slug: str | None = None,
    owner_email: str | None = None,
) -> Organization:
    """A new organization with one owner (the given user, created if new, else the caller)."""
    name = rules.clean_name(name)
    slug = rules.clean_slug(slug) if slug is not None else None
    with common.writing(platform) as session:
        admin = access.is_admin(session, principal)
        access.require(Actor(scopes=principal.scopes, is_admin=admin), Action.ORG_CREATE)
        if slug is None:
            slug = _free_slug(session, rules.slug_from_name(name))
        elif session.scalar(select(Organization.id).where(Organization.slug == slug)):
            raise Conflict(f"slug: an organization with slug {slug!r} already exists", field="slug")
        if owner_email is not None:
            owner = user_for_invite(session, principal, rules.clean_email(owner_email, "owner_email"), None)
        elif principal.user_id is not None:
            owner = session.get(User, principal.user_id)
        else:
            raise InvalidRequest("owner_email: an organization needs an owner", field="owner_email")
        org = Organization(name=name, slug=slug)
        session.add(org)
        session.flush()
        session.add(OrganizationMember(organization_id=org.id, user_id=owner.id, role="owner"))
        audit.record(
            session,
            principal,
            "organization.create",
            target_type="organization",
            target_id=org.id,
            organization_id=org.id,
            details={"name": name, "slug": slug, "owner": owner.email},
        )
        return org


def _free_slug(session: Session, base: str) -> str:
    taken = set(
        session.scalars(
            select(Organization.slug).where(
                or_(Organization.slug == base, Organization.slug.like(f"{base}-%"))
            )
        )
    )
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def get_organization(platform: Context, principal: Principal, organization_id: str) -> Organization:
    with platform.db.read() as session:
        target = access.organization(session, principal, organization_id)
        access.require(target.actor, Action.ORG_READ)
        return target.organization


def update_organization(
    platform: Context, principal: Principal, organization_id: str, *, name: str | None, slug: str | None
) -> Organization:
    with common.writing(platform) as session:
        target = access.organization(session, principal, organization_id)
        access.require(target.actor, Action.ORG_UPDATE)
        org = target.organization
        changes: dict[str, object] = {}
        if name is not None and rules.clean_name(name) != org.name:
            changes["name"] = org.name = rules.clean_name(name)
        if slug is not None and rules.clean_slug(slug) != org.slug:
            if session.scalar(select(Organization.id).where(Organization.slug == slug)):
                raise Conflict(f"slug: an organization with slug {slug!r} already exists", field="slug")
            changes["slug"] = org.slug = slug
        if changes:
            audit.record(
                session,
                principal,
                "organization.update",
                target_type="organization",
                target_id=org.id,
                organization_id=org.id,
                details=changes,
            )
        return org


# organization members and users ----------------------------------------------------------------


def list_org_members(
    platform: Context,
    principal: Principal,
    organization_id: str,
    *,
    limit: int | None = None,
    cursor: str | None = None,
) -> tuple[list[MemberView], str | None]:
    with platform.db.read() as session:
        target = access.organization(session, principal, organization_id)
        access.require(target.actor, Action.ORG_MEMBERS_READ)
        stmt = (
            select(User.id, User.email, User.name, OrganizationMember.role)
            .join(OrganizationMember, OrganizationMember.user_id == User.id)
            .where(OrganizationMember.organization_id == target.organization.id)
        )
        return common.member_page(session, stmt, limit, cursor)


def add_org_member(
    platform: Context,
    principal: Principal,
    organization_id: str,
    *,
    email: str,
    role: str = "member",
    name: str | None = None,
    password: str | None = None,
) -> MemberView:
    """Invite: add a user to the organization, creating the user when the email is new."""
    email = rules.clean_email(email)
    rules.check_org_role(role)
    with common.writing(platform) as session:
        target = access.organization(session, principal, organization_id)
        access.require(target.actor, Action.ORG_MEMBERS_MANAGE)
        org = target.organization
        user = user_for_invite(session, principal, email, name, password=password, organization_id=org.id)
        if access.org_role(session, user.id, org.id) is not None:
            raise Conflict(f"email: {email} is already a member of this organization", field="email")
        session.add(OrganizationMember(organization_id=org.id, user_id=user.id, role=role))
        audit.record(
            session,
            principal,
            "org_member.add",
            target_type="user",
            target_id=user.id,
            organization_id=org.id,
            details={"email": email, "role": role},
        )
        return MemberView(user.id, user.email, user.name, role)


def update_org_member(
    platform: Context, principal: Principal, organization_id: str, user_id: str, *, role: str
) -> MemberView:
    rules.check_org_role(role)
    with common.writing(platform) as session:
        target = access.organization(session, principal, organization_id)
        access.require(target.actor, Action.ORG_MEMBERS_MANAGE)
        org = target.organization
        member, user = _org_member(session, org.id, user_id)
        if member.role != role:
            _keep_an_owner(session, org.id, user_id, role)
            audit.record(
                session,
                principal,
                "org_member.update",
                target_type="user",
                target_id=user_id,
                organization_id=org.id,
                details={"email": user.email, "role": role, "previous_role": member.role},
            )
            member.role = role
        return MemberView(user.id, user.email, user.name, role)


def remove_org_member(
    platform: Context, principal: Principal, organization_id: str, user_id: str
) -> list[str]:
    """Remove a user from the organization and its projects; returns the key ids revoked."""
    with common.writing(platform) as session:
        target = access.organization(session, principal, organization_id)
        access.require(target.actor, Action.ORG_MEMBERS_MANAGE)
        org = target.organization
        member, user = _org_member(session, org.id, user_id)
        _keep_an_owner(session, org.id, user_id, None)
        project_ids = list(session.scalars(select(Project.id).where(Project.organization_id == org.id)))
        if project_ids:
            session.execute(
                delete(ProjectMember).where(
                    ProjectMember.project_id.in_(project_ids), ProjectMember.user_id == user_id
                )
            )
        revoked = common.revoke_keys_of(
            session, principal, org.id, project_ids, user_id, reason="org_member.remove"
        )
        session.delete(member)
        audit.record(
            session,
            principal,
            "org_member.remove",
            target_type="user",
            target_id=user_id,
            organization_id=org.id,
            details={"email": user.email, "role": member.role, "revoked_keys": len(revoked)},
        )
        return revoked


def _org_member(session: Session, organization_id: str, user_id: str) -> tuple[OrganizationMember, User]:
    member = session.get(OrganizationMember, (organization_id, user_id)) if len(user_id) <= 64 else None
    if member is None:
        raise NotFound(f"User {user_id} is not a member of this organization.")
    return member, session.get(User, user_id)


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
