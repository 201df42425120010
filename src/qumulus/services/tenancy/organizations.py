"""Organizations: create, read, update (their members: :mod:`qumulus.services.tenancy.members`).

Every function takes the caller's :class:`Principal` (the admin CLI passes
:data:`qumulus.services.tenancy.access.CLI_ADMIN`), resolves reach and roles relative to the target with
:mod:`qumulus.services.tenancy.access`, asks the permission matrix, and makes its change and its audit row in
one transaction.
"""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from qumulus.auth.permissions import Action, Actor
from qumulus.auth.principal import Principal
from qumulus.errors import Conflict, InvalidRequest
from qumulus.services import paging
from qumulus.services.context import Context
from qumulus.services.tenancy import access, audit, common, rules
from qumulus.services.tenancy.users import user_for_invite
from qumulus.store.models import Organization, OrganizationMember, User

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
