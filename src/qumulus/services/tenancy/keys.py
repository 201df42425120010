"""Creating API keys and authenticating requests with them."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, select, update
from sqlalchemy.orm import Session

from qumulus.auth.keys import MalformedKey, ParsedKey, generate_key, hash_key, parse_key, verify_key
from qumulus.auth.permissions import DEFAULT_SCOPES
from qumulus.auth.principal import Principal
from qumulus.errors import Unauthorized
from qumulus.store.db import Database
from qumulus.store.models import ApiKey, AuditEvent, OrganizationMember, Project, ProjectMember, User
from qumulus.timeutil import utcnow

log = logging.getLogger("qumulus.auth")

#: Key rows are re-read at most this often. A key revoked through this process stops working at
#: once (:meth:`Authenticator.invalidate`); through another process, within this many seconds.
KEY_CACHE_SECONDS = 2.0
#: ``last_used_at`` is written at most this often per key, so reads do not become writes.
LAST_USED_RESOLUTION_S = 60.0


def create_api_key(
    session: Session,
    *,
    secret: bytes,
    project_id: str,
    user_id: str | None,
    name: str = "",
    expires_at: datetime | None = None,
    scopes: Sequence[str] | None = None,
    actor: Principal | None = None,
) -> tuple[ApiKey, str]:
    """Create a key; returns the row and the full key, which is never retrievable again.

    ``actor`` is who made it (for the audit row); by default the key's own user.
    """
    parsed = generate_key()
    row = ApiKey(
        key_id=parsed.key_id,
        secret_hash=hash_key(secret, parsed.full),
        project_id=project_id,
        user_id=user_id,
        name=name,
        expires_at=expires_at,
        scopes=list(scopes) if scopes is not None else sorted(DEFAULT_SCOPES),
    )
    session.add(row)
    session.flush()
    organization_id = session.scalar(select(Project.organization_id).where(Project.id == project_id))
    details: dict[str, Any] = {
        "key_id": parsed.key_id,
        "name": name,
        "scopes": row.scopes,
        "user_id": user_id,
    }
    if expires_at is not None:
        details["expires_at"] = expires_at.isoformat()
    if actor is not None and actor.user_id is None and actor.api_key_id is None:
        details["via"] = "cli"
    session.add(
        AuditEvent(
            actor_user_id=actor.user_id if actor is not None else user_id,
            actor_key_id=actor.api_key_id if actor is not None else None,
            organization_id=organization_id,
            project_id=project_id,
            action="api_key.create",
            target_type="api_key",
            target_id=row.id,
            details=details,
        )
    )
    return row, parsed.full


def _presented(header: str) -> ParsedKey:
    scheme, _, presented = header.strip().partition(" ")
    if scheme.lower() not in {"apikey", "bearer"} or not presented.strip():
        raise Unauthorized("Malformed Authorization header: expected 'apiKey <key>'.")
    try:
        return parse_key(presented.strip())
    except MalformedKey as exc:
        raise Unauthorized(f"Invalid key provided: {exc}.") from None


def _key_id_of(header: str) -> str | None:
    try:
        return _presented(header).key_id
    except Unauthorized:
        return None


class Authenticator:
    """Turns an ``Authorization`` header into a :class:`Principal`, or raises 401."""

    def __init__(self, db: Database, secret: bytes, *, ttl: float = KEY_CACHE_SECONDS) -> None:
        self.db = db
        self.secret = secret
        self.ttl = ttl
        self._rows: dict[str, tuple[float, Any]] = {}
        # header -> (cached at, principal, expiry as a POSIX time or None): a header already checked
        # against its key's hash skips parsing and the HMAC on repeat requests. Only verified keys
        # get here, so it holds at most one entry per live key (and per spelling of its header).
        self._verified: dict[str, tuple[float, Principal, float | None]] = {}
        self._last_written: dict[str, float] = {}
        self._lock = threading.Lock()

    def authenticate_cached(self, header: str | None) -> Principal | None:
        """The principal if the key's row is cached and fresh, else None (then call :meth:`authenticate`).

        Needs no database, so the API can run it on the event loop without a thread hop.
        """
        if not header:
            return None
        now = time.monotonic()
        verified = self._verified.get(header)
        if verified is not None:
            at, found, expires = verified
            if now - at < self.ttl and (expires is None or time.time() < expires):
                self._touch(found.api_key_id, background=True)
                return found
        try:
            parsed = _presented(header)
        except Unauthorized:
            return None
        with self._lock:
            hit = self._rows.get(parsed.key_id)
        if hit is None or now - hit[0] >= self.ttl:
            return None
        found = self._principal(parsed, hit[1], background=True)
        expires_at = hit[1].expires_at
        with self._lock:
            if self._rows.get(parsed.key_id) is hit:  # not invalidated meanwhile
                self._verified[header] = (hit[0], found, expires_at.timestamp() if expires_at else None)
        return found

    def authenticate(self, header: str | None) -> Principal:
        if not header:
            raise Unauthorized("Missing API key: send the header 'Authorization: apiKey <key>'.")
        parsed = _presented(header)
        return self._principal(parsed, self._lookup(parsed.key_id))

    def _principal(self, parsed: ParsedKey, row: Any, *, background: bool = False) -> Principal:
        if row is None or not verify_key(self.secret, parsed.full, row.secret_hash):
            raise Unauthorized("Invalid key provided.")
        if row.revoked_at is not None:
            raise Unauthorized("This API key has been revoked.")
        if row.expires_at is not None and row.expires_at <= utcnow():
            raise Unauthorized("This API key has expired.")
        self._touch(row.id, background=background)
        return Principal(
            organization_id=row.organization_id,
            project_id=row.project_id,
            user_id=row.user_id,
            api_key_id=row.id,
            scopes=frozenset(row.scopes or ()),
            is_admin=bool(row.is_admin),
            org_role=row.org_role,
            project_role=row.project_role,
        )

    def invalidate(self, key_id: str | None = None) -> None:
        """Forget cached key rows (all, or one): call after revoking or changing a key."""
        with self._lock:
            if key_id is None:
                self._rows.clear()
                self._verified.clear()
            else:
                self._rows.pop(key_id, None)
                for header in list(self._verified):
                    if _key_id_of(header) == key_id:
                        del self._verified[header]

    def _lookup(self, key_id: str) -> Any:
        now = time.monotonic()
        with self._lock:
            hit = self._rows.get(key_id)
        if hit is not None and now - hit[0] < self.ttl:
            return hit[1]
        with self.db.read() as session:
            row = session.execute(
                select(
                    ApiKey.id,
                    ApiKey.secret_hash,
                    ApiKey.project_id,
                    ApiKey.user_id,
                    ApiKey.scopes,
                    ApiKey.revoked_at,
                    ApiKey.expires_at,
                    Project.organization_id,
                    User.is_admin,
                    OrganizationMember.role.label("org_role"),
                    ProjectMember.role.label("project_role"),
                )
                .join(Project, Project.id == ApiKey.project_id)
                .outerjoin(User, User.id == ApiKey.user_id)
                .outerjoin(
                    OrganizationMember,
                    and_(
                        OrganizationMember.organization_id == Project.organization_id,
                        OrganizationMember.user_id == ApiKey.user_id,
                    ),
                )
                .outerjoin(
                    ProjectMember,
                    and_(
                        ProjectMember.project_id == ApiKey.project_id, ProjectMember.user_id == ApiKey.user_id
                    ),
                )
                .where(ApiKey.key_id == key_id)
            ).one_or_none()
        if row is not None:
            with self._lock:
                self._rows[key_id] = (now, row)
        return row

    def _touch(self, key_row_id: str, *, background: bool = False) -> None:
        """Record the key's use, at most once a minute. ``background`` (on the event loop, which
        must never wait for the writer): on a thread of its own."""
        now = time.monotonic()
        with self._lock:
            if now - self._last_written.get(key_row_id, -1e9) < LAST_USED_RESOLUTION_S:
                return
            self._last_written[key_row_id] = now
        if background:
            threading.Thread(target=self._write_last_used, args=(key_row_id,), daemon=True).start()
        else:
            self._write_last_used(key_row_id)

    def _write_last_used(self, key_row_id: str) -> None:
        try:
            with self.db.write(durable=False) as session:
                session.execute(update(ApiKey).where(ApiKey.id == key_row_id).values(last_used_at=utcnow()))
        except Exception:  # bookkeeping must never fail the request it rides on
            log.exception("could not record last use of key %s", key_row_id)
