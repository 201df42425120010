"""Cost = usage × rate, and which contract applies to a backend."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

CENT_FRACTION = Decimal("0.000001")


@dataclass(frozen=True, slots=True)
class Rate:
    backend_pattern: str
    rate_per_second: Decimal
    starts_at: datetime
    ends_at: datetime | None


def pattern_matches(pattern: str, backend: str) -> bool:
    """``qpu.aria-1`` matches itself, ``qpu.*`` and ``*``; ``simulator`` only matches ``simulator``."""
    if pattern in ("*", backend):
        return True
    if pattern.endswith(".*"):
        return backend.startswith(pattern[:-1])
    return False


def specificity(pattern: str) -> int:
    """Exact names beat class patterns, which beat ``*``."""
    if pattern == "*":
        return 0
    if pattern.endswith(".*"):
        return 1
    return 2


def applicable_rate(rates: Iterable[Rate], backend: str, at: datetime) -> Rate | None:
    """The most specific contract rate in force for ``backend`` at ``at``."""
    live = [
        r
        for r in rates
        if pattern_matches(r.backend_pattern, backend)
        and r.starts_at <= at
        and (r.ends_at is None or at < r.ends_at)
    ]
    if not live:
        return None
    return max(live, key=lambda r: (specificity(r.backend_pattern), r.starts_at))


def cost(usage_seconds: float, rate_per_second: Decimal) -> Decimal:
    """Usage × rate, rounded half-up to a millionth of the currency unit."""
    return (Decimal(repr(usage_seconds)) * rate_per_second).quantize(CENT_FRACTION, rounding=ROUND_HALF_UP)
