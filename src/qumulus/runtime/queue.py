"""The execution queue as SQL: claim with a lease, heartbeat, reap, and fenced completion.

Every statement here is the same on SQLite and PostgreSQL except the row lock: PostgreSQL claims
with ``FOR UPDATE SKIP LOCKED`` so concurrent workers never take the same row; SQLite serialises
writers with ``BEGIN IMMEDIATE`` (see ``store.db``), which gives the same guarantee.

The attempt counter is a fencing token: a claim increments it, and completion only applies when the
row is still ``running`` under the same owner and attempt. A worker that was frozen past its lease and
comes back late therefore cannot overwrite the result of the retry that replaced it, nor charge twice.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, bindparam, func, literal_column, select, update
from sqlalchemy.orm import Session, aliased

from qumulus.runtime import fairshare
from qumulus.scheduling.lanes import SMALL_CIRCUIT_QUBITS
from qumulus.scheduling.policy import select_next
from qumulus.store.db import Database, core
from qumulus.store.models import Execution, Job
from qumulus.timeutil import utcnow

log = logging.getLogger("qumulus.queue")


@dataclass(frozen=True, slots=True)
class Claimed:
    """What a worker needs to run one execution, read in the claim transaction."""

    execution_id: str
    job_id: str
    parent_id: str | None
    attempt: int
    backend: str
    project_id: str
    organization_id: str
    submitter_id: str | None
    job_type: str
    input: dict[str, Any]
    shots: int
    noise: dict[str, Any] | None
    settings: dict[str, Any]
    #: When this claim started it (fair-share: usage inside the organization's reservation is free).
    started_at: datetime | None = None
    #: Driver-served backends: the provider's job id when an earlier attempt submitted it (this
    #: attempt re-attaches), and the job's name (it travels to the provider).
    provider_job_id: str | None = None
    name: str | None = None


# Statements are built once with bind parameters: rebuilding SQLAlchemy expressions per call cost more
# than running them (this path runs for every tiny job).
# A literal, not a bound parameter, so the planner can use the partial index over queued rows.
_QUEUED = Execution.state == literal_column("'queued'")
_FOR_BACKENDS = Execution.backend.in_(bindparam("backends", expanding=True))
_HAS_QUEUED = {
    False: select(Execution.id).where(_QUEUED).limit(1),
    True: select(Execution.id).where(_QUEUED, _FOR_BACKENDS).limit(1),
}


#: PostgreSQL: lock the rows the policy chose, skipping any a concurrent claim holds.
_LOCK_IDS = (
    select(Execution.id)
    .where(Execution.id.in_(bindparam("ids", expanding=True)), _QUEUED)
    .with_for_update(skip_locked=True)
)
#: Extra picks asked of the policy on PostgreSQL, to make up for rows a concurrent claim locked.
_SLACK = 2
_SIZES = (
    select(Execution.id, Job.stats["qubits"].as_integer())
    .join(Job, Job.id == Execution.job_id)
    .where(Execution.id.in_(bindparam("ids", expanding=True)))
)
_TAKE = (
    update(Execution)
    .where(Execution.id.in_(bindparam("ids", expanding=True)))
    .values(
        state="running",
        attempt=Execution.attempt + 1,
        lease_owner=bindparam("b_owner"),
        lease_expires_at=bindparam("b_expires"),
        started_at=bindparam("now"),
    )
)
_PARENT = aliased(Job)
_CLAIMED_ROWS = (
    select(
        Execution.id,
        Execution.job_id,
        Execution.attempt,
        Execution.backend,
        Execution.project_id,
        Execution.organization_id,
        Job.submitter_id,
        Job.parent_id,
        Job.type,
        Job.input,
        Job.shots,
        Job.noise,
        Job.settings,
        Job.name,
        Execution.provider_job_id,
        _PARENT.settings.label("parent_settings"),
    )
    .join(Job, Job.id == Execution.job_id)
    .outerjoin(_PARENT, _PARENT.id == Job.parent_id)  # a child's settings are its parent's
    .where(Execution.id.in_(bindparam("ids", expanding=True)))
)
_START_JOBS = (
    update(Job)
    .where(Job.id.in_(bindparam("job_ids", expanding=True)), Job.status.in_(("submitted", "ready")))
    .values(status="started", started_at=bindparam("now"))
)


def has_queued(db: Database, *, backends: Sequence[str] | None) -> bool:
    """Whether anything is queued (for these backends), without taking any lock: one read through
    :meth:`Database.hot_rows` (SQLite's own driver when it can)."""
    params = {} if backends is None else {"backends": list(backends)}
    return bool(db.hot_rows(_HAS_QUEUED[backends is not None], params))


def claim(
    session: Session | Connection,
    *,
    owner: str,
    backends: Sequence[str] | None,
    limit: int,
    lease_seconds: float,
    postgres: bool,
    now: datetime | None = None,
    short_only: bool = False,
) -> list[Claimed]:
    """Take up to ``limit`` queued executions in fair-share order and mark their jobs started.

    ``short_only``: only short-class work (``scheduling/lanes.py``), for a worker whose pool has
    every long lane taken.

    The order is :func:`qumulus.scheduling.policy.select_next` over a snapshot read in one query
    (:mod:`qumulus.runtime.fairshare`). On PostgreSQL the chosen rows are then locked with
    ``FOR UPDATE SKIP LOCKED``, so concurrent claims never take the same execution (a row another
    claim holds is skipped, and the next choice fills its place); SQLite serialises writers.
    """
    conn = core(session)  # Core statements: no ORM unit-of-work cost
    now = now or utcnow()
    ids: list[str] = []
    for _ in range(3 if postgres else 1):  # PostgreSQL: again if concurrent claims held every pick
        window = limit * _SLACK if postgres else limit
        snap = fairshare.snapshot(conn, backends=backends, limit=window, now=now, short_only=short_only)
        if not snap.candidates:
            return []
        ids = [c.id for c in select_next(snap, limit * _SLACK if postgres else limit)]
        if postgres and ids:
            held = set(conn.scalars(_LOCK_IDS, {"ids": ids}))
            ids = [i for i in ids if i in held][:limit]
        if ids:
            break
    if not ids:
        return []
    if len(ids) > 1:
        ids = _at_most_one_large(conn, ids)
    return _take(conn, ids, owner=owner, lease_seconds=lease_seconds, now=now)


def _take(
    conn: Connection, ids: list[str], *, owner: str, lease_seconds: float, now: datetime
) -> list[Claimed]:
    """Lease the chosen executions, mark their jobs started, and read what running them needs."""
    expires = now + timedelta(seconds=lease_seconds)
    conn.execute(_TAKE, {"ids": ids, "b_owner": owner, "b_expires": expires, "now": now})
    claimed = claimed_rows(conn, ids, started_at=now)
    started = [c.job_id for c in claimed] + list({c.parent_id for c in claimed if c.parent_id})
    conn.execute(_START_JOBS, {"job_ids": started, "now": now})
    return claimed


def claimed_rows(conn: Connection, ids: list[str], *, started_at: datetime | None) -> list[Claimed]:
    """What running these executions needs, in the order of ``ids`` (a claim's, or the reaper's
    when it fails executions out of attempts)."""
    rows = conn.execute(_CLAIMED_ROWS, {"ids": ids}).all()
    order = {eid: i for i, eid in enumerate(ids)}
    claimed = [
        Claimed(
            execution_id=row.id,
            job_id=row.job_id,
            parent_id=row.parent_id,
            attempt=row.attempt,
            backend=row.backend,
            project_id=row.project_id,
            organization_id=row.organization_id,
            submitter_id=row.submitter_id,
            job_type=row.type,
            input=row.input or {},
            shots=row.shots,
            noise=row.noise,
            settings=row.settings or row.parent_settings or {},
            started_at=started_at,
            provider_job_id=row.provider_job_id,
            name=row.name,
        )
        for row in rows
    ]
    claimed.sort(key=lambda c: order[c.execution_id])
    return claimed


def _at_most_one_large(conn: Connection, ids: list[str]) -> list[str]:
    """Keep every small circuit but only the first large one (in policy order).

    A worker runs large circuits one after another, so a batch of them would sit with one worker
    while others idle (measured: 1 → 2 worker processes gave no speed-up until claims were cut).
    """
    qubits = dict(conn.execute(_SIZES, {"ids": ids}).all())
    kept: list[str] = []
    large = False
    for execution_id in ids:
        if (qubits.get(execution_id) or 0) > SMALL_CIRCUIT_QUBITS:
            if large:
                continue
            large = True
        kept.append(execution_id)
    return kept


def heartbeat(
    session: Session | Connection, *, owner: str, execution_ids: Sequence[str], lease_seconds: float
) -> int:
    """Extend the leases this owner still holds; returns how many it still holds."""
    conn = core(session)  # Core statements: no ORM unit-of-work cost
    if not execution_ids:
        return 0
    result = conn.execute(
        update(Execution)
        .where(
            Execution.id.in_(list(execution_ids)),
            Execution.lease_owner == owner,
            Execution.state == "running",
        )
        .values(lease_expires_at=utcnow() + timedelta(seconds=lease_seconds))
    )
    return result.rowcount or 0


def not_held(session: Session | Connection, *, owner: str, execution_ids: Sequence[str]) -> set[str]:
    """Which of these executions this owner no longer holds (canceled, finished, or re-leased)."""
    if not execution_ids:
        return set()
    held = core(session).scalars(
        select(Execution.id).where(
            Execution.id.in_(list(execution_ids)),
            Execution.lease_owner == owner,
            Execution.state == "running",
        )
    )
    return set(execution_ids) - set(held)


def reap(
    session: Session | Connection, *, now: datetime | None = None, owner: str | None = None
) -> list[str]:
    """Requeue running executions whose lease expired (or, with ``owner``, that owner's leases),
    whatever their attempt. Returns the execution ids put back in the queue; their jobs go back
    to ``ready``.

    Only for tests and tools: the runtime reaps through :func:`qumulus.runtime.reaping.reap`, which
    fails executions out of attempts instead of requeuing them forever.
    """
    rows = lost(session, now=now, owner=owner)
    requeue_all(session, rows, reason="lease expired" if owner is None else "handed back by its owner")
    return [r.id for r in rows]


def lost(
    session: Session | Connection, *, now: datetime | None = None, owner: str | None = None
) -> list[Any]:
    """Running executions whose lease expired (or, with ``owner``, that owner's): rows of
    (id, job_id, attempt, lease_owner, provider_job_id)."""
    conn = core(session)  # Core statements: no ORM unit-of-work cost
    condition = [Execution.state == "running"]
    if owner is None:
        condition.append(Execution.lease_expires_at < (now or utcnow()))
    else:
        condition.append(Execution.lease_owner == owner)
    return list(
        conn.execute(
            select(
                Execution.id,
                Execution.job_id,
                Execution.attempt,
                Execution.lease_owner,
                Execution.provider_job_id,
                Execution.lease_expires_at,
            ).where(and_(*condition))
        ).all()
    )


def requeue_all(
    session: Session | Connection,
    rows: Sequence[Any],
    *,
    refund: bool = False,
    reason: str = "lease expired",
) -> None:
    """Put these running executions (rows of :func:`lost`) back in the queue; their jobs go back to
    ``ready``. ``refund`` gives the attempt back: a graceful stop is not a failed attempt (the
    fence stays sound, as the next claim's owner differs). Each requeue is logged with its ids,
    owner, attempt and ``reason`` (issue 16.16)."""
    if not rows:
        return
    conn = core(session)
    ids = [r.id for r in rows]
    values: dict[str, Any] = {"state": "queued", "lease_owner": None, "lease_expires_at": None}
    if refund:
        values["attempt"] = (
            func.max(Execution.attempt - 1, 0)
            if conn.dialect.name == "sqlite"
            else (func.greatest(Execution.attempt - 1, 0))
        )
    conn.execute(
        update(Execution).where(Execution.id.in_(ids), Execution.state == "running").values(**values)
    )
    for r in rows:  # who lost what: a frozen worker's later completion is logged against these
        fields = {
            "execution_id": r.id,
            "job_id": r.job_id,
            "owner": r.lease_owner,
            "attempt": r.attempt,
            "lease_expires_at": r.lease_expires_at.isoformat() if r.lease_expires_at else None,
            "reason": reason,
        }
        log.log(
            logging.WARNING if reason == "lease expired" else logging.INFO,
            "execution_requeued %s",
            " ".join(f"{k}={v}" for k, v in fields.items()),
            extra={"event": "execution_requeued", **fields},
        )
    conn.execute(
        update(Job)
        .where(Job.id.in_([r.job_id for r in rows]), Job.status == "started")
        .values(status="ready")
    )


def release(session: Session | Connection, *, owner: str) -> list[str]:
    """A graceful stop: put back what ``owner`` still holds, giving the attempt back (a stop on
    purpose does not count against :data:`qumulus.config.Settings.max_attempts`)."""
    rows = lost(session, owner=owner)
    requeue_all(session, rows, refund=True, reason="handed back by its owner")
    return [r.id for r in rows]


FINISH = (
    update(Execution)
    .where(
        Execution.id == bindparam("eid"),
        Execution.state == "running",
        Execution.lease_owner == bindparam("owner"),
        Execution.attempt == bindparam("b_attempt"),
    )
    .values(
        state=bindparam("b_state"),
        finished_at=bindparam("now"),
        usage_seconds=bindparam("b_usage"),
        lease_expires_at=None,
    )
)


def finish(
    session: Session | Connection,
    *,
    execution_id: str,
    owner: str,
    attempt: int,
    state: str,
    usage_seconds: float | None,
    now: datetime | None = None,
) -> bool:
    """Fenced transition of a running execution to ``done`` or ``failed``.

    Returns False when the lease was lost (reaped, retried or canceled meanwhile): the caller must
    then write nothing else for this execution.
    """
    result = core(session).execute(
        FINISH,
        {"eid": execution_id, "owner": owner, "b_attempt": attempt, "b_state": state,
         "now": now or utcnow(), "b_usage": usage_seconds},
    )  # fmt: skip
    return (result.rowcount or 0) == 1


def requeue(session: Session | Connection, *, execution_id: str, owner: str, attempt: int) -> bool:
    """Put a running execution back (its process died); fenced like :func:`finish`."""
    conn = core(session)  # Core statements: no ORM unit-of-work cost
    result = conn.execute(
        update(Execution)
        .where(
            Execution.id == execution_id,
            Execution.state == "running",
            Execution.lease_owner == owner,
            Execution.attempt == attempt,
        )
        .values(state="queued", lease_owner=None, lease_expires_at=None)
    )
    return (result.rowcount or 0) == 1


# --- driver-served backends (runtime/forwarding.py) ---------------------------------------------

#: At the provider and not final there (the partial index ``ix_executions_at_provider``).
_AT_PROVIDER = Execution.provider_status.in_(("queued", "running"))
PROVIDER_FINAL = ("completed", "failed", "canceled")


def claim_reattach(
    conn: Connection, *, owner: str, backend: str, lease_seconds: float, now: datetime | None = None
) -> list[Claimed]:
    """Claim the queued executions of ``backend`` that are already at the provider (an earlier
    attempt submitted them; its worker died or stopped): they are followed again, never resubmitted,
    and they go first (they occupy the provider already)."""
    ids = list(
        conn.scalars(
            select(Execution.id)
            .where(Execution.backend == backend, Execution.state == "queued", _AT_PROVIDER)
            .order_by(Execution.created_at)
        )
    )
    if not ids:
        return []
    return _take(conn, ids, owner=owner, lease_seconds=lease_seconds, now=now or utcnow())


def reattachable(conn: Connection, backend: str) -> bool:
    """Whether queued executions of ``backend`` wait to be re-attached at the provider."""
    return (
        conn.scalar(
            select(Execution.id)
            .where(Execution.backend == backend, Execution.state == "queued", _AT_PROVIDER)
            .limit(1)
        )
        is not None
    )


def outstanding(conn: Connection, backend: str) -> int:
    """Executions of ``backend`` at the provider or being sent there: every running one (claimed,
    submitted or not yet) plus queued ones the provider still holds (waiting to be re-attached)."""
    running = conn.scalar(
        select(func.count()).where(Execution.backend == backend, Execution.state == "running")
    )
    waiting = conn.scalar(
        select(func.count()).where(Execution.backend == backend, Execution.state == "queued", _AT_PROVIDER)
    )
    return int(running or 0) + int(waiting or 0)


def record_provider_job(
    conn: Connection, *, execution_id: str, owner: str, attempt: int, provider_job_id: str
) -> bool:
    """Fenced: store the provider's job id while this lease still holds. False if it does not (the
    execution was canceled or re-leased meanwhile)."""
    result = conn.execute(
        update(Execution)
        .where(
            Execution.id == execution_id,
            Execution.state == "running",
            Execution.lease_owner == owner,
            Execution.attempt == attempt,
        )
        .values(provider_job_id=provider_job_id, provider_status="queued")
    )
    return (result.rowcount or 0) == 1


def canceled(conn: Connection, execution_ids: Sequence[str]) -> set[str]:
    """Which of these executions were canceled (rather than finished or re-leased)."""
    if not execution_ids:
        return set()
    return set(
        conn.scalars(
            select(Execution.id).where(Execution.id.in_(list(execution_ids)), Execution.state == "canceled")
        )
    )


def note_provider_job(conn: Connection, *, execution_id: str, provider_job_id: str) -> None:
    """Unfenced: the provider's id of a job submitted for an execution canceled meanwhile, so that the
    cancel is forwarded (now, or by a later heartbeat if the provider cannot be reached)."""
    conn.execute(
        update(Execution)
        .where(Execution.id == execution_id, Execution.provider_job_id.is_(None))
        .values(provider_job_id=provider_job_id, provider_status="queued")
    )


def provider_progress(
    conn: Connection, *, execution_id: str, job_id: str, owner: str, attempt: int, status: str
) -> None:
    """The provider moved a job between ``queued`` and ``running``: the execution records it and the
    local job shows it (``ready`` while it waits in the provider's queue, ``started`` once it runs)."""
    held = conn.execute(
        update(Execution)
        .where(
            Execution.id == execution_id,
            Execution.state == "running",
            Execution.lease_owner == owner,
            Execution.attempt == attempt,
        )
        .values(provider_status=status)
    )
    if (held.rowcount or 0) != 1:
        return
    conn.execute(
        update(Job)
        .where(Job.id == job_id, Job.status.in_(("ready", "started")))
        .values(status="started" if status == "running" else "ready")
    )


def provider_final(conn: Connection, *, execution_id: str, status: str) -> None:
    """Nothing is left to follow or cancel at the provider for this execution."""
    conn.execute(update(Execution).where(Execution.id == execution_id).values(provider_status=status))


def canceled_at_provider(conn: Connection, backends: Sequence[str]) -> list[Any]:
    """Executions canceled here that the provider may still run: (id, backend, provider_job_id)."""
    return list(
        conn.execute(
            select(Execution.id, Execution.backend, Execution.provider_job_id).where(
                Execution.backend.in_(list(backends)), Execution.state == "canceled", _AT_PROVIDER
            )
        )
    )
