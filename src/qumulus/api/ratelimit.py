"""Per-key rate limit: a token bucket per API key, in this process's memory.

Why in memory: the check runs on every authenticated request, on the event loop, and tiny-job
throughput is a measured target; a database or network round trip per request would cost more
than the request. The consequence: with N API processes behind a load balancer each keeps its own
buckets, so the effective limit is up to N × the configured one. Set the per-process value with
that in mind (or put the limit at the load balancer).

The policy (:func:`take`) is a pure function of the bucket, the clock and the settings; the
:class:`RateLimiter` only keeps one bucket per key and asks it.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from qumulus.errors import RateLimited

#: Buckets kept before idle (full) ones are forgotten; bounds memory with many keys.
MAX_BUCKETS = 100_000


@dataclass(slots=True)
class Bucket:
    tokens: float
    updated: float


def take(bucket: Bucket, now: float, *, rate_per_second: float, burst: float) -> float:
    """Refill ``bucket`` for the time since it was last used, then take one token.

    Returns 0.0 when the request may go ahead, else the seconds until one token is available
    (the bucket is then left unchanged apart from the refill, so a refused request costs nothing).
    """
    elapsed = max(0.0, now - bucket.updated)
    bucket.tokens = min(burst, bucket.tokens + elapsed * rate_per_second)
    bucket.updated = now
    if bucket.tokens >= 1.0:
        bucket.tokens -= 1.0
        return 0.0
    return (1.0 - bucket.tokens) / rate_per_second


def retry_after_header(wait_seconds: float) -> str:
    """``Retry-After`` in whole seconds, at least 1 (clients sleep on it; 0 means "hammer me")."""
    return str(max(1, math.ceil(wait_seconds)))


class RateLimiter:
    """One token bucket per key. ``per_minute <= 0`` turns the limit off."""

    def __init__(
        self, per_minute: int, burst: int = 0, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.enabled = per_minute > 0
        self.per_minute = per_minute
        self.rate = per_minute / 60.0
        #: Default burst: one second's worth of requests, at least 1.
        self.burst = float(burst if burst > 0 else max(1, math.ceil(self.rate)))
        self.clock = clock
        self._buckets: dict[str, Bucket] = {}
        self._lock = threading.Lock()

    def check(self, key: str | None) -> None:
        """Take a token for ``key`` or raise :class:`RateLimited` (429 with ``Retry-After``)."""
        if not self.enabled or key is None:
            return
        now = self.clock()
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                if len(self._buckets) >= MAX_BUCKETS:
                    self._forget_full(now)
                bucket = self._buckets[key] = Bucket(self.burst, now)
            wait = take(bucket, now, rate_per_second=self.rate, burst=self.burst)
        if wait > 0.0:
            retry = retry_after_header(wait)
            raise RateLimited(
                f"Rate limit exceeded: this API key may make {self.per_minute} requests per minute "
                f"(bursts of {int(self.burst)}; QUMULUS_RATE_LIMIT_PER_MINUTE). Retry after {retry} s.",
                headers={"Retry-After": retry},
            )

    def _forget_full(self, now: float) -> None:
        """Drop buckets that have refilled completely: forgetting them changes nothing."""
        full = [k for k, b in self._buckets.items() if b.tokens + (now - b.updated) * self.rate >= self.burst]
        for k in full:
            del self._buckets[k]
