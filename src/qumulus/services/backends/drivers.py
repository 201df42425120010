"""Driver-served backends as declarations: from the backends file or the admin API/CLI.

A declaration (``qumulus.drivers.config.BackendDecl``) becomes two rows in one transaction: the
``backends`` row every other part of the platform reads (name, kind, qubits, gatesets, status) and
its ``backend_drivers`` row (the declaration itself, credential *reference* included). Nothing here
reads a credential: the processes that run the driver resolve it (``drivers.fleet``).

* :func:`sync_file` — at start, the ``QUMULUS_BACKENDS_FILE`` declarations are written (new or
  changed); a backend the file no longer declares is retired (it refuses new jobs; queued ones still
  drain). Declarations made through the admin API are left alone.
* :func:`declare`, :func:`retire`, :func:`list_declared` — the admin API and CLI (platform
  administrators; audited).
* :func:`load` — every declaration, for the processes that build drivers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from qumulus.auth.permissions import Action, Actor
from qumulus.auth.principal import Principal
from qumulus.backends.catalog import BY_NAME
from qumulus.drivers import ConfigError
from qumulus.drivers.config import BackendDecl, ContractDefaults, check_drivers, parse_backend
from qumulus.drivers.registry import installed
from qumulus.errors import Conflict, InvalidRequest, NotFound
from qumulus.runtime import availability
from qumulus.services.context import Context
from qumulus.services.tenancy import access, audit
from qumulus.store.models import Backend, BackendDriver, BackendStatusEvent
from qumulus.timeutil import utcnow

#: The status message of a backend the backends file stopped declaring.
UNDECLARED = "no longer declared in the backends file"


def _require_admin(session: Session, principal: Principal) -> None:
    access.require(
        Actor(scopes=principal.scopes, is_admin=access.is_admin(session, principal)), Action.PLATFORM_MANAGE
    )


def _write(session: Session, decl: BackendDecl, source: str) -> bool:
    """Insert or update the two rows of one declaration; returns whether anything changed."""
    if decl.name in BY_NAME:
        raise Conflict(f"backend {decl.name!r} is a built-in backend; a driver cannot serve it")
    stored = decl.model_dump(mode="json")
    backend = session.get(Backend, decl.name)
    row = session.get(BackendDriver, decl.name)
    if backend is not None and row is None:
        raise Conflict(f"backend {decl.name!r} exists and is not served by a driver")
    if row is not None and row.source != source and source == "file":
        return False  # an administrator's declaration wins over the file's
    changed = False
    if backend is None:
        session.add(
            Backend(
                name=decl.name,
                kind=decl.kind,
                qubits=decl.qubits,
                gatesets=list(decl.gatesets),
                status="operational",
                description=decl.description,
                accepting_jobs=True,
            )
        )
        session.flush()
        changed = True
    else:
        values = {
            "kind": decl.kind,
            "qubits": decl.qubits,
            "gatesets": list(decl.gatesets),
            "description": decl.description,
        }
        for key, value in values.items():
            if getattr(backend, key) != value:
                setattr(backend, key, value)
                changed = True
        if backend.status == "retired" and backend.status_message == UNDECLARED:
            record_status(session, backend, "operational", "declared again")
            backend.accepting_jobs = True
            changed = True
    if row is None:
        session.add(BackendDriver(backend=decl.name, driver=decl.driver, declaration=stored, source=source))
        changed = True
    elif row.declaration != stored or row.driver != decl.driver or row.source != source:
        row.declaration, row.driver, row.source = stored, decl.driver, source
        changed = True
    return changed


def record_status(session: Session, backend: Backend, status: str, message: str) -> None:
    """Change a backend's status with its history row (the platform itself, not an administrator)."""
    previous = backend.status
    backend.status, backend.status_message, backend.updated_at = status, message, utcnow()
    session.add(BackendStatusEvent(backend=backend.name, status=status, previous=previous, message=message))


def sync_file(session: Session, decls: Sequence[BackendDecl]) -> list[str]:
    """Make the database say what the backends file says; returns the backends changed."""
    check_drivers(decls, installed())
    changed = [d.name for d in decls if _write(session, d, "file")]
    declared = {d.name for d in decls}
    for row in session.scalars(select(BackendDriver).where(BackendDriver.source == "file")):
        backend = session.get(Backend, row.backend)
        if row.backend not in declared and backend is not None and backend.status != "retired":
            record_status(session, backend, "retired", UNDECLARED)
            backend.accepting_jobs = False
            changed.append(row.backend)
    if changed:
        availability.invalidate()
    return changed


def load(session: Session) -> list[BackendDecl]:
    """Every declaration stored (a retired backend's too: its queue drains through its driver)."""
    out = []
    for row in session.scalars(select(BackendDriver).order_by(BackendDriver.backend)):
        try:
            out.append(BackendDecl.model_validate(row.declaration))
        except ValueError:  # written by a newer release, say: skip it rather than stop every other one
            continue
    return out


def declare(platform: Context, principal: Principal, data: Mapping[str, Any]) -> BackendDecl:
    """Declare (or change) a driver-served backend (administrators only); 400 naming the field."""
    try:
        decl = parse_backend(data)
    except ConfigError as exc:
        message = str(exc).removeprefix("backend: ")
        raise InvalidRequest(message, field=message.split(":", 1)[0].split(";")[0]) from None
    try:
        check_drivers([decl], installed())
    except ConfigError as exc:  # "backend 'x': driver: no driver named ..." → from the field on
        raise InvalidRequest(str(exc).split(": ", 1)[-1], field="driver") from None
    with platform.db.write() as session:
        _require_admin(session, principal)
        _write(session, decl, "admin")
        audit.record(
            session,
            principal,
            "backend.declare",
            target_type="backend",
            target_id=decl.name,
            organization_id=None,
            details={"driver": decl.driver, "max_outstanding": decl.max_outstanding},
        )
    platform.backends.invalidate()
    availability.invalidate()
    return decl


def retire(platform: Context, principal: Principal, name: str) -> Backend:
    """Retire a driver-served backend: new jobs are refused, queued ones still drain."""
    with platform.db.write() as session:
        _require_admin(session, principal)
        row = session.get(BackendDriver, name)
        backend = session.get(Backend, name)
        if row is None or backend is None:
            raise NotFound(f"Backend {name} is not served by a driver.")
        if backend.status != "retired":
            record_status(session, backend, "retired", "retired by an administrator")
        backend.accepting_jobs = False
        audit.record(
            session, principal, "backend.retire", target_type="backend", target_id=name, organization_id=None
        )
        session.flush()
        session.expunge(backend)
    platform.backends.invalidate()
    availability.invalidate()
    return backend


def list_declared(platform: Context, principal: Principal) -> list[tuple[BackendDecl, str, Backend]]:
    """(declaration, source, backend row) of every driver-served backend (administrators only)."""
    with platform.db.read() as session:
        _require_admin(session, principal)
        rows = list(session.scalars(select(BackendDriver).order_by(BackendDriver.backend)))
        out = []
        for row in rows:
            backend = session.get(Backend, row.backend)
            if backend is not None:
                out.append((BackendDecl.model_validate(row.declaration), row.source, backend))
    return out


def contract_defaults(session: Session, backend: str) -> ContractDefaults | None:
    """The terms a new contract on ``backend`` starts from, if it is driver-served."""
    row = session.get(BackendDriver, backend)
    return BackendDecl.model_validate(row.declaration).contract if row is not None else None


def describe(decl: BackendDecl, source: str, backend: Backend) -> dict[str, Any]:
    """A declaration as the admin API shows it: the credential's *place*, never a key."""
    body = decl.model_dump(mode="json")
    body["credential"] = decl.credential.ref().describe() if decl.credential is not None else None
    body.update(
        source=source,
        status=backend.status,
        status_message=backend.status_message,
        accepting_jobs=backend.accepting_jobs,
    )
    return body


def default_rate(defaults: ContractDefaults | None) -> Decimal:
    return defaults.rate_per_second if defaults is not None else Decimal(0)
