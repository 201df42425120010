"""Forwarding one job through a driver: submit it at most once, then follow it to a final state.

The order of steps is what makes a crash harmless:

1. If the local execution already has a provider job id (recorded by an earlier attempt), nothing is
   submitted: the job is *re-attached* and followed.
2. Otherwise, if the driver can look the job up by its token (``Driver.find``), a job an earlier
   attempt submitted but did not live to record is found and re-attached.
3. Otherwise it is submitted with its token. A driver whose provider honours the token as an
   idempotency key returns the earlier job if there was one, so even a crash between the provider's
   answer and step 4 costs no second submission.
4. The provider job id is recorded durably (``record`` commits it) *before* anything else happens;
   if recording fails (the execution was canceled or given to another worker meanwhile) the job is
   not followed here.

Transient failures (rate limits, 503s, timeouts, an unreachable provider) are retried forever with
backoff, honouring ``Retry-After``: a job waits out a provider outage instead of being lost. Only a
``stop`` (worker shutting down, lease lost) ends the wait early, and the job is then picked up again by
whoever holds it next, through step 1.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from qumulus.drivers.backoff import Backoff, PollSchedule
from qumulus.drivers.base import Driver, JobState, ProviderJob, Transient

log = logging.getLogger("qumulus.drivers")

T = TypeVar("T")


@dataclass
class Retry:
    """Retries a call on :class:`Transient` until it succeeds or ``stop`` is set."""

    stop: threading.Event
    backoff: Backoff = field(default_factory=Backoff)
    #: Told of every transient failure: (the error, consecutive failures so far, the wait chosen).
    on_transient: Callable[[Transient, int, float], None] | None = None
    rng: random.Random | None = None

    def call(self, fn: Callable[[], T], what: str) -> T | None:
        """``fn()``, retried; None if stopped first."""
        failures = 0
        while not self.stop.is_set():
            try:
                return fn()
            except Transient as exc:
                failures += 1
                wait = self.backoff.delay(failures, retry_after=exc.retry_after, rng=self.rng)
                log.info("%s: %s; retry %d in %.2f s", what, exc, failures, wait)
                if self.on_transient is not None:
                    self.on_transient(exc, failures, wait)
                self.stop.wait(wait)
        return None


def submit_once(
    driver: Driver,
    job: ProviderJob,
    *,
    known_id: str | None,
    record: Callable[[str], None],
    retry: Retry,
    earlier_attempts: bool = True,
) -> str | None:
    """The provider job id for ``job``: the known one, one found by token, or a new submission,
    recorded with ``record`` before it is returned. None if stopped before it was known.

    ``earlier_attempts``: whether an earlier attempt of this execution may have submitted it (a
    first claim cannot have: it skips the search). A submission that failed transiently may have
    reached the provider all the same, so every retry searches first too.

    :class:`~qumulus.drivers.base.Rejected` propagates: the provider refused the job.
    """
    if known_id is not None:
        return known_id
    search = earlier_attempts

    def once() -> str:
        nonlocal search
        if search:
            found = driver.find(job.token)
            if found is not None:
                return found
        search = True
        return driver.submit(job)

    provider_id = retry.call(once, f"submit {job.token}")
    if provider_id is None:
        return None
    record(provider_id)  # durable before anything else: a crash after this re-attaches
    return provider_id


def follow(
    driver: Driver,
    provider_job_id: str,
    *,
    retry: Retry,
    schedule: PollSchedule | None = None,
    push_timeout: float = 30.0,
    on_change: Callable[[JobState], None] | None = None,
) -> JobState | None:
    """Poll (or wait on the driver's push) until the job is final; returns its final state, or None
    if stopped first. ``on_change`` sees every new non-final status (``queued`` → ``running``).

    :class:`~qumulus.drivers.base.UnknownJob` propagates: the provider lost the job.
    """
    schedule = schedule or PollSchedule()
    known: str | None = None
    unchanged = 0
    while not retry.stop.is_set():
        seen = known
        state = retry.call(
            lambda: driver.wait(provider_job_id, known=seen, timeout=push_timeout),  # noqa: B023 - called at once
            f"poll {provider_job_id}",
        )
        if state is None:
            return None
        if state.final:
            return state
        if state.status != known:
            known, unchanged = state.status, 0
            if on_change is not None:
                on_change(state)
        else:
            unchanged += 1
        # A pushing driver has already waited for a change; a short pause still keeps a push that
        # returns at once (a stream cut by a proxy) from spinning.
        retry.stop.wait(schedule.first if driver.pushes else schedule.interval(unchanged))
    return None
