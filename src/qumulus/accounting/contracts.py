"""Which contract governs a job, and how much of its allocation is used (pure)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from qumulus.accounting.periods import period_bounds
from qumulus.accounting.pricing import pattern_matches, specificity


@dataclass(frozen=True, slots=True)
class Terms:
    """A contract as policy sees it."""

    id: str
    backend_pattern: str
    rate_per_second: Decimal
    starts_at: datetime
    ends_at: datetime | None
    allocation_seconds: float | None = None
    period: str = "month"


def in_force(terms: Iterable[Terms], backend: str, at: datetime) -> Terms | None:
    """The most specific contract in force for ``backend`` at ``at`` (latest start breaks ties).

    The same choice as :func:`qumulus.accounting.pricing.applicable_rate`, so the contract that
    admitted a job is the one whose rate it is charged at.
    """
    live = [
        t
        for t in terms
        if pattern_matches(t.backend_pattern, backend)
        and t.starts_at <= at
        and (t.ends_at is None or at < t.ends_at)
    ]
    if not live:
        return None
    return max(live, key=lambda t: (specificity(t.backend_pattern), t.starts_at))


def allocation_window(terms: Terms, at: datetime) -> tuple[datetime, datetime | None]:
    """The allocation period containing ``at``: a calendar period, or the contract's life (``none``)."""
    if terms.period == "none":
        return terms.starts_at, terms.ends_at
    start, end = period_bounds(terms.period, at)
    start = max(start, terms.starts_at)
    if terms.ends_at is not None:
        end = min(end, terms.ends_at)
    return start, end


def used_seconds(
    contract: Terms, all_terms: Iterable[Terms], usage_by_backend: Mapping[str, float], at: datetime
) -> float:
    """Usage (seconds, by backend, inside ``contract``'s window) that counts against ``contract``.

    A backend's usage counts against the contract that governs it: with ``qpu.*`` and
    ``qpu.aria-1`` both in force, Aria's seconds belong to the specific one.
    """
    everything = list(all_terms)
    return sum(
        seconds
        for backend, seconds in usage_by_backend.items()
        if (governing := in_force(everything, backend, at)) is not None and governing.id == contract.id
    )
