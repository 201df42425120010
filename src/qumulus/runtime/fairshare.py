"""The fair-share policy's database side: load a claim snapshot, charge completed usage.

The decision itself is :func:`qumulus.scheduling.policy.select_next` (pure). This module keeps the
claim path cheap:

* **one query** reads the candidate window: for each (backend, project) with queued work, its first
  ``limit`` executions in (priority, age) order, plus each project's running count, joined with the
  decayed usage of its organization and project and its backend's run-time history. A flood of
  10 000 jobs from one project therefore adds ``limit`` rows, not 10 000, and every other project
  is still seen. The window reads a partial index over live (queued or running) rows only.
* the slowly changing terms (approved reservations, contract shares and hard allocations, period
  usage of organizations with an allocation) are cached per database for :data:`TERMS_TTL_S`
  seconds; services that change them call :func:`invalidate` (other processes see the change
  within the TTL).

Charging (:func:`charge`) runs inside the completion transaction: one read of the affected
accumulators and one ``UPDATE ... SET g = g * :scale + :add`` executemany (an insert only for an
accumulator's first charge), so concurrent completions add up without lost updates.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Protocol

from sqlalchemy import (
    Connection,
    Integer,
    and_,
    bindparam,
    func,
    insert,
    literal_column,
    null,
    or_,
    select,
    type_coerce,
    union_all,
    update,
)
from sqlalchemy.orm import aliased

from qumulus.backends.catalog import NOISE_MODELS
from qumulus.runtime import availability, session_affinity
from qumulus.scheduling import charging, decay
from qumulus.scheduling.charging import Charge, ShareTerm, Usage
from qumulus.scheduling.lanes import SMALL_CIRCUIT_QUBITS
from qumulus.scheduling.policy import Allocation, Candidate, Running, Snapshot, Window, decode_priority
from qumulus.store import fast_sql
from qumulus.store.models import (
    Contract,
    Execution,
    FairShareUsage,
    Job,
    Project,
    Reservation,
    UsageLedger,
    UTCDateTime,
)
from qumulus.store.patterns import backend_condition

#: Half-life of decayed usage, seconds (``QUMULUS_FAIRSHARE_HALF_LIFE_S``; default 7 days).
HALF_LIFE_S = float(os.environ.get("QUMULUS_FAIRSHARE_HALF_LIFE_S") or decay.DEFAULT_HALF_LIFE_S)
#: Waiting longer than this promotes an execution (``QUMULUS_STARVATION_S``; default 1 day).
STARVATION_S = float(os.environ.get("QUMULUS_STARVATION_S") or 24 * 3600.0)
#: How long reservations, contract terms and period usage are reused between claims, seconds.
TERMS_TTL_S = 1.0
#: How far back ended reservations are still loaded (for charging executions that overran them).
RECENT_WINDOWS = timedelta(days=1)


def configure(*, half_life_s: float | None = None, starvation_s: float | None = None) -> None:
    """Set the half-life and starvation bound for this process (tests, benchmarks, the CLI)."""
    global HALF_LIFE_S, STARVATION_S
    if half_life_s is not None:
        if half_life_s <= 0:
            raise ValueError("the fair-share half-life must be positive")
        HALF_LIFE_S = half_life_s
    if starvation_s is not None:
        STARVATION_S = starvation_s


def _ts(value: datetime) -> float:
    return value.timestamp()


# --- slowly changing terms (cached) ------------------------------------------------------------


@dataclass
class Terms:
    """Reservations, shares and hard allocations in force, as the policy takes them."""

    windows: list[Window] = field(default_factory=list)
    shares: dict[str, list[ShareTerm]] = field(default_factory=dict)
    #: (organization, backend pattern) -> (limit seconds, period start)
    limits: dict[tuple[str, str], tuple[float, datetime]] = field(default_factory=dict)
    #: (organization, backend) -> seconds used since the start of its allocation period
    used: dict[tuple[str, str], float] = field(default_factory=dict)


_CACHE: dict[str, tuple[float, Terms]] = {}
_CACHE_LOCK = threading.Lock()


def invalidate() -> None:
    """Forget cached terms (after a reservation or contract change in this process)."""
    with _CACHE_LOCK:
        _CACHE.clear()


def period_start(period: str, at: datetime, contract_start: datetime) -> datetime:
    """Start of the allocation period containing ``at`` (``none``: the contract's start)."""
    at = at.astimezone(timezone.utc)
    if period == "month":
        return at.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    if period == "quarter":
        return at.replace(month=(at.month - 1) // 3 * 3 + 1, day=1, hour=0, minute=0, second=0, microsecond=0)
    if period == "year":
        return at.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
    return contract_start


def terms(conn: Connection, now: datetime) -> Terms:
    """The cached terms for this database, reloaded every :data:`TERMS_TTL_S` seconds."""
    key = str(conn.engine.url)
    tick = time.monotonic()
    with _CACHE_LOCK:
        hit = _CACHE.get(key)
    if hit is not None and tick - hit[0] < TERMS_TTL_S:
        return hit[1]
    loaded = _load_terms(conn, now)
    with _CACHE_LOCK:
        _CACHE[key] = (tick, loaded)
    return loaded


def _load_terms(conn: Connection, now: datetime) -> Terms:
    out = Terms()
    # Windows that ended in the last day too: an execution started inside one may finish after it,
    # and its usage still counts as reserved. The policy itself ignores windows that are over.
    windows = select(
        Reservation.organization_id, Reservation.backend, Reservation.starts_at, Reservation.ends_at
    ).where(Reservation.status == "approved", Reservation.ends_at > now - RECENT_WINDOWS)
    for r in conn.execute(windows):
        out.windows.append(Window(r.organization_id, r.backend, _ts(r.starts_at), _ts(r.ends_at)))
    contracts = conn.execute(
        select(
            Contract.organization_id,
            Contract.backend,
            Contract.share,
            Contract.allocation_seconds,
            Contract.period,
            Contract.starts_at,
        ).where(Contract.starts_at <= now, or_(Contract.ends_at.is_(None), Contract.ends_at > now))
    ).all()
    for c in contracts:
        out.shares.setdefault(c.organization_id, []).append(ShareTerm(c.backend, float(c.share)))
        if c.allocation_seconds is not None:
            start = period_start(c.period, now, c.starts_at)
            out.limits[(c.organization_id, c.backend)] = (float(c.allocation_seconds), start)
    # Summed in SQL per allocation, on the backends it covers: the ledger grows with every job and
    # these terms are reloaded every second, so the index (organization_id, backend, recorded_at)
    # must do the work (a qpu.* allocation never reads the simulator's rows).
    for (org, pattern), (_, start) in out.limits.items():
        total = select(func.sum(UsageLedger.usage_seconds)).where(
            UsageLedger.organization_id == org,
            backend_condition(UsageLedger.backend, pattern),
            UsageLedger.recorded_at >= start,
        )
        out.used[(org, pattern)] = float(conn.scalar(total) or 0.0)
    return out


def _matches(pattern: str, backend: str) -> bool:
    from qumulus.accounting.pricing import pattern_matches

    return pattern_matches(pattern, backend)


def allocation_for(t: Terms, organization_id: str, backend: str) -> Allocation | None:
    """The hard allocation of the organization's contract in force for ``backend``, if it has one.

    In force = the most specific matching pattern (an exact name beats ``qpu.*``, which beats ``*``),
    the choice admission and billing make (``accounting.contracts.in_force``): a job admitted under a
    ``qpu.aria-1`` contract without a cap must not then wait forever behind an exhausted ``qpu.*``
    allocation (it did: the honesty bench's own contract admitted jobs the scheduler never started).
    Among equally specific contracts, the tightest allocation.
    """
    from qumulus.accounting.pricing import specificity

    matching = [
        s.backend_pattern for s in t.shares.get(organization_id, ()) if _matches(s.backend_pattern, backend)
    ]
    if matching:
        best = max(specificity(p) for p in matching)
        governing = {p for p in matching if specificity(p) == best}
    else:  # no share terms loaded (a caller building Terms by hand): every limited pattern counts
        governing = {p for (org, p) in t.limits if org == organization_id and _matches(p, backend)}
    found: Allocation | None = None
    for (org, pattern), (limit, _) in t.limits.items():
        if org == organization_id and pattern in governing:
            a = Allocation(limit, t.used.get((org, pattern), 0.0))
            if found is None or a.limit_seconds - a.used_seconds < found.limit_seconds - found.used_seconds:
                found = a
    return found


# --- the candidate window ----------------------------------------------------------------------

_UO, _UP, _UB = (aliased(FairShareUsage) for _ in range(3))
# Literals, not bound parameters: a partial index is only usable when the planner sees the value.
_STATE_IS_QUEUED = Execution.state == literal_column("'queued'")
_STATE_IS_RUNNING = Execution.state == literal_column("'running'")


def short_class() -> Any:
    """SQL: a queued execution in the short class (``scheduling/lanes.py``): the ideal simulator, a
    declared width of at most ``SMALL_CIRCUIT_QUBITS`` qubits, no QPU noise model."""
    return and_(
        Execution.backend.not_like("qpu.%"),
        func.coalesce(Job.stats["qubits"].as_integer(), 0) <= SMALL_CIRCUIT_QUBITS,
        func.coalesce(Job.noise["model"].as_string(), "").not_in(
            sorted(m for m, qpu in NOISE_MODELS.items() if qpu)
        ),
    )


def _window_query(filtered: bool, short_only: bool = False) -> Any:
    """Queued heads per (backend, project) UNION ALL running counts, joined with usage and shares.

    Both halves read partial indexes (queued rows in claim order, running rows), so the cost grows
    with the live queue, never with the history of finished executions.
    """
    rn = func.row_number().over(
        partition_by=(Execution.backend, Execution.project_id),
        order_by=(Execution.priority.desc(), Execution.created_at, Execution.id),
    )
    queued = select(
        Execution.id,
        Execution.organization_id,
        Execution.project_id,
        Execution.backend,
        Execution.priority,
        Execution.created_at,
        rn.label("cnt"),
    ).where(_STATE_IS_QUEUED)
    running = select(
        null().label("id"),
        Execution.organization_id,
        Execution.project_id,
        Execution.backend,
        null().label("priority"),
        null().label("created_at"),
        func.count().label("cnt"),
    ).where(_STATE_IS_RUNNING)
    if filtered:
        backends = Execution.backend.in_(bindparam("backends", expanding=True))
        queued, running = queued.where(backends), running.where(backends)
    if short_only:  # every long lane is taken: only short work may be claimed (scheduling/lanes.py)
        queued = queued.join(Job, Job.id == Execution.job_id).where(short_class())
    running = running.group_by(Execution.backend, Execution.project_id, Execution.organization_id)
    heads = queued.subquery("q")
    k = bindparam("k", type_=Integer, literal_execute=True)
    w = union_all(select(heads).where(heads.c.cnt <= k), running).subquery("w")
    return (
        select(
            w.c.id,
            w.c.organization_id,
            w.c.project_id,
            w.c.backend,
            w.c.priority,
            type_coerce(w.c.created_at, UTCDateTime).label("created_at"),
            w.c.cnt,
            _UO.g.label("og"),
            _UO.epoch.label("oe"),
            _UP.g.label("pg"),
            _UP.epoch.label("pe"),
            _UB.g.label("bg"),
            _UB.n.label("bn"),
            _UB.epoch.label("be"),
            Project.share,
        )
        .select_from(w)
        .outerjoin(
            _UO, and_(_UO.kind == "org", _UO.entity_id == w.c.organization_id, _UO.backend == w.c.backend)
        )
        .outerjoin(
            _UP, and_(_UP.kind == "project", _UP.entity_id == w.c.project_id, _UP.backend == w.c.backend)
        )
        .outerjoin(_UB, and_(_UB.kind == "backend", _UB.entity_id == w.c.backend, _UB.backend == w.c.backend))
        .outerjoin(Project, Project.id == w.c.project_id)
    )


_WINDOW = {(f, s): _window_query(f, s) for f in (False, True) for s in (False, True)}


def snapshot(
    conn: Connection,
    *,
    backends: Sequence[str] | None,
    limit: int,
    now: datetime,
    short_only: bool = False,
) -> Snapshot:
    """The policy's view of the queue: one query plus the cached terms. ``short_only``: only
    short-class executions are candidates (running work is counted whatever its class)."""
    params: dict[str, Any] = {"k": max(1, limit)}
    if backends is not None:
        params["backends"] = list(backends)
    rows = fast_sql.rows(conn, _WINDOW[(backends is not None, short_only)], params)
    at = _ts(now)
    t = terms(conn, now)
    h = HALF_LIFE_S
    candidates: list[Candidate] = []
    running: list[Running] = []
    org_usage: dict[tuple[str, str], float] = {}
    project_usage: dict[tuple[str, str], float] = {}
    org_share: dict[tuple[str, str], float] = {}
    project_share: dict[str, float] = {}
    estimates: dict[str, float] = {}
    allocations: dict[tuple[str, str], Allocation] = {}
    for r in rows:
        b = r.backend
        if b not in estimates:
            bg = decay.decayed(r.bg, r.be, at, h) if r.bg is not None else 0.0
            bn = decay.decayed(r.bn, r.be, at, h) if r.bn is not None else 0.0
            estimates[b] = charging.estimate(bg, bn)
        org = (b, r.organization_id)
        if org not in org_usage:
            org_usage[org] = decay.decayed(r.og, r.oe, at, h) if r.og is not None else 0.0
            org_share[org] = charging.org_share(t.shares.get(r.organization_id, ()), b)
            found = allocation_for(t, r.organization_id, b) if t.limits else None
            if found is not None:
                allocations[org] = found
        project = (b, r.project_id)
        if project not in project_usage:
            project_usage[project] = decay.decayed(r.pg, r.pe, at, h) if r.pg is not None else 0.0
            project_share[r.project_id] = float(r.share) if r.share is not None else 1.0
        if r.id is None:  # a running count
            running.append(Running(r.organization_id, r.project_id, b, r.cnt * estimates[b]))
            continue
        tier, own = decode_priority(r.priority)
        candidates.append(
            Candidate(r.id, r.organization_id, r.project_id, b, _ts(r.created_at), own, tier, estimates[b])
        )
    candidates, sessions = session_affinity.attach(conn, candidates)
    return Snapshot(
        now=at,
        candidates=candidates,
        org_usage=org_usage,
        project_usage=project_usage,
        org_share=org_share,
        project_share=project_share,
        running=running,
        reservations=[*t.windows, *availability.closures(conn, now)],  # + backends closed now
        allocations=allocations,
        starvation_seconds=STARVATION_S,
        sessions=sessions,
    )


# --- charging ------------------------------------------------------------------------------------

_KEY = and_(
    FairShareUsage.kind == bindparam("b_kind"),
    FairShareUsage.entity_id == bindparam("b_entity"),
    FairShareUsage.backend == bindparam("b_backend"),
)
_ACCRUE = (
    update(FairShareUsage)
    .where(_KEY, FairShareUsage.epoch == bindparam("b_old"))
    .values(
        g=FairShareUsage.g * bindparam("b_scale") + bindparam("b_add"),
        n=FairShareUsage.n * bindparam("b_scale") + bindparam("b_addn"),
        epoch=bindparam("b_epoch"),
    )
)


def charge(conn: Connection, usages: Iterable[Usage], now: datetime) -> None:
    """Add a completed batch's usage to the decayed accumulators, in the caller's transaction.

    Usage that started inside the organization's own reservation is billed (the ledger row) but not
    charged here. Each accumulator is one atomic ``UPDATE ... WHERE epoch = :known`` (a batch usually
    touches three: backend, organization, project). Epochs are remembered per process, since they
    only change on a rebase (years apart); an update that misses (rebased or rolled back elsewhere,
    or a first charge) re-reads the epoch and tries again, so nothing is lost or charged twice.
    """
    items = charging.charges(usages, terms(conn, now).windows)
    if not items:
        return
    at = _ts(now)
    url = str(conn.engine.url)
    pending = {(c.kind, c.entity_id, c.backend): c for c in items}
    for _ in range(5):
        unknown = [k for k in pending if (url, k) not in _EPOCHS]
        if unknown:
            _read_epochs(conn, url, unknown, at)
        moved: dict[tuple[str, str, str], Charge] = {}
        for key, c in pending.items():
            old = _EPOCHS[(url, key)]
            a = decay.accrue(old, at, HALF_LIFE_S)
            params = {
                "b_kind": key[0],
                "b_entity": key[1],
                "b_backend": key[2],
                "b_old": old,
                "b_scale": a.scale,
                "b_add": c.seconds * a.weight,
                "b_addn": c.count * a.weight,
                "b_epoch": a.epoch,
            }
            if fast_sql.execute(conn, _ACCRUE, params) == 1:
                _EPOCHS[(url, key)] = a.epoch
            else:
                _EPOCHS.pop((url, key), None)
                moved[key] = c
        if not moved:
            return
        pending = moved
    raise RuntimeError("could not charge fair-share usage (accumulators kept changing epoch)")


#: (database, accumulator key) -> the epoch last seen for that accumulator.
_EPOCHS: dict[tuple[str, tuple[str, str, str]], float] = {}


def _read_epochs(conn: Connection, url: str, keys: list[tuple[str, str, str]], at: float) -> None:
    """Learn the stored epochs of ``keys``, creating empty accumulators for those that are new."""
    for _ in range(2):
        found = conn.execute(
            select(
                FairShareUsage.kind, FairShareUsage.entity_id, FairShareUsage.backend, FairShareUsage.epoch
            ).where(
                or_(
                    *(
                        and_(
                            FairShareUsage.kind == k,
                            FairShareUsage.entity_id == e,
                            FairShareUsage.backend == b,
                        )
                        for k, e, b in keys
                    )
                )
            )
        ).all()
        for r in found:
            _EPOCHS[(url, (r.kind, r.entity_id, r.backend))] = r.epoch
        missing = [k for k in keys if (url, k) not in _EPOCHS]
        if not missing:
            return
        _insert_empty(conn, missing, at)


def _insert_empty(conn: Connection, keys: list[tuple[str, str, str]], at: float) -> None:
    rows = [{"kind": k, "entity_id": e, "backend": b, "g": 0.0, "n": 0.0, "epoch": at} for k, e, b in keys]
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        conn.execute(pg_insert(FairShareUsage).on_conflict_do_nothing(), rows)
    elif conn.dialect.name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        conn.execute(sqlite_insert(FairShareUsage).on_conflict_do_nothing(), rows)
    else:  # pragma: no cover - only SQLite and PostgreSQL are supported
        conn.execute(insert(FairShareUsage), rows)


class _Completed(Protocol):
    organization_id: str
    project_id: str
    backend: str
    started_at: datetime | None


def charge_completed(conn: Connection, completed: Iterable[tuple[_Completed, float]], now: datetime) -> None:
    """:func:`charge` for ``(claimed execution, usage seconds)`` pairs: the completion hook."""
    at = _ts(now)
    charge(
        conn,
        (
            Usage(
                c.organization_id,
                c.project_id,
                c.backend,
                seconds,
                _ts(c.started_at) if c.started_at is not None else at,
                at,
            )
            for c, seconds in completed
        ),
        now,
    )
