"""Budget holds as SQL: a job's hold becomes spend when it completes, and is released when it is
canceled. Both run inside the transaction that makes the job final (completion in the runtime,
cancel in the job services), which is why they live here, below both.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import Connection, bindparam, select, update
from sqlalchemy.orm import Session

from qumulus.store.db import core
from qumulus.store.models import Budget, Job, Money

_SETTLE = (
    update(Budget)
    .where(Budget.id == bindparam("b_id"))
    .values(
        held=Budget.held - bindparam("b_hold", type_=Money),
        spent=Budget.spent + bindparam("b_charge", type_=Money),
    )
)
_HOLDS_OF = select(Job.id, Job.budget_id, Job.budget_hold).where(
    Job.id.in_(bindparam("ids", expanding=True)), Job.budget_id.is_not(None)
)


def money(value: Any) -> Decimal:
    """An amount as the budget columns hold it: a multiple of a millionth (SQLite's floats made
    exact again; the same rule as ``accounting.budget.money``, which this layer may not import)."""
    if value is None:
        return Decimal(0)
    amount = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    return amount.quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)


_LOCK_BUDGETS = (
    select(Budget.id, Budget.limit_amount, Budget.spent, Budget.held)
    .where(Budget.id.in_(bindparam("ids", expanding=True)))
    .order_by(Budget.id)  # one lock order for every completion: no deadlock between two of them
    .with_for_update()
)


def settle(conn: Connection | Session, charges: Mapping[str, Decimal]) -> dict[str, Decimal]:
    """Jobs just made final by completion: each hold becomes spend at the job's actual charge,
    **never past the budget's limit**. Returns the jobs whose charge was capped (job id → what was
    charged instead), so that the caller bills exactly what the budget spent.

    A bill can exceed its hold — a debiased run compiled into longer variants, a contract rate or
    timing model changed between submission and completion, a provider's own cost — and a limit
    can be lowered below what is already held. Admission keeps ``spent + held <= limit``; here a
    job may spend its hold and whatever the budget still has free (``limit - spent`` minus the
    *other* jobs' holds), and no more. The budget rows are locked first, in id order, so concurrent
    completions on PostgreSQL (several workers) see each other's spend; SQLite writers are
    serialized anyway.
    """
    if not charges:
        return {}
    c = core(conn)
    rows = c.execute(_HOLDS_OF, {"ids": list(charges)}).all()
    if not rows:
        return {}
    budgets = {
        b.id: [money(b.limit_amount), money(b.spent), money(b.held)]
        for b in c.execute(_LOCK_BUDGETS, {"ids": sorted({r.budget_id for r in rows})})
    }
    capped: dict[str, Decimal] = {}
    params = []
    for r in sorted(rows, key=lambda r: r.id):
        hold = money(r.budget_hold)
        charge = money(charges[r.id])
        state = budgets.get(r.budget_id)
        if state is not None:
            limit, spent, held = state
            free = max(Decimal(0), limit - spent - (held - hold))
            if charge > free:
                capped[r.id] = charge = free
            state[1], state[2] = spent + charge, held - hold
        params.append({"b_id": r.budget_id, "b_hold": hold, "b_charge": charge})
    c.execute(_SETTLE, params)
    return capped


def release(conn: Connection | Session, rows: Iterable[Any]) -> None:
    """Jobs just canceled (rows with ``budget_id``, ``budget_hold``): their holds are released."""
    params = [
        {"b_id": r.budget_id, "b_hold": r.budget_hold, "b_charge": Decimal(0)}
        for r in rows
        if r.budget_id is not None and r.budget_hold
    ]
    if params:
        core(conn).execute(_SETTLE, params)
