"""Budget holds as SQL: a job's hold becomes spend when it completes, and is released when it is
canceled. Both run inside the transaction that makes the job final (completion in the runtime,
cancel in the job services), which is why they live here, below both.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
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


def settle(conn: Connection | Session, charges: Mapping[str, Decimal]) -> None:
    """Jobs just made final by completion: each hold becomes spend at the job's actual charge."""
    if not charges:
        return
    c = core(conn)
    rows = c.execute(_HOLDS_OF, {"ids": list(charges)}).all()
    if rows:
        c.execute(
            _SETTLE,
            [
                {"b_id": r.budget_id, "b_hold": r.budget_hold or Decimal(0), "b_charge": charges[r.id]}
                for r in rows
            ],
        )


def release(conn: Connection | Session, rows: Iterable[Any]) -> None:
    """Jobs just canceled (rows with ``budget_id``, ``budget_hold``): their holds are released."""
    params = [
        {"b_id": r.budget_id, "b_hold": r.budget_hold, "b_charge": Decimal(0)}
        for r in rows
        if r.budget_id is not None and r.budget_hold
    ]
    if params:
        core(conn).execute(_SETTLE, params)
