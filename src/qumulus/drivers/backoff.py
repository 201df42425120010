"""How long to wait before asking a provider again: a pure policy, tested without a clock.

Exponential with "equal jitter" (half the delay fixed, half random) so many broker workers retrying
the same outage do not hammer the provider in step, capped so a long outage is still noticed within
``cap`` seconds of its end. The provider's ``Retry-After`` is a floor, never ignored, and never
stretched by more than the cap either way: a provider that asks for 5 s gets at least 5 s.
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class Backoff:
    """``delay(n)`` for the n-th consecutive failure (n ≥ 1)."""

    initial: float = 0.5
    factor: float = 2.0
    cap: float = 30.0

    def __post_init__(self) -> None:
        if not (self.initial > 0 and self.factor >= 1 and self.cap >= self.initial):
            raise ValueError("backoff: need initial > 0, factor >= 1 and cap >= initial")

    def ceiling(self, failures: int) -> float:
        """The largest delay after ``failures`` consecutive failures (before jitter)."""
        exponent = max(0, failures - 1)
        # min() before the power: 2 ** 10_000 would overflow a float
        return min(self.cap, self.initial * self.factor ** min(exponent, 64))

    def delay(
        self, failures: int, *, retry_after: float | None = None, rng: random.Random | None = None
    ) -> float:
        """Seconds to wait: in [ceiling/2, ceiling], and at least ``retry_after`` when given."""
        top = self.ceiling(failures)
        draw = (rng or random).random()
        wait = top / 2 + draw * top / 2
        if retry_after is not None and retry_after > wait:
            wait = retry_after
        return wait


@dataclass(frozen=True)
class PollSchedule:
    """How often to poll a job that is not final yet: soon after submission (small jobs finish in
    seconds), then less and less often (a QPU queue can take hours), never slower than ``cap``."""

    first: float = 0.2
    factor: float = 1.5
    cap: float = 10.0

    def __post_init__(self) -> None:
        if not (self.first > 0 and self.factor >= 1 and self.cap >= self.first):
            raise ValueError("poll schedule: need first > 0, factor >= 1 and cap >= first")

    def interval(self, polls: int) -> float:
        """Seconds before poll number ``polls + 1`` of a job that has not changed."""
        return min(self.cap, self.first * self.factor ** min(max(0, polls), 64))
