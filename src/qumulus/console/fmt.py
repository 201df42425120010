"""How the console writes numbers, money, durations and times: one format each, everywhere.

Pure functions, registered as Jinja filters by :mod:`qumulus.console.web`. Money is always the
amount then the ISO currency code (``12.50 USD``): two decimals from a cent up, and up to six
significant decimals below a cent (jobs on a simulator cost millionths), never scientific notation.
Times are written in UTC with the zone named; the page's script rewrites them into the browser's
own zone (the ``datetime`` attribute keeps the exact instant).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from markupsafe import Markup, escape

CENT = Decimal("0.01")


def money(value: Any, currency: str | None = "USD") -> str:
    """``1,234.50 USD``; ``0.000123 USD`` below a cent; ``—`` for no amount."""
    if value is None or value == "":
        return "—"
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    code = (currency or "USD").upper()
    if amount == 0:
        return f"0.00 {code}"
    if abs(amount) >= CENT:
        return f"{amount.quantize(CENT, rounding=ROUND_HALF_UP):,.2f} {code}"
    text = f"{amount.quantize(Decimal('0.000001'), rounding=ROUND_HALF_UP):f}".rstrip("0")
    return f"{text if text not in ('0.', '-0.') else '0.00'} {code}"


def duration(seconds: Any) -> str:
    """A span a person reads at a glance: ``850 ms``, ``12.3 s``, ``4 min 05 s``, ``2 h 03 min``."""
    if seconds is None:
        return "—"
    s = float(seconds)
    if s < 0:
        s = 0.0
    if s < 1:
        return f"{s * 1000:.0f} ms"
    if s < 60:
        return f"{s:.1f} s"
    if s < 3600:
        return f"{int(s // 60)} min {int(s % 60):02d} s"
    if s < 86400:
        return f"{int(s // 3600)} h {int(s % 3600 // 60):02d} min"
    return f"{int(s // 86400)} d {int(s % 86400 // 3600):02d} h"


def between(start: datetime | None, end: datetime | None) -> float | None:
    """Seconds from ``start`` to ``end`` (None when either is missing)."""
    if start is None or end is None:
        return None
    return (end - start).total_seconds()


def utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def when(value: datetime | None, style: str = "datetime") -> Markup:
    """A ``<time>`` element in UTC (``2026-01-31 14:05:09 UTC``) that the page script localizes.

    ``style``: ``datetime`` (to the second), ``minute``, or ``date``.
    """
    moment = utc(value)
    if moment is None:
        return Markup("—")
    pattern = {"date": "%Y-%m-%d", "minute": "%Y-%m-%d %H:%M"}.get(style, "%Y-%m-%d %H:%M:%S")
    text = moment.strftime(pattern) + ("" if style == "date" else " UTC")
    return Markup(
        f'<time datetime="{escape(moment.isoformat())}" data-style="{escape(style)}">{escape(text)}</time>'
    )


def number(value: Any, digits: int = 0) -> str:
    if value is None:
        return "—"
    return f"{float(value):,.{digits}f}"


def percent(fraction: Any, digits: int = 2) -> str:
    """A fraction (0.9963) as ``99.63 %``."""
    if fraction is None:
        return "—"
    return f"{float(fraction) * 100:.{digits}f} %"


def micros(seconds: Any) -> str:
    """Seconds as microseconds (``T1 = 10,000,000 µs`` reads badly: from 10 ms up, ms; from 10 s, s)."""
    if seconds is None:
        return "—"
    s = float(seconds)
    if s >= 10:
        return f"{s:,.1f} s"
    if s >= 0.01:
        return f"{s * 1e3:,.1f} ms"
    return f"{s * 1e6:,.1f} µs"


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def ahead(seconds: float | None, now: datetime) -> datetime | None:
    return None if seconds is None else now + timedelta(seconds=seconds)


FILTERS = {
    "money": money,
    "duration": duration,
    "when": when,
    "number": number,
    "percent": percent,
    "micros": micros,
    "ordinal": ordinal,
}
