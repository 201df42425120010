"""Users: invitation, platform-administrator account management, passwords, the console login."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from qumulus import values
from qumulus.auth.passwords import hash_password, password_problem, verify_password
from qumulus.auth.passwords import needs_rehash as password_needs_rehash
from qumulus.auth.permissions import Action
from qumulus.auth.principal import Principal
from qumulus.errors import Conflict, Forbidden, InvalidRequest, NotFound
from qumulus.services.context import Context
from qumulus.services.tenancy import access, audit, common, rules
from qumulus.store.models import Organization, OrganizationMember, User


def user_for_invite(
    session: Session,
    principal: Principal,
    email: str,
    name: str | None,
    *,
    password: str | None = None,
    organization_id: str | None = None,
) -> User:
    """The user with this email, or a new one (audited). A password is set only on a new user."""
    user = session.scalars(select(User).where(User.email == email)).one_or_none()
    if user is not None:
        if password is not None:
            raise InvalidRequest(
                "password: this user already exists and keeps their own password", field="password"
            )
        return user
    return _new_user(session, principal, email, name or "", password, organization_id=organization_id)


def _new_user(
    session: Session,
    principal: Principal,
    email: str,
    name: str,
    password: str | None,
    *,
    organization_id: str | None,
    is_admin: bool = False,
) -> User:
    if password is not None:
        _check_password(password)
    user = User(
        email=email,
        name=values.optional_name(name) or "",
        is_admin=is_admin,
        password_hash=hash_password(password) if password is not None else None,
    )
    session.add(user)
    session.flush()
    audit.record(
        session,
        principal,
        "user.create",
        target_type="user",
        target_id=user.id,
        organization_id=organization_id,
        details={"email": email, "is_admin": is_admin, "password_set": password is not None},
    )
    return user


def _check_password(password: str, field: str = "password") -> None:
    problem = password_problem(password)
    if problem is not None:
        raise InvalidRequest(f"{field}: {problem}", field=field)


def create_user(
    platform: Context,
    principal: Principal,
    *,
    email: str,
    name: str = "",
    password: str | None = None,
    is_admin: bool = False,
) -> User:
    """A user outside any organization (platform administrators only: the admin CLI)."""
    email = rules.clean_email(email)
    with common.writing(platform) as session:
        if not access.is_admin(session, principal):
            raise Forbidden("Only a platform administrator creates users outside an organization.")
        if session.scalar(select(User.id).where(User.email == email)):
            raise Conflict(f"email: a user with email {email} already exists", field="email")
        return _new_user(session, principal, email, name, password, organization_id=None, is_admin=is_admin)


def list_users(platform: Context, principal: Principal) -> list[tuple[User, list[tuple[str, str]]]]:
    """Every user with their (organization slug, role) pairs (platform administrators only)."""
    with platform.db.read() as session:
        if not access.is_admin(session, principal):
            raise Forbidden("Only a platform administrator lists every user.")
        users = list(session.scalars(select(User).order_by(User.email)))
        orgs: dict[str, list[tuple[str, str]]] = {}
        for user_id, slug, role in session.execute(
            select(OrganizationMember.user_id, Organization.slug, OrganizationMember.role).join(Organization)
        ):
            orgs.setdefault(user_id, []).append((slug, role))
    return [(u, sorted(orgs.get(u.id, []))) for u in users]


def set_password(platform: Context, principal: Principal, *, email: str, password: str) -> User:
    """Set any user's password (platform administrators only: the admin CLI)."""
    email = rules.clean_email(email)
    _check_password(password)
    with common.writing(platform) as session:
        if not access.is_admin(session, principal):
            raise Forbidden("Only a platform administrator sets another user's password.")
        user = session.scalars(select(User).where(User.email == email)).one_or_none()
        if user is None:
            raise NotFound(f"email: no user with email {email}", field="email")
        user.password_hash = hash_password(password)
        _audit_password(session, principal, user)
        return user


def me(platform: Context, principal: Principal) -> User:
    """The caller's own user."""
    if principal.user_id is None:
        raise NotFound("This API key belongs to no user.")
    with platform.db.read() as session:
        user = session.get(User, principal.user_id)
        if user is None:
            raise NotFound("This API key belongs to no user.")
        return user


def emails(platform: Context, user_ids: Iterable[str | None]) -> dict[str, str]:
    """Emails of users the caller already sees by id (a job's submitter, a key's maker), to show a
    person instead of an id."""
    wanted = {u for u in user_ids if u}
    if not wanted:
        return {}
    with platform.db.read() as session:
        return dict(session.execute(select(User.id, User.email).where(User.id.in_(wanted))).all())


def change_own_password(
    platform: Context, principal: Principal, *, current_password: str | None, new_password: str
) -> None:
    """Change the caller's password, proving the current one.

    A user without a password gets their first one from an invitation or the admin CLI, not here:
    whoever holds a key may not be its user (an owner can make keys for members), and a console
    password reaches the user's other organizations too.
    """
    access.require(principal.actor(), Action.ACCOUNT_UPDATE, owns_target=True)
    _check_password(new_password, "new_password")
    with common.writing(platform) as session:
        user = session.get(User, principal.user_id) if principal.user_id else None
        if user is None:
            raise NotFound("This API key belongs to no user.")
        if user.password_hash is None:
            raise Conflict(
                "current_password: this user has no password yet; an administrator sets the first one"
                " (qumulus users set-password)",
                field="current_password",
            )
        if not verify_password(user.password_hash, current_password or ""):
            raise Forbidden(
                "current_password: does not match the password on record", field="current_password"
            )
        user.password_hash = hash_password(new_password)
        _audit_password(session, principal, user)


def _audit_password(session: Session, principal: Principal, user: User) -> None:
    org_ids = list(
        session.scalars(
            select(OrganizationMember.organization_id).where(OrganizationMember.user_id == user.id)
        )
    )
    for org_id in org_ids or [None]:
        audit.record(
            session,
            principal,
            "user.password_set",
            target_type="user",
            target_id=user.id,
            organization_id=org_id,
            details={"email": user.email},
        )


def check_login(platform: Context, email: str, password: str) -> User | None:
    """The user if ``password`` is theirs (for the console's login), upgrading an outdated hash."""
    try:
        email = rules.clean_email(email)
    except InvalidRequest:
        return None
    with platform.db.read() as session:
        user = session.scalars(select(User).where(User.email == email)).one_or_none()
    if user is None or not verify_password(user.password_hash, password):
        return None
    if password_needs_rehash(user.password_hash or ""):
        with platform.db.write() as session:
            session.execute(
                update(User).where(User.id == user.id).values(password_hash=hash_password(password))
            )
    return user
