"""Sessions (wire spec §8.1): a project's run of related jobs on one backend, with optional limits.

Life of a session: ``created`` by ``POST /sessions``; ``started`` when its first job is accepted;
``ended`` by request (``POST|PUT /sessions/{id}/end``) or once a limit is reached. Limits, all
optional, come from ``settings``:

* ``job_count_limit``: jobs accepted in the session (top-level jobs; a multi-circuit job counts once);
* ``duration_limit_min``: minutes since the session started;
* ``cost_limit`` ``{"unit": "usd", "value": v}``: the usage ledger's cost of the session's jobs.

Limits are checked where they matter, with no background sweep: on submit (the job is refused with
409 naming ``session_id``, and the session is ended) and on every read (a session past its
duration or cost limit reads, and is stored, as ended). Jobs accepted before a session ended still
run. The submit check locks the session row (``FOR UPDATE`` on PostgreSQL), so concurrent
submissions cannot overrun the job count.

A session in another project is "not found", never "forbidden" (services/access.py rule).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from qumulus.auth.permissions import Action
from qumulus.auth.principal import Principal
from qumulus.domain import SESSION_ENDED, SessionView
from qumulus.errors import Conflict, InvalidRequest, NotFound
from qumulus.services import paging
from qumulus.services.context import Context
from qumulus.store.models import Job, UsageLedger, new_id
from qumulus.store.models import Session as JobSession
from qumulus.timeutil import utcnow

# --- pure rules ------------------------------------------------------------------------------------

#: Upper bounds of the limits: beyond them a limit means nothing (and date arithmetic overflows).
MAX_JOB_COUNT = 1_000_000
MAX_DURATION_MIN = 10 * 366 * 24 * 60  # ten years
MAX_COST_USD = 1_000_000_000
SETTINGS = ("job_count_limit", "duration_limit_min", "cost_limit")


def _positive_number(value: Any, field: str, maximum: float) -> float:
    """Numbers, or numeric strings (qiskit passes ``max_time``/``max_cost`` through as given)."""
    if isinstance(value, bool):
        value = None
    try:
        number = float(value) if value is not None else None
    except (TypeError, ValueError, OverflowError):
        number = None
    if number is None or not 0 < number <= maximum:
        raise InvalidRequest(
            f"{field}: must be a number above 0 and at most {maximum:g}, got {str(value)[:40]!r}", field=field
        )
    return number


def normalise_settings(settings: Any) -> dict[str, Any]:
    """Validated session settings, 400 naming the field at fault."""
    if settings is None:
        return {}
    if not isinstance(settings, dict):
        raise InvalidRequest("settings: must be an object", field="settings")
    for key in settings:
        if key not in SETTINGS:
            raise InvalidRequest(
                f"settings.{key}: unknown field; a session's settings are {', '.join(SETTINGS)}",
                field=f"settings.{key}",
            )
    out: dict[str, Any] = {}
    count = settings.get("job_count_limit")
    if count is not None:
        if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_JOB_COUNT:
            raise InvalidRequest(
                f"settings.job_count_limit: must be an integer from 1 to {MAX_JOB_COUNT}, got {count!r}",
                field="settings.job_count_limit",
            )
        out["job_count_limit"] = count
    minutes = settings.get("duration_limit_min")
    if minutes is not None:
        out["duration_limit_min"] = _positive_number(minutes, "settings.duration_limit_min", MAX_DURATION_MIN)
    cost = settings.get("cost_limit")
    if cost is not None:
        if not isinstance(cost, dict):
            raise InvalidRequest(
                'settings.cost_limit: must be {"unit": "usd", "value": n}', field="settings.cost_limit"
            )
        for key in cost:
            if key not in ("unit", "value"):
                raise InvalidRequest(
                    f"settings.cost_limit.{key}: unknown field; expected unit and value",
                    field=f"settings.cost_limit.{key}",
                )
        unit = cost.get("unit", "usd")
        if unit != "usd":
            raise InvalidRequest(
                f"settings.cost_limit.unit: only 'usd' is supported, got {unit!r}",
                field="settings.cost_limit.unit",
            )
        out["cost_limit"] = {
            "unit": "usd",
            "value": _positive_number(cost.get("value"), "settings.cost_limit.value", MAX_COST_USD),
        }
    return out


def limit_reached(
    settings: dict[str, Any],
    *,
    started_at: datetime | None,
    job_count: int,
    cost: Decimal,
    now: datetime,
) -> str | None:
    """Which limit (a sentence for the error message) stops the session taking more jobs, if any."""
    count = settings.get("job_count_limit")
    if count is not None and job_count >= count:
        return f"its job count limit ({count} jobs)"
    minutes = settings.get("duration_limit_min")
    # Elapsed minutes against the limit: no date arithmetic that a huge stored limit could overflow.
    if (
        minutes is not None
        and started_at is not None
        and (now - started_at) / timedelta(minutes=1) >= minutes
    ):
        return f"its duration limit ({minutes:g} minutes)"
    cost_limit = settings.get("cost_limit")
    if cost_limit is not None and cost >= Decimal(str(cost_limit["value"])):
        return f"its cost limit ({cost_limit['value']:g} usd)"
    return None


# --- database side ---------------------------------------------------------------------------------


def _figures(conn: Connection, session_id: str) -> tuple[int, float, Decimal]:
    """(top-level jobs, ledger seconds, ledger cost) of a session."""
    count = conn.scalar(select(func.count()).where(Job.session_id == session_id, Job.parent_id.is_(None)))
    seconds, cost = conn.execute(
        select(
            func.coalesce(func.sum(UsageLedger.usage_seconds), 0),
            func.coalesce(func.sum(UsageLedger.cost), 0),
        )
        .select_from(UsageLedger)
        .join(Job, Job.id == UsageLedger.job_id)
        .where(Job.session_id == session_id)
    ).one()
    return int(count or 0), float(seconds or 0), Decimal(str(cost or 0))


_T = JobSession.__table__


def _row(conn: Connection, principal: Principal, session_id: str, *, lock: bool = False) -> Any:
    """The session's row (Core ``Row``: attribute access); 404 outside the caller's project."""
    if not isinstance(session_id, str) or len(session_id) > 64:
        raise NotFound(f"session_id: session {session_id} not found", field="session_id")
    stmt = select(_T).where(_T.c.id == session_id)
    if lock and conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    row = conn.execute(stmt).first()
    if row is None or row.project_id != principal.project_id:
        raise NotFound(f"session_id: session {session_id} not found", field="session_id")
    return row


def _end(conn: Connection, session_id: str, ender_id: str | None, now: datetime) -> None:
    conn.execute(
        update(_T)
        .where(_T.c.id == session_id, _T.c.status != SESSION_ENDED)
        .values(status=SESSION_ENDED, ended_at=now, ender_id=ender_id)
    )


def _view(platform: Context, conn: Connection, row: Any, now: datetime) -> SessionView:
    """The session's figures; a session past a limit is ended on the way (lazy expiry)."""
    count, seconds, cost = _figures(conn, row.id)
    if row.status != SESSION_ENDED:
        reason = limit_reached(
            row.settings or {}, started_at=row.started_at, job_count=count, cost=cost, now=now
        )
        if reason is not None:
            with platform.db.begin() as writer:
                _end(writer, row.id, None, now)
                row = writer.execute(select(_T).where(_T.c.id == row.id)).one()
    return SessionView(row, count, seconds, cost)


def create_session(platform: Context, principal: Principal, backend: Any, settings: Any) -> SessionView:
    principal.require(Action.JOB_SUBMIT)
    if not isinstance(backend, str) or not backend:
        raise InvalidRequest("backend: required, a backend name such as 'simulator'", field="backend")
    from qumulus.backends.catalog import resolve_backend_name

    # qiskit-ionq sends its own backend name (``ionq_simulator``; ``ionq_qpu`` is rewritten to ``qpu``).
    name = resolve_backend_name(backend.removeprefix("ionq_"))
    found = platform.backends.get(name)
    if found is None or found.status == "retired":
        raise InvalidRequest(
            f"backend: unknown backend {backend!r}; GET /v0.4/backends lists them", field="backend"
        )
    clean = normalise_settings(settings)
    session_id = new_id()
    with platform.db.begin() as conn:
        conn.execute(
            insert(_T).values(
                id=session_id,
                project_id=principal.project_id,
                backend=name,
                creator_id=principal.user_id,
                settings=clean,
                status="created",
                created_at=utcnow(),
            )
        )
        row = conn.execute(select(_T).where(_T.c.id == session_id)).one()
    return SessionView(row, 0, 0.0, Decimal(0))


def get_session(platform: Context, principal: Principal, session_id: str) -> SessionView:
    principal.require(Action.JOB_READ)
    with platform.db.connect() as conn:
        return _view(platform, conn, _row(conn, principal, session_id), utcnow())


def list_sessions(
    platform: Context, principal: Principal, *, limit: int | None, cursor: str | None
) -> tuple[list[SessionView], str | None]:
    """The project's sessions, newest first, cursor paged like job lists."""
    principal.require(Action.JOB_READ)
    size = paging.check_limit(limit)
    stmt = paging.newest_first(
        select(_T).where(_T.c.project_id == principal.project_id), _T.c.created_at, _T.c.id, size, cursor
    )
    now = utcnow()
    with platform.db.connect() as conn:
        rows = list(conn.execute(stmt))
        page, following = paging.split(rows, size, lambda r: (r.created_at, r.id))
        return [_view(platform, conn, r, now) for r in page], following


def end_session(platform: Context, principal: Principal, session_id: str) -> SessionView:
    """End a session (idempotent: ending an ended session returns it unchanged)."""
    principal.require(Action.JOB_SUBMIT)
    now = utcnow()
    with platform.db.begin() as conn:
        _row(conn, principal, session_id, lock=True)
        _end(conn, session_id, principal.user_id, now)
    with platform.db.connect() as conn:
        return _view(platform, conn, _row(conn, principal, session_id), now)


def admit(conn: Connection, principal: Principal, session_id: str, backend: str) -> None:
    """Submit-time check, inside the job's insert transaction: the session exists in the caller's
    project, is on the job's backend, is not ended and has room under its limits. Starts it."""
    row = _row(conn, principal, session_id, lock=True)
    if row.status == SESSION_ENDED:
        raise Conflict(f"session_id: session {session_id} has ended", field="session_id")
    if row.backend != backend:
        raise InvalidRequest(
            f"session_id: session {session_id} is on {row.backend}, not {backend}", field="backend"
        )
    now = utcnow()
    settings = row.settings or {}
    if settings:
        count, _, cost = _figures(conn, session_id)
        reason = limit_reached(settings, started_at=row.started_at, job_count=count, cost=cost, now=now)
        if reason is not None:
            _end(conn, session_id, None, now)  # rolled back with the refused job; the next read ends it again
            raise Conflict(f"session_id: session {session_id} has reached {reason}", field="session_id")
    if row.status == "created":
        conn.execute(
            update(_T)
            .where(_T.c.id == session_id, _T.c.status == "created")
            .values(status="started", started_at=now)
        )
