"""Calendar periods for budgets and contract allocations (UTC; pure).

A period is a half-open interval ``[start, end)``. Weeks start on Monday (ISO 8601). ``none`` (a
contract allocation granted once for the contract's whole life) and ``custom`` (a budget with
explicit dates) have no calendar bounds and are handled by the caller.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

CALENDAR_PERIODS = ("day", "week", "month", "quarter", "year")
BUDGET_PERIODS = ("day", "week", "month", "custom")
CONTRACT_PERIODS = ("month", "quarter", "year", "none")


def _utc(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise ValueError("naive datetime: periods are computed in UTC")
    return at.astimezone(timezone.utc)


def period_start(kind: str, at: datetime) -> datetime:
    """Start of the ``kind`` period that contains ``at``."""
    at = _utc(at)
    day = at.replace(hour=0, minute=0, second=0, microsecond=0)
    if kind == "day":
        return day
    if kind == "week":
        return day - timedelta(days=day.weekday())
    if kind == "month":
        return day.replace(day=1)
    if kind == "quarter":
        return day.replace(month=3 * ((day.month - 1) // 3) + 1, day=1)
    if kind == "year":
        return day.replace(month=1, day=1)
    raise ValueError(f"unknown period {kind!r}; one of {', '.join(CALENDAR_PERIODS)}")


def _add_months(start: datetime, months: int) -> datetime:
    index = start.month - 1 + months
    return start.replace(year=start.year + index // 12, month=index % 12 + 1)


def period_bounds(kind: str, at: datetime) -> tuple[datetime, datetime]:
    """``[start, end)`` of the ``kind`` period containing ``at``."""
    start = period_start(kind, at)
    if kind == "day":
        return start, start + timedelta(days=1)
    if kind == "week":
        return start, start + timedelta(days=7)
    months = {"month": 1, "quarter": 3, "year": 12}[kind]
    return start, _add_months(start, months)


def contains(start: datetime, end: datetime | None, at: datetime) -> bool:
    return start <= at and (end is None or at < end)


def overlaps(a_start: datetime, a_end: datetime, b_start: datetime, b_end: datetime) -> bool:
    """Whether two half-open intervals share an instant."""
    return a_start < b_end and b_start < a_end
