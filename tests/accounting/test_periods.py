"""Budget and allocation periods: calendar bounds in UTC, half-open."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from qumulus.accounting.periods import contains, overlaps, period_bounds

UTC = timezone.utc


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("kind", "moment", "start", "end"),
    [
        ("day", at(2026, 11, 21, 9, 30), at(2026, 11, 21), at(2026, 11, 22)),
        ("week", at(2026, 11, 21, 9, 30), at(2026, 11, 16), at(2026, 11, 23)),  # Saturday -> Monday
        ("week", at(2026, 11, 16), at(2026, 11, 16), at(2026, 11, 23)),
        ("month", at(2026, 12, 31, 23, 59), at(2026, 12, 1), at(2027, 1, 1)),
        ("month", at(2028, 2, 29, 12), at(2028, 2, 1), at(2028, 3, 1)),
        ("quarter", at(2026, 11, 21), at(2026, 10, 1), at(2027, 1, 1)),
        ("year", at(2026, 11, 21), at(2026, 1, 1), at(2027, 1, 1)),
    ],
)
def test_period_bounds(kind: str, moment: datetime, start: datetime, end: datetime) -> None:
    assert period_bounds(kind, moment) == (start, end)
    assert contains(start, end, moment)


def test_other_timezones_are_converted_to_utc() -> None:
    late_evening_in_new_york = datetime(2026, 11, 30, 21, 0, tzinfo=timezone(timedelta(hours=-5)))
    assert period_bounds("month", late_evening_in_new_york) == (at(2026, 12, 1), at(2027, 1, 1))


def test_naive_times_and_unknown_periods_are_refused() -> None:
    with pytest.raises(ValueError):
        period_bounds("month", datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="fortnight"):
        period_bounds("fortnight", at(2026, 1, 1))


def test_half_open_intervals() -> None:
    assert not contains(at(2026, 1, 1), at(2026, 2, 1), at(2026, 2, 1))
    assert contains(at(2026, 1, 1), None, at(2030, 1, 1))
    assert not overlaps(at(2026, 1, 1), at(2026, 2, 1), at(2026, 2, 1), at(2026, 3, 1))
    assert overlaps(at(2026, 1, 1), at(2026, 2, 2), at(2026, 2, 1), at(2026, 3, 1))
