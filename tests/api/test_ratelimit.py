"""The token bucket policy and the per-key limiter, on an injected clock (no server, no sleeping)."""

from __future__ import annotations

import pytest

from qumulus.api.ratelimit import Bucket, RateLimiter, retry_after_header, take
from qumulus.errors import RateLimited


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_full_bucket_allows_a_burst_then_refuses_until_a_token_has_refilled() -> None:
    bucket = Bucket(tokens=3.0, updated=0.0)
    assert [take(bucket, 0.0, rate_per_second=1.0, burst=3.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    wait = take(bucket, 0.0, rate_per_second=1.0, burst=3.0)
    assert wait == pytest.approx(1.0)
    assert take(bucket, 0.5, rate_per_second=1.0, burst=3.0) == pytest.approx(0.5)  # half a token back
    assert take(bucket, 1.0, rate_per_second=1.0, burst=3.0) == 0.0


def test_refill_never_exceeds_the_burst() -> None:
    bucket = Bucket(tokens=0.0, updated=0.0)
    take(bucket, 3600.0, rate_per_second=10.0, burst=5.0)
    assert bucket.tokens == pytest.approx(4.0)  # refilled to 5, one taken


def test_a_clock_going_backwards_does_not_mint_or_destroy_tokens() -> None:
    bucket = Bucket(tokens=1.0, updated=10.0)
    assert take(bucket, 5.0, rate_per_second=1.0, burst=2.0) == 0.0
    assert bucket.tokens == pytest.approx(0.0)


@pytest.mark.parametrize(
    ("wait", "header"), [(0.001, "1"), (0.999, "1"), (1.0, "1"), (1.01, "2"), (59.5, "60")]
)
def test_retry_after_is_whole_seconds_and_at_least_one(wait: float, header: str) -> None:
    assert retry_after_header(wait) == header


def test_limiter_refuses_the_request_over_the_limit_with_retry_after() -> None:
    clock = Clock()
    limiter = RateLimiter(per_minute=60, burst=2, clock=clock)
    limiter.check("key-a")
    limiter.check("key-a")
    with pytest.raises(RateLimited) as refused:
        limiter.check("key-a")
    assert refused.value.status_code == 429
    assert refused.value.headers == {"Retry-After": "1"}
    assert "60 requests per minute" in refused.value.message
    limiter.check("key-b")  # buckets are per key
    clock.now += 1.0
    limiter.check("key-a")  # one token back after a second at 60/min


def test_default_burst_is_one_seconds_worth_and_zero_turns_the_limit_off() -> None:
    clock = Clock()
    limiter = RateLimiter(per_minute=600, clock=clock)
    for _ in range(10):
        limiter.check("k")
    with pytest.raises(RateLimited):
        limiter.check("k")
    off = RateLimiter(per_minute=0, clock=clock)
    for _ in range(10_000):
        off.check("k")


def test_many_keys_do_not_grow_memory_without_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    import qumulus.api.ratelimit as ratelimit

    monkeypatch.setattr(ratelimit, "MAX_BUCKETS", 100)
    clock = Clock()
    limiter = RateLimiter(per_minute=60, burst=1, clock=clock)
    for n in range(100):
        limiter.check(f"k{n}")
    clock.now += 10.0  # every bucket has refilled: forgetting them changes nothing
    limiter.check("new")
    assert len(limiter._buckets) == 1


def test_the_check_is_cheap() -> None:
    """It runs on every authenticated request, on the event loop: a few microseconds at most."""
    import time

    limiter = RateLimiter(per_minute=10**9)
    start = time.perf_counter()
    for _ in range(20_000):
        limiter.check("k")
    per_call = (time.perf_counter() - start) / 20_000
    assert per_call < 20e-6, per_call
