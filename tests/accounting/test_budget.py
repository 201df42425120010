"""Budget arithmetic and the partial-work charging policy."""

from __future__ import annotations

from decimal import Decimal

import pytest

from qumulus.accounting.budget import (
    BudgetState,
    allocation_left,
    charge,
    estimated_cost,
    money,
    refusal_message,
)

D = Decimal


def test_hold_then_settle_moves_the_estimate_out_and_the_actual_in() -> None:
    state = BudgetState(limit=D("10"))
    state = state.hold(D("3"))
    assert (state.spent, state.held, state.remaining) == (0, 3, 7)
    state = state.settle(held=D("3"), charged=D("1.25"))
    assert (state.spent, state.held, state.remaining) == (D("1.25"), 0, D("8.75"))


def test_release_returns_the_hold_without_spending() -> None:
    state = BudgetState(limit=D("10")).hold(D("4")).release(D("4"))
    assert (state.spent, state.held, state.remaining) == (0, 0, 10)


def test_a_hold_that_does_not_fit_is_refused_and_exactly_full_is_allowed() -> None:
    state = BudgetState(limit=D("1"), spent=D("0.4"), held=D("0.5"))
    assert state.fits(D("0.1"))
    assert not state.fits(D("0.100001"))
    with pytest.raises(ValueError):
        state.hold(D("0.2"))


def test_float_drift_from_sqlite_does_not_refuse_an_exact_fit() -> None:
    held = sum([0.1] * 9)  # 0.8999999999999999 as SQLite would add it
    assert BudgetState(limit=D("1"), held=D(repr(held))).fits(D("0.1"))


def test_remaining_is_never_negative_after_an_overrun() -> None:
    # actual usage can exceed the estimate: spent may pass the limit, remaining stays 0
    assert BudgetState(limit=D("1"), spent=D("1.5")).remaining == 0


def test_failed_work_is_not_charged_completed_work_is() -> None:
    assert charge(True, 2.0, D("0.5")) == D("1.000000")
    assert charge(False, 2.0, D("0.5")) == 0


def test_estimates_round_up_to_a_millionth() -> None:
    assert estimated_cost(0.0000001, D("1")) == D("0.000001")
    assert estimated_cost(0.005, D("1")) == D("0.005000")
    assert money(0.1 + 0.2) == D("0.300000")


def test_the_refusal_says_what_is_left_and_what_was_needed() -> None:
    text = refusal_message(BudgetState(D("5"), D("4"), D("0.5")), D("2"), "USD", "2026-11")
    assert "0.500000 USD left" in text and "2.000000 USD" in text and "2026-11" in text


def test_allocation_left() -> None:
    assert allocation_left(None, 1e9) is None
    assert allocation_left(100.0, 30.0) == 70.0
    assert allocation_left(100.0, 130.0) == 0.0
