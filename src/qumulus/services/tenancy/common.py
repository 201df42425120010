"""What the tenancy services share: member views, write transactions, key revocation, paging."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from qumulus.auth.principal import Principal
from qumulus.domain import MemberView
from qumulus.errors import Conflict
from qumulus.services import paging
from qumulus.services.context import Context
from qumulus.services.tenancy import audit
from qumulus.store.models import ApiKey, User
from qumulus.timeutil import utcnow


@contextmanager
def writing(platform: Context) -> Iterator[Session]:
    """A write transaction whose unique-constraint races become a 409 instead of a 500."""
    try:
        with platform.db.write() as session:
            yield session
    except IntegrityError as exc:
        raise Conflict(f"the change conflicts with an existing record ({_constraint(exc)})") from None


def _constraint(exc: IntegrityError) -> str:
    text = str(exc.orig).splitlines()[0] if exc.orig is not None else "unique constraint"
    return text[:200]


def revoke_keys_of(
    session: Session,
    principal: Principal,
    organization_id: str,
    project_ids: list[str],
    user_id: str | None,
    *,
    reason: str,
) -> list[str]:
    """Revoke live keys in these projects (of one user, or all); one audit row per key."""
    if not project_ids:
        return []
    stmt = select(ApiKey).where(ApiKey.project_id.in_(project_ids), ApiKey.revoked_at.is_(None))
    if user_id is not None:
        stmt = stmt.where(ApiKey.user_id == user_id)
    now = utcnow()
    revoked = []
    for key in session.scalars(stmt):
        key.revoked_at = now
        revoked.append(key.key_id)
        audit.record(
            session,
            principal,
            "api_key.revoke",
            target_type="api_key",
            target_id=key.id,
            organization_id=organization_id,
            project_id=key.project_id,
            details={"key_id": key.key_id, "name": key.name, "reason": reason},
        )
    return revoked


def page(
    session: Session, stmt: Any, model: Any, limit: int | None, cursor: str | None
) -> tuple[list[Any], str | None]:
    """Rows of ``model`` newest first by (created_at, id), cursor-paged."""
    limit = paging.check_limit(limit)
    stmt = paging.newest_first(stmt, model.created_at, model.id, limit, cursor)
    return paging.split(list(session.scalars(stmt)), limit, lambda r: (r.created_at, r.id))


def member_page(
    session: Session, stmt: Any, limit: int | None, cursor: str | None
) -> tuple[list[MemberView], str | None]:
    """By email (unique per user)."""
    limit = paging.check_limit(limit)
    if cursor:
        (last_email,) = paging.decode(cursor, 1)
        stmt = stmt.where(User.email > last_email)
    rows = session.execute(stmt.order_by(User.email).limit(limit + 1)).all()
    more = len(rows) > limit
    views = [MemberView(r[0], r[1], r[2], r[3]) for r in rows[:limit]]
    return views, (paging.encode(views[-1].email) if more and views else None)
