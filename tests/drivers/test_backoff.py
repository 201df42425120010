"""The pacing of calls to a provider: retries back off, honour Retry-After, and stay bounded."""

from __future__ import annotations

import random

import pytest

from qumulus.drivers.backoff import Backoff, PollSchedule


def test_retries_grow_exponentially_with_jitter_up_to_the_cap() -> None:
    policy = Backoff(initial=0.5, factor=2.0, cap=8.0)
    rng = random.Random(7)
    for failures, ceiling in [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (5, 8.0), (50, 8.0), (10_000, 8.0)]:
        assert policy.ceiling(failures) == ceiling
        delays = [policy.delay(failures, rng=rng) for _ in range(200)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert max(delays) - min(delays) > ceiling / 4  # jittered: workers do not retry in step


def test_retry_after_is_a_floor() -> None:
    policy = Backoff(initial=0.5, cap=2.0)
    rng = random.Random(1)
    assert policy.delay(1, retry_after=7.0, rng=rng) == 7.0  # the provider asked for 7 s: 7 s
    assert 0.25 <= policy.delay(1, retry_after=0.1, rng=rng) <= 0.5  # a shorter ask does not hurry us


def test_polling_slows_down_for_a_job_that_does_not_change() -> None:
    schedule = PollSchedule(first=0.2, factor=1.5, cap=10.0)
    intervals = [schedule.interval(n) for n in range(20)]
    assert intervals[0] == 0.2 and intervals == sorted(intervals) and intervals[-1] == 10.0


@pytest.mark.parametrize("args", [(0.0, 2.0, 1.0), (1.0, 0.5, 2.0), (2.0, 2.0, 1.0)])
def test_nonsense_policies_are_refused(args: tuple[float, float, float]) -> None:
    with pytest.raises(ValueError):
        Backoff(*args)
    with pytest.raises(ValueError):
        PollSchedule(*args)
