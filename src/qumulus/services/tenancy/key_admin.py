"""Managing API keys: create (secret shown once), list (never the secret), revoke.

Who may: a project admin or organization owner for every key of the project; a member or viewer
for their own keys only (the matrix's "own" grants). A new key's scopes are a subset of the scopes
of the key that creates it, and it belongs to the creating user. A revoked key stops working in
this process at once (the API calls the Authenticator's ``invalidate``) and in other processes
within the key cache's 2 s.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from qumulus import values
from qumulus.auth.keys import display_form
from qumulus.auth.permissions import Action, allowed, grantable_scopes
from qumulus.auth.principal import Principal
from qumulus.domain import KeyView
from qumulus.errors import Conflict, Forbidden, InvalidRequest, NotFound
from qumulus.services import paging
from qumulus.services.context import Context
from qumulus.services.tenancy import access, audit, common, rules
from qumulus.services.tenancy.keys import create_api_key
from qumulus.store.models import ApiKey, Project, User
from qumulus.timeutil import utcnow


def _view(key: ApiKey, email: str | None) -> KeyView:
    return KeyView(
        id=key.id,
        key_id=key.key_id,
        prefix=display_form(key.key_id),
        name=key.name,
        project_id=key.project_id,
        user_id=key.user_id,
        user_email=email,
        scopes=list(key.scopes or []),
        created_at=key.created_at,
        expires_at=key.expires_at,
        last_used_at=key.last_used_at,
        revoked_at=key.revoked_at,
    )


def create_key(
    platform: Context,
    principal: Principal,
    project_id: str,
    *,
    name: str | None = "",
    scopes: Sequence[str] | None = None,
    expires_at: datetime | None = None,
    user_id: str | None = None,
    user_email: str | None = None,
) -> tuple[KeyView, str]:
    """A new key in the project; returns its view and the full key (shown once, never stored).

    The key is the caller's own unless ``user_id`` or ``user_email`` names another member of the
    project (or an owner of its organization): making a key for someone else needs
    ``key.create_for_others`` (organization owners, platform administrators), and for a platform
    administrator's key, ``platform.manage``.
    """
    name = values.optional_name(name) or ""
    if expires_at is not None:
        expires_at = values.check_time(expires_at, "expires_at")
    if expires_at is not None and expires_at <= utcnow():
        raise InvalidRequest("expires_at: must be in the future", field="expires_at")
    with common.writing(platform) as session:
        target = access.project(session, principal, project_id, include_archived=False)
        project = target.project
        owner_id = principal.user_id
        if user_id is not None or user_email is not None:
            owner_id = _key_user(session, project, user_id=user_id, email=user_email)
        if owner_id is None:
            raise InvalidRequest("user_id: a key must belong to a user; name one", field="user_id")
        access.require(target.actor, Action.KEY_CREATE, owns_target=owner_id == principal.user_id)
        if owner_id != principal.user_id:
            # A key acts with all of its user's roles (other projects, the platform): making one for
            # someone else must not hand the maker powers they do not already hold.
            access.require(target.actor, Action.KEY_CREATE_FOR_OTHERS)
            if session.scalar(select(User.is_admin).where(User.id == owner_id)):
                access.require(target.actor, Action.PLATFORM_MANAGE)
        wanted, refused = rules.check_scopes(
            list(scopes) if scopes is not None else list(principal.scopes), grantable_scopes(target.actor)
        )
        if refused:
            raise Forbidden(
                f"scopes: a key cannot grant {', '.join(refused)}: the key creating it does not hold it"
            )
        row, secret = create_api_key(
            session,
            secret=platform.secret,
            project_id=project.id,
            user_id=owner_id,
            name=name,
            expires_at=expires_at,
            scopes=wanted,
            actor=principal,
        )
        email = session.scalar(select(User.email).where(User.id == owner_id))
        return _view(row, email), secret


def _key_user(session: Session, project: Project, *, user_id: str | None, email: str | None) -> str:
    """The id of a user who may hold a key in the project: a member, or an organization owner."""
    field = "user_id" if user_id is not None else "user_email"
    stmt = select(User.id)
    if user_id is not None:
        stmt = stmt.where(User.id == user_id)
    else:
        stmt = stmt.where(User.email == rules.clean_email(email or "", field))
    found = session.scalar(stmt)
    if found is not None and (
        access.project_role(session, found, project.id) is not None
        or access.org_role(session, found, project.organization_id) == "owner"
    ):
        return found
    raise InvalidRequest(
        f"{field}: {user_id or email} is not a member of this project (or an owner of its organization)",
        field=field,
    )


def list_keys(
    platform: Context,
    principal: Principal,
    project_id: str,
    *,
    limit: int | None = None,
    cursor: str | None = None,
) -> tuple[list[KeyView], str | None]:
    """The project's keys (a member sees only their own), newest first, cursor-paged."""
    limit = paging.check_limit(limit)
    with platform.db.read() as session:
        target = access.project(session, principal, project_id)
        stmt = select(ApiKey, User.email).outerjoin(User, User.id == ApiKey.user_id)
        stmt = stmt.where(ApiKey.project_id == target.project.id)
        if not allowed(target.actor, Action.KEY_READ):
            access.require(target.actor, Action.KEY_READ, owns_target=True)
            stmt = stmt.where(ApiKey.user_id == principal.user_id)
        stmt = paging.newest_first(stmt, ApiKey.created_at, ApiKey.id, limit, cursor)
        rows = session.execute(stmt).all()
    page, next_cursor = paging.split(rows, limit, lambda r: (r[0].created_at, r[0].id))
    return [_view(key, email) for key, email in page], next_cursor


def all_keys(
    platform: Context, principal: Principal, project_id: str | None = None
) -> list[tuple[KeyView, str]]:
    """Every key with its project's name (platform administrators only: the admin CLI)."""
    with platform.db.read() as session:
        if not access.is_admin(session, principal):
            raise Forbidden("Only a platform administrator lists every key.")
        stmt = (
            select(ApiKey, User.email, Project.name)
            .join(Project, Project.id == ApiKey.project_id)
            .outerjoin(User, User.id == ApiKey.user_id)
        )
        if project_id is not None:
            stmt = stmt.where(ApiKey.project_id == project_id)
        rows = session.execute(stmt.order_by(ApiKey.created_at)).all()
    return [(_view(key, email), project) for key, email, project in rows]


def revoke_key(platform: Context, principal: Principal, project_id: str | None, key_ref: str) -> KeyView:
    """Revoke a key by its public key id (``qmk_<id>_…`` or the bare id) or its row id.

    ``project_id`` None (the CLI) finds the key in any project. Revoking twice is a 409.
    """
    key_id = _bare_key_id(key_ref)
    with common.writing(platform) as session:
        key = (
            session.scalars(select(ApiKey).where(or_(ApiKey.key_id == key_id, ApiKey.id == key_ref))).first()
            if 0 < len(key_ref) <= 80
            else None
        )
        if key is None or (project_id is not None and key.project_id != project_id):
            if project_id is not None:
                access.project(session, principal, project_id)  # 404 for an unreachable project first
            raise NotFound(f"API key {key_ref} not found.")
        target = access.project(session, principal, key.project_id)
        access.require(target.actor, Action.KEY_REVOKE, owns_target=key.user_id == principal.user_id)
        if key.revoked_at is not None:
            raise Conflict(f"API key {key_ref} is already revoked.")
        key.revoked_at = utcnow()
        audit.record(
            session,
            principal,
            "api_key.revoke",
            target_type="api_key",
            target_id=key.id,
            organization_id=target.project.organization_id,
            project_id=key.project_id,
            details={"key_id": key.key_id, "name": key.name},
        )
        email = session.scalar(select(User.email).where(User.id == key.user_id)) if key.user_id else None
        return _view(key, email)


def _bare_key_id(ref: str) -> str:
    """``qmk_abcd…_…`` or ``qmk_abcd…`` → ``abcd…``; anything else unchanged."""
    if ref.startswith("qmk_"):
        return ref[4:].split("_", 1)[0]
    return ref
