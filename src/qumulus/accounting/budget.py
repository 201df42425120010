"""Budget arithmetic and the charging policy (pure; services/charging.py applies it in SQL).

A budget has a ``limit``, what has been ``spent`` and what is ``held`` for jobs not yet finished.

* **hold** at submission: ``held += estimate``, only if ``spent + held + estimate ≤ limit``;
* **settle** when a job's execution finishes: ``held -= its hold``, ``spent += its charge``;
* **release** when a job is canceled before it finishes: ``held -= its hold``.

Partial work (the policy, in one place — :func:`charge`):

* a **completed** execution is charged its measured usage × rate;
* a **failed** execution is charged nothing: its ledger row records the measured seconds (they
  count against the organization's *allocation* of machine time) with cost 0;
* a **canceled** execution is charged nothing: one still queued never ran, and a running one's
  completion is discarded by the queue's fence, so it writes no ledger row at all;
* a multi-circuit job is billed per circuit: completed children are charged even when a sibling
  failed or the parent was canceled afterwards; the parent's cost is the sum of its children's.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal

from qumulus.accounting.pricing import CENT_FRACTION, cost

#: SQLite stores NUMERIC columns as floating point: sums of exact micro-amounts can land a hair
#: above the limit. Amounts are multiples of 1e-6, so half of that as slack is exact on PostgreSQL
#: and absorbs float error on SQLite without admitting a single extra micro-unit.
TOLERANCE = Decimal("0.0000005")


def money(value: Decimal | float | int | str | None) -> Decimal:
    """An amount rounded to a millionth (floats read back from SQLite become exact again)."""
    if value is None:
        return Decimal(0)
    amount = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    amount = amount.quantize(CENT_FRACTION, rounding=ROUND_HALF_UP)
    return amount if amount != 0 else Decimal("0.000000")


def estimated_cost(seconds: float, rate_per_second: Decimal) -> Decimal:
    """What to hold: the estimate × rate, rounded *up* to a millionth (holds err high)."""
    return (Decimal(repr(seconds)) * rate_per_second).quantize(CENT_FRACTION, rounding=ROUND_CEILING)


def charge(ok: bool, usage_seconds: float, rate_per_second: Decimal) -> Decimal:
    """What a finished execution costs under the partial-work policy above."""
    return cost(usage_seconds, rate_per_second) if ok else Decimal(0).quantize(CENT_FRACTION)


@dataclass(frozen=True, slots=True)
class BudgetState:
    limit: Decimal
    spent: Decimal = Decimal(0)
    held: Decimal = Decimal(0)

    @property
    def remaining(self) -> Decimal:
        """What a new job may still hold (never negative)."""
        return money(max(Decimal(0), self.limit - self.spent - self.held))

    def fits(self, amount: Decimal) -> bool:
        return self.spent + self.held + amount <= self.limit + TOLERANCE

    def hold(self, amount: Decimal) -> BudgetState:
        if not self.fits(amount):
            raise ValueError(f"{amount} does not fit: {self.remaining} left")
        return BudgetState(self.limit, self.spent, self.held + amount)

    def settle(self, held: Decimal, charged: Decimal) -> BudgetState:
        return BudgetState(self.limit, self.spent + charged, max(Decimal(0), self.held - held))

    def release(self, held: Decimal) -> BudgetState:
        return self.settle(held, Decimal(0))


def refusal_message(state: BudgetState, estimate: Decimal, currency: str, period: str) -> str:
    """The 402 text: which budget, how much is left, what the job needed."""
    return (
        f"budget: this job's estimated cost is {money(estimate)} {currency}, but the project's budget "
        f"for {period} has {state.remaining} {currency} left (limit {money(state.limit)}, spent "
        f"{money(state.spent)}, held for unfinished jobs {money(state.held)})"
    )


def allocation_left(allocation_seconds: float | None, used_seconds: float) -> float | None:
    """Seconds left of an allocation (``None``: unlimited)."""
    if allocation_seconds is None:
        return None
    return max(0.0, allocation_seconds - used_seconds)
