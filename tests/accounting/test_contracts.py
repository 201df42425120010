"""Which contract governs a backend, and whose allocation its usage counts against."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

from qumulus.accounting.contracts import Terms, allocation_window, in_force, used_seconds

UTC = timezone.utc
T0 = datetime(2026, 1, 1, tzinfo=UTC)
NOW = datetime(2026, 11, 21, 12, tzinfo=UTC)


def terms(id: str, pattern: str, **kw) -> Terms:  # type: ignore[no-untyped-def]
    return Terms(
        id, pattern, Decimal(kw.pop("rate", "1")), kw.pop("starts_at", T0), kw.pop("ends_at", None), **kw
    )


def test_the_most_specific_contract_in_force_wins() -> None:
    book = [terms("all-qpus", "qpu.*"), terms("aria", "qpu.aria-1"), terms("any", "*")]
    assert in_force(book, "qpu.aria-1", NOW).id == "aria"
    assert in_force(book, "qpu.forte-1", NOW).id == "all-qpus"
    assert in_force(book, "simulator", NOW).id == "any"
    assert in_force([terms("q", "qpu.*")], "simulator", NOW) is None


def test_expired_and_future_contracts_are_not_in_force() -> None:
    ended = terms("old", "qpu.*", ends_at=datetime(2026, 6, 1, tzinfo=UTC))
    future = terms("new", "qpu.*", starts_at=datetime(2027, 1, 1, tzinfo=UTC))
    assert in_force([ended, future], "qpu.aria-1", NOW) is None


def test_allocation_windows_are_calendar_periods_clipped_to_the_contract() -> None:
    monthly = terms("m", "qpu.*", period="month", starts_at=datetime(2026, 11, 10, tzinfo=UTC))
    assert allocation_window(monthly, NOW) == (
        datetime(2026, 11, 10, tzinfo=UTC),
        datetime(2026, 12, 1, tzinfo=UTC),
    )
    once = terms("o", "qpu.*", period="none")
    assert allocation_window(once, NOW) == (T0, None)


def test_usage_counts_against_the_contract_that_governs_its_backend() -> None:
    general, aria = terms("all", "qpu.*"), terms("aria", "qpu.aria-1")
    usage = {"qpu.aria-1": 30.0, "qpu.forte-1": 12.0, "simulator": 99.0}
    assert used_seconds(general, [general, aria], usage, NOW) == 12.0
    assert used_seconds(aria, [general, aria], usage, NOW) == 30.0
