"""Completing executions: result, job status, usage ledger and parent roll-up in one transaction.

Called by workers with the outcomes of a batch. Each outcome is fenced on (owner, attempt): an
execution that was canceled, reaped or retried meanwhile writes nothing, so a job is charged at most
once and a late worker cannot overwrite a newer result. Statements are plain SQL (no ORM unit of
work): this runs once per tiny job, thousands of times a minute.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, bindparam, func, select, update
from sqlalchemy.orm import Session

from qumulus.accounting.budget import charge as billable
from qumulus.accounting.pricing import Rate, applicable_rate
from qumulus.domain import WORKLOAD_TYPES
from qumulus.notifications.outbox import Outbox, job_events
from qumulus.runtime import fairshare, queue
from qumulus.runtime.queue import Claimed
from qumulus.runtime.tasks import Outcome
from qumulus.store import fast_sql
from qumulus.store.db import core
from qumulus.store.fast_write import insert_rows
from qumulus.store.holds import settle as settle_budgets
from qumulus.store.models import Contract, Execution, Job, Result, UsageLedger, new_id
from qumulus.timeutil import utcnow

log = logging.getLogger("qumulus.completion")

TERMINAL = ("completed", "failed", "canceled")
_JOB_FIELDS = ("status", "completed_at", "execution_duration_ms", "usage_seconds", "engine", "cost")
#: Built once (see runtime/queue.py): the job row update for a successful / failed outcome.
_FINISH_JOB = {
    ok: update(Job)
    # Spelled out, not NOT IN: an expanding IN cannot run as executemany (see _apply_batched).
    .where(Job.id == bindparam("job_id"), *(Job.status != status for status in TERMINAL))
    .values({name: bindparam(f"b_{name}") for name in (_JOB_FIELDS if ok else (*_JOB_FIELDS, "failure"))})
    for ok in (True, False)
}


class RateBook:
    """Contract rates per (organization, backend), re-read at most every ``ttl`` seconds.

    A contract change reaches billing within ``ttl``; completions do not re-query contracts per job.
    """

    def __init__(self, ttl: float = 5.0) -> None:
        self.ttl = ttl
        self._cache: dict[tuple[str, str], tuple[float, Decimal]] = {}
        self._lock = threading.Lock()

    def rate(
        self, session: Session | Connection, organization_id: str, backend: str, at: datetime
    ) -> Decimal:
        key = (organization_id, backend)
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(key)
        if hit is not None and now - hit[0] < self.ttl:
            return hit[1]
        contracts = core(session).execute(
            select(Contract.backend, Contract.rate_per_second, Contract.starts_at, Contract.ends_at).where(
                Contract.organization_id == organization_id
            )
        )
        found = applicable_rate(
            (Rate(c.backend, Decimal(c.rate_per_second), c.starts_at, c.ends_at) for c in contracts),
            backend,
            at,
        )
        value = found.rate_per_second if found else Decimal(0)
        with self._lock:
            self._cache[key] = (now, value)
        return value


def complete(
    session: Session | Connection,
    *,
    owner: str,
    claimed: dict[str, Claimed],
    outcomes: Iterable[Outcome],
    data_dir: Path,
    rates: RateBook | None = None,
    outbox: Outbox | None = None,
) -> list[tuple[str, str]]:
    """Apply outcomes; returns ``(job id, final status)`` for every job that reached a final state.

    ``outbox`` records the notifications of the top-level jobs that finished, in this transaction.
    """
    conn = core(session)  # Core statements: no ORM unit-of-work cost
    rates = rates or RateBook(ttl=0.0)
    now = utcnow()
    rows = [_Row(claimed[o.execution_id], o, rates.rate(session, claimed[o.execution_id].organization_id,
                                                          claimed[o.execution_id].backend, now))
            for o in outcomes]  # fmt: skip
    applied = _apply_batched(conn, rows, owner, now) if len(rows) > 1 else None
    if applied is None:
        applied = [row for row in rows if _apply_one(conn, row, owner, now)]

    # Holds become spend first: a charge the budget cannot take is capped at what it has free
    # (store.holds.settle: a budget's limit is never passed), and the job and its ledger row are
    # billed exactly what the budget spent.
    capped = settle_budgets(conn, {row.item.job_id: row.charge for row in applied})
    if capped:
        _bill_capped(conn, applied, capped)
    finished: list[tuple[str, str]] = []
    results: list[dict[str, Any]] = []
    ledger: list[dict[str, Any]] = []
    parents: set[str] = set()
    for row in applied:
        item, outcome = row.item, row.outcome
        if outcome.ok:
            results.append(
                {
                    "job_id": item.job_id,
                    "qubits": outcome.qubits,
                    "probabilities": (
                        {"indices": outcome.indices, "values": outcome.values}
                        if outcome.values is not None
                        else None
                    ),
                    "path": _relative(outcome.path, data_dir),
                    "sampled": outcome.shots is not None,
                    "shots": _stored_shots(outcome),
                    "created_at": now,
                }
            )
        ledger.append(
            {
                "id": new_id(),
                "job_id": item.job_id,
                "project_id": item.project_id,
                "organization_id": item.organization_id,
                "user_id": item.submitter_id,
                "backend": item.backend,
                "usage_seconds": outcome.seconds,
                "rate_per_second": row.rate,
                "cost": row.charge,
                "recorded_at": now,
            }
        )
        finished.append((item.job_id, "completed" if outcome.ok else "failed"))
        if item.parent_id:
            parents.add(item.parent_id)
    insert_rows(conn, Result.__table__, results)
    if ledger:
        insert_rows(conn, UsageLedger.__table__, ledger)
        fairshare.charge_completed(conn, ((row.item, row.outcome.seconds) for row in applied), now)
    postgres = conn.dialect.name == "postgresql"
    for parent_id in sorted(parents):
        final = roll_up_parent(session, parent_id, postgres=postgres)
        if final is not None:
            finished.append((parent_id, final))
    if outbox is not None:
        outbox.record(conn, job_events(finished, claimed.values()))
    return finished


def _kv(fields: dict[str, Any]) -> str:
    """``key=value`` pairs: log lines an operator can grep and a collector can parse (the same
    fields travel as the record's attributes, ``extra``)."""
    return " ".join(f"{k}={v}" for k, v in fields.items())


_BILL = update(Job).where(Job.id == bindparam("job_id")).values(cost=bindparam("b_cost"))


def _bill_capped(conn: Connection, applied: list[_Row], capped: dict[str, Decimal]) -> None:
    """Jobs whose charge the budget capped: their cost (and ledger row, written after this) is
    what was spent; the rest of the run's cost is not charged (docs/billing.md "Budgets")."""
    for row in applied:
        if row.item.job_id in capped:
            fields = {
                "job_id": row.item.job_id,
                "execution_id": row.item.execution_id,
                "project_id": row.item.project_id,
                "charge": str(row.charge),
                "charged": str(capped[row.item.job_id]),
            }
            log.warning("budget_cap %s", _kv(fields), extra={"event": "budget_cap", **fields})
            row.charge = capped[row.item.job_id]
    conn.execute(_BILL, [{"job_id": j, "b_cost": c} for j, c in capped.items()])


class _Row:
    """One outcome with what its completion writes: the fenced execution and job updates."""

    __slots__ = ("charge", "execution", "item", "job", "outcome", "rate")

    def __init__(self, item: Claimed, outcome: Outcome, rate: Decimal) -> None:
        self.item, self.outcome, self.rate = item, outcome, rate
        # failed executions are not charged; a provider's own cost, when passed through, is what it is
        self.charge = (
            outcome.cost if outcome.cost is not None else billable(outcome.ok, outcome.seconds, rate)
        )
        self.execution: dict[str, Any] = {
            "eid": item.execution_id,
            "b_attempt": item.attempt,
            "b_state": "done" if outcome.ok else "failed",
            "b_usage": outcome.seconds,
        }
        values: dict[str, Any] = {
            "status": "completed" if outcome.ok else "failed",
            "execution_duration_ms": max(0, round(outcome.seconds * 1000)),
            "usage_seconds": outcome.seconds,
            "engine": outcome.engine,
            "cost": self.charge,
        }
        if not outcome.ok:
            values["failure"] = outcome.failure
        self.job = {"job_id": item.job_id, **{f"b_{k}": v for k, v in values.items()}}


def _apply_one(conn: Connection, row: _Row, owner: str, now: datetime) -> bool:
    """Fenced updates of one execution and its job; False if either was lost (nothing to record)."""
    if fast_sql.execute(conn, queue.FINISH, {**row.execution, "owner": owner, "now": now}) != 1:
        # reaped, retried or canceled meanwhile: the lease is not ours any more
        _log_fenced(conn, row, owner, "lease lost (reaped, retried or canceled)")
        return False
    # canceled or deleted meanwhile: nothing to record or charge
    if fast_sql.execute(conn, _FINISH_JOB[row.outcome.ok], {**row.job, "b_completed_at": now}) != 1:
        _log_fenced(conn, row, owner, "job already final (canceled or deleted)")
        return False
    return True


def _log_fenced(conn: Connection, row: _Row, owner: str, reason: str) -> None:
    """A completion the fence refused (0 rows matched): say whose and which, with the execution's
    state now, so that a frozen worker's late result leaves a trace (rare: one read then)."""
    now_row = conn.execute(
        select(Execution.state, Execution.lease_owner, Execution.attempt).where(
            Execution.id == row.item.execution_id
        )
    ).first()
    fields = {
        "job_id": row.item.job_id,
        "execution_id": row.item.execution_id,
        "owner": owner,
        "attempt": row.item.attempt,
        "reason": reason,
        "current_state": now_row.state if now_row else None,
        "current_owner": now_row.lease_owner if now_row else None,
        "current_attempt": now_row.attempt if now_row else None,
    }
    log.warning("completion_fenced %s", _kv(fields), extra={"event": "completion_fenced", **fields})


def _apply_batched(conn: Connection, rows: list[_Row], owner: str, now: datetime) -> list[_Row] | None:
    """All fenced updates of a batch as three executemany statements, in a savepoint.

    When every fence holds (the normal case) this is all; if any row was lost, the savepoint is rolled
    back and None tells the caller to go row by row to find out which (cancellations are rare).
    """
    if not conn.dialect.supports_sane_multi_rowcount:
        return None
    savepoint = conn.begin_nested()
    executions = [{**r.execution, "owner": owner, "now": now} for r in rows]
    matched = fast_sql.execute(conn, queue.FINISH, executions)
    for ok in (True, False):
        jobs = [{**r.job, "b_completed_at": now} for r in rows if r.outcome.ok is ok]
        if jobs:
            matched += fast_sql.execute(conn, _FINISH_JOB[ok], jobs)
    if matched != 2 * len(rows):
        savepoint.rollback()
        return None
    savepoint.commit()
    return rows


def roll_up_parent(session: Session | Connection, parent_id: str, *, postgres: bool) -> str | None:
    """Finish a multi-circuit parent once every child is final; returns its final status if it did.

    The parent row is locked first (PostgreSQL), so two workers finishing the last two children at
    once cannot both see the other's child as pending and leave the parent running forever.
    """
    conn = core(session)  # Core statements: no ORM unit-of-work cost
    if conn.scalar(select(Job.type).where(Job.id == parent_id)) in WORKLOAD_TYPES:
        # A workload's runner decides when it ends, not its circuits (services/workloads); and no
        # lock on it here, which a cancel of the workload (parent first) would deadlock against.
        return None
    lock = select(Job.status).where(Job.id == parent_id)
    if postgres:
        lock = lock.with_for_update()
    status = conn.scalar(lock)
    if status is None or status in TERMINAL:
        return None
    pending = conn.scalar(select(func.count()).where(Job.parent_id == parent_id, Job.status.not_in(TERMINAL)))
    if pending:
        return None
    totals = conn.execute(
        select(
            func.sum(func.coalesce(Job.execution_duration_ms, 0)),
            func.sum(func.coalesce(Job.usage_seconds, 0.0)),
            func.sum(func.coalesce(Job.cost, 0)),
        ).where(Job.parent_id == parent_id)
    ).one()
    failed = conn.execute(
        select(Job.id, Job.failure, Job.child_index)
        .where(Job.parent_id == parent_id, Job.status == "failed")
        .order_by(Job.child_index)
    ).first()
    now = utcnow()
    values: dict[str, object] = {
        "completed_at": now,
        "execution_duration_ms": int(totals[0] or 0),
        "usage_seconds": float(totals[1] or 0.0),
        "cost": Decimal(totals[2] or 0),
    }
    if failed is not None:
        reason = (failed.failure or {}).get("message") or "unknown error"
        message = f"circuit {failed.child_index} (job {failed.id}) failed: {reason}"
        code = (failed.failure or {}).get("code", "SimulationError")
        values.update(status="failed", failure={"code": code, "message": message})
    elif conn.scalar(select(func.count()).where(Job.parent_id == parent_id, Job.status == "canceled")):
        values.update(status="canceled", canceled_at=now)
    else:
        values["status"] = "completed"
    conn.execute(update(Job).where(Job.id == parent_id).values(**values))
    return str(values["status"])


def _stored_shots(outcome: Outcome) -> dict[str, Any] | None:
    """Sampled runs keep their shots (``GET …/results/shots`` returns them, not a resample) and the
    debiasing variants' sizes (``sharpen`` re-aggregates from them)."""
    if outcome.shots is None:
        return None
    return {"outcomes": outcome.shots, "variants": outcome.variant_shots or [len(outcome.shots)]}


def _relative(path: str | None, data_dir: Path) -> str | None:
    if path is None:
        return None
    try:
        return str(Path(path).relative_to(data_dir))
    except ValueError:
        return path
