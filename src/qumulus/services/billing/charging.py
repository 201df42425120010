"""Charging at the edges of a job's life: hold at submission, settle at completion, release on cancel.

Each function runs inside the caller's transaction, so the money moves atomically with the job:

* :func:`plan` — before the insert transaction (reads only): the contract (QPUs need one), the
  estimate, the budget in force;
* :func:`apply` — in ``submit_job``'s insert transaction: hard allocation check, and the budget
  hold as ONE conditional UPDATE
  (``... WHERE spent + held + :estimate <= limit``). On PostgreSQL concurrent transactions queue on
  the budget row and each re-checks the condition against the committed value, so parallel
  submissions can never hold more than the limit; on SQLite writers are serialized anyway.
* :func:`settle` — in ``runtime.completion.complete``'s transaction, for the jobs whose status it
  just made final: ``held -= hold``, ``spent += charge``.
* :func:`release` — in ``services.jobs.lifecycle.cancel_in``'s transaction, for the jobs it just canceled.

A job's hold is recorded on its row (``jobs.budget_id``, ``jobs.budget_hold``), one per executable
job (a single-circuit job, or each child of a multi-circuit one). It leaves ``held`` exactly once:
by whichever of settle / release moved that job to a final status (both are fenced on the status).
The policy (what partial work costs) is :mod:`qumulus.accounting.budget`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from qumulus.accounting.budget import (
    TOLERANCE,
    BudgetState,
    estimated_cost,
    money,
    refusal_message,
)
from qumulus.accounting.contracts import Terms, allocation_window, in_force, used_seconds
from qumulus.accounting.estimate import Timing, estimate_usage_seconds
from qumulus.accounting.periods import period_bounds
from qumulus.auth.principal import Principal
from qumulus.circuits.model import CircuitBatch
from qumulus.errors import Forbidden, PaymentRequired
from qumulus.services.context import AdmissionCache
from qumulus.store.db import core
from qumulus.store.models import Backend, Budget, Contract, Execution, Job, Money, UsageLedger, new_id
from qumulus.store.patterns import backend_condition
from qumulus.timeutil import iso, utcnow


@dataclass(frozen=True, slots=True)
class Hold:
    """What a submission holds: against which budget, how much, and its estimated seconds, per
    executable job (``amounts`` is ``None`` when no budget is in force)."""

    budget_id: str | None
    amounts: list[Decimal] | None
    seconds: list[float]


_CONTRACTS = select(
    Contract.id,
    Contract.backend,
    Contract.rate_per_second,
    Contract.starts_at,
    Contract.ends_at,
    Contract.allocation_seconds,
    Contract.period,
).where(Contract.organization_id == bindparam("org"))
_LATEST_BUDGET = (
    select(Budget)
    .where(Budget.project_id == bindparam("project"), Budget.period_start <= bindparam("now"))
    .order_by(Budget.period_start.desc())
    .limit(1)
)
_HOLD = (
    update(Budget)
    .where(
        Budget.id == bindparam("b_id"),
        Budget.spent + Budget.held + bindparam("b_est", type_=Money)
        <= Budget.limit_amount + bindparam("b_tol", type_=Money),
    )
    .values(held=Budget.held + bindparam("b_est", type_=Money))
)


def contract_terms(conn: Connection | Session, organization_id: str) -> list[Terms]:
    rows = core(conn).execute(_CONTRACTS, {"org": organization_id})
    return [
        Terms(
            id=r.id,
            backend_pattern=r.backend,
            rate_per_second=Decimal(str(r.rate_per_second or 0)),
            starts_at=r.starts_at,
            ends_at=r.ends_at,
            allocation_seconds=r.allocation_seconds,
            period=r.period,
        )
        for r in rows
    ]


def backend_timing(backend: str) -> Timing:
    """Gate and readout times from the catalog's characterization (the QPU timing model's input)."""
    from qumulus.backends.catalog import BY_NAME

    spec = BY_NAME.get(backend)
    if spec is None or not spec.medians:
        return Timing()
    return Timing.from_characterization(spec.characterization()["timing"])


def estimate_job_seconds(backend: Backend, batch: CircuitBatch, shots: int) -> list[float]:
    """Estimated seconds per executable job (one per circuit)."""
    timing = backend_timing(backend.name) if backend.kind == "qpu" else None
    return [
        estimate_usage_seconds(backend.kind, c.qubits, c.gate_counts(), shots, 1, timing)
        for c in batch.circuits
    ]


@dataclass(frozen=True, slots=True)
class Charge:
    """What :func:`plan` found out before the write transaction, for :func:`apply` to act on in it."""

    seconds: list[float]
    terms: list[Terms]
    contract: Terms | None
    #: The budget in force when planned, or the ended recurring budget whose next period to start.
    budget_id: str | None
    rollover: Any | None
    amounts: list[Decimal] | None


@contextmanager
def changing_admission(platform: Any) -> Iterator[Session]:
    """A write transaction that changes contracts or budgets: admission's cache is dropped after it."""
    try:
        with platform.db.write() as session:
            yield session
    finally:
        platform.admission.clear()


def plan(
    conn: Connection,
    principal: Principal,
    backend: Backend,
    batch: CircuitBatch,
    shots: int,
    *,
    dry_run: bool = False,
    now: datetime | None = None,
    cache: AdmissionCache | None = None,
) -> Charge | None:
    """Every read admission needs, outside the (serialized) insert transaction: the contract (403
    for a QPU without one), the estimate, the budget in force and the hold amounts.

    ``None`` for a dry run (nothing will run, nothing is held).
    """
    now = now or utcnow()
    org, project = principal.organization_id, principal.project_id
    if cache is None:
        terms = contract_terms(conn, org)
    else:
        terms = cache.terms(org, lambda: contract_terms(conn, org))
    contract = in_force(terms, backend.name, now)
    if contract is None and backend.kind == "qpu":
        raise Forbidden(
            f"backend: your organization has no contract in force for {backend.name}; QPU backends "
            "need one (a platform administrator creates it: POST /v0.4/organizations/"
            f"{principal.organization_id}/contracts)",
            field="backend",
        )
    if dry_run:
        return None
    seconds = estimate_job_seconds(backend, batch, shots)
    if cache is None:
        budget, rollover = find_budget(conn, project, now)
    else:
        latest = cache.latest_budget(project, lambda: _latest_budget(conn, project, now))
        budget, rollover = _in_force(latest, now)
    amounts = None
    if budget is not None or rollover is not None:
        rate = contract.rate_per_second if contract is not None else Decimal(0)
        amounts = [estimated_cost(s, rate) for s in seconds]
    return Charge(seconds, terms, contract, budget.id if budget else None, rollover, amounts)


def plan_for(
    platform: Any, principal: Principal, backend: Backend, batch: CircuitBatch, shots: int, *, dry_run: bool
) -> Charge | None:
    """:func:`plan` on a read connection of the platform's database (opened only on a cache miss)."""
    with _LazyConnection(platform.db) as conn:
        return plan(conn, principal, backend, batch, shots, dry_run=dry_run, cache=platform.admission)  # type: ignore[arg-type]


class _LazyConnection:
    """A read connection opened on first use: with the admission cache warm, none is needed."""

    def __init__(self, db: Any) -> None:
        self._db = db
        self._context: Any = None
        self._conn: Connection | None = None

    def __enter__(self) -> _LazyConnection:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._context is not None:
            self._context.__exit__(*exc)

    def connection(self) -> _LazyConnection:  # what store.db.core() asks a non-Connection for
        return self

    def execute(self, *args: Any, **kwargs: Any) -> Any:
        if self._conn is None:
            self._context = self._db.connect()
            self._conn = self._context.__enter__()
        return self._conn.execute(*args, **kwargs)


def apply(
    conn: Connection, principal: Principal, charge: Charge | None, now: datetime | None = None
) -> Hold | None:
    """Inside the insert transaction: the allocation check (402) and the budget hold (402), each a
    statement whose outcome is decided against committed data. A project without budget pays for
    nothing here but a no-op; one without an allocation, no query at all."""
    if charge is None:
        return None
    now = now or utcnow()
    contract = charge.contract
    if contract is not None and contract.allocation_seconds is not None:
        _check_allocation(conn, principal.organization_id, contract, charge.terms, sum(charge.seconds), now)
    budget_id = charge.budget_id
    if charge.rollover is not None:
        budget_id = _start_next_period(conn, charge.rollover, now).id
    if budget_id is None or charge.amounts is None:
        return Hold(None, None, charge.seconds)
    total = sum(charge.amounts, Decimal(0))
    if total > 0:
        held = conn.execute(_HOLD, {"b_id": budget_id, "b_est": total, "b_tol": TOLERANCE})
        if (held.rowcount or 0) != 1:
            row = conn.execute(select(Budget).where(Budget.id == budget_id)).first()
            if row is None:  # deleted since it was planned: the project is no longer limited
                return Hold(None, None, charge.seconds)
            state = BudgetState(money(row.limit_amount), money(row.spent), money(row.held))
            raise PaymentRequired(refusal_message(state, total, row.currency, _describe(row)))
    return Hold(budget_id, charge.amounts, charge.seconds)


def reserve(
    conn: Connection,
    principal: Principal,
    backend: Backend,
    batch: CircuitBatch,
    shots: int,
    *,
    dry_run: bool = False,
    now: datetime | None = None,
) -> Hold | None:
    """:func:`plan` and :func:`apply` on one connection (tests, scripts)."""
    return apply(conn, principal, plan(conn, principal, backend, batch, shots, dry_run=dry_run, now=now), now)


def _describe(budget: Any) -> str:
    return f"{iso(budget.period_start)} to {iso(budget.period_end)}"


def _check_allocation(
    conn: Connection,
    organization_id: str,
    contract: Terms,
    terms: Sequence[Terms],
    estimate: float,
    now: datetime,
) -> None:
    if conn.dialect.name == "postgresql":
        # one admission at a time per contract with an allocation: parallel submissions cannot each
        # see the same room left (SQLite serializes writers anyway)
        conn.execute(select(Contract.id).where(Contract.id == contract.id).with_for_update())
    start, end = allocation_window(contract, now)
    recorded = usage_by_backend(conn, organization_id, start, end, contract.backend_pattern)
    for name, seconds in in_flight_by_backend(conn, organization_id, contract.backend_pattern).items():
        recorded[name] = recorded.get(name, 0.0) + seconds
    used = used_seconds(contract, terms, recorded, now)
    allocation = float(contract.allocation_seconds or 0.0)
    if used + estimate > allocation:
        left = max(0.0, allocation - used)
        raise PaymentRequired(
            f"allocation: the organization's allocation for {contract.backend_pattern} is "
            f"{allocation:g} s per {contract.period}; {used:.3f} s are used or held by queued and "
            f"running jobs and {left:.3f} s left, "
            f"and this job is estimated at {estimate:.3f} s"
        )


def usage_by_backend(
    conn: Connection | Session,
    organization_id: str,
    start: datetime,
    end: datetime | None,
    pattern: str = "*",
) -> dict[str, float]:
    """Recorded usage seconds per backend of an organization in ``[start, end)``, on the backends
    matching ``pattern`` (the ledger grows with every job: the index skips other backends' rows)."""
    stmt = (
        select(UsageLedger.backend, func.sum(UsageLedger.usage_seconds))
        .where(UsageLedger.organization_id == organization_id, UsageLedger.recorded_at >= start)
        .group_by(UsageLedger.backend)
    )
    if pattern != "*":
        stmt = stmt.where(backend_condition(UsageLedger.backend, pattern))
    if end is not None:
        stmt = stmt.where(UsageLedger.recorded_at < end)
    return {backend: float(total or 0.0) for backend, total in core(conn).execute(stmt)}


def in_flight_by_backend(
    conn: Connection | Session, organization_id: str, pattern: str = "*"
) -> dict[str, float]:
    """Estimated seconds of an organization's queued and running executions on backends matching
    ``pattern``, per backend (the backend filter lets the queue's claim index do the work)."""
    stmt = (
        select(Execution.backend, func.sum(Job.estimated_seconds))
        .join(Job, Job.id == Execution.job_id)
        .where(Execution.organization_id == organization_id, Execution.state.in_(("queued", "running")))
        .group_by(Execution.backend)
    )
    if pattern != "*":
        stmt = stmt.where(backend_condition(Execution.backend, pattern))
    return {backend: float(total or 0.0) for backend, total in core(conn).execute(stmt)}


def find_budget(conn: Connection | Session, project_id: str, now: datetime) -> tuple[Any, Any]:
    """``(budget in force, None)``, or ``(None, ended recurring budget to roll over)``, or neither."""
    return _in_force(_latest_budget(conn, project_id, now), now)


def _latest_budget(conn: Connection | Session, project_id: str, now: datetime) -> Any:
    return core(conn).execute(_LATEST_BUDGET, {"project": project_id, "now": now}).first()


def _in_force(row: Any, now: datetime) -> tuple[Any, Any]:
    if row is None:
        return None, None
    if now < row.period_end:
        return row, None
    return None, (row if row.recurring else None)


def budget_in_force(conn: Connection, project_id: str, now: datetime) -> Any:
    """The project's budget row for ``now``, starting a recurring budget's next period if due."""
    budget, rollover = find_budget(conn, project_id, now)
    return _start_next_period(conn, rollover, now) if rollover is not None else budget


def _start_next_period(conn: Connection, row: Any, now: datetime) -> Any:
    """Insert the period of recurring budget ``row`` that contains ``now`` (if nobody did yet)."""
    start, end = period_bounds(row.period, now)
    values = {
        "id": new_id(),
        "project_id": row.project_id,
        "period_start": start,
        "period_end": end,
        "limit_amount": row.limit_amount,
        "spent": Decimal(0),
        "held": Decimal(0),
        "currency": row.currency,
        "period": row.period,
        "recurring": True,
    }
    conn.execute(_insert_ignoring_conflict(conn, values))
    return conn.execute(_LATEST_BUDGET, {"project": row.project_id, "now": now}).first()


def _insert_ignoring_conflict(conn: Connection, values: Mapping[str, Any]) -> Any:
    """``INSERT ... ON CONFLICT DO NOTHING``: two submissions may start the same period at once."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(Budget).values(**values).on_conflict_do_nothing()
    if conn.dialect.name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(Budget).values(**values).on_conflict_do_nothing()
    return insert(Budget).values(**values)
