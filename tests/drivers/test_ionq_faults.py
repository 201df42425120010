"""The ``ionq`` driver when the provider misbehaves: 429 with Retry-After, 503s, timeouts after the
provider acted, dropped connections, no push. A fault proxy stands between the driver and a real
Qumulus server; the checks are the upstream's own records: every job arrives, exactly once."""

from __future__ import annotations

import pytest

from qumulus.drivers.forward import follow, submit_once
from tests.drivers.conftest import FAST, Observed, ionq_driver, job, upstream_jobs
from tests.drivers.faults import FaultProxy, Rule

pytestmark = pytest.mark.compat

JOBS = r"/v0.4/jobs"
ONE_JOB = r"/v0.4/jobs/[0-9a-f-]+"


def test_429_and_503_on_submission_are_retried_with_backoff_and_retry_after(
    upstream, proxy: FaultProxy
) -> None:  # type: ignore[no-untyped-def]
    proxy.add(Rule("POST", JOBS, "status", count=1, status=429, retry_after="1"))
    proxy.add(Rule("POST", JOBS, "status", count=2, status=503))
    driver = ionq_driver(proxy.url, upstream.key, target="simulator")
    retry = Observed()
    work = job()
    provider_id = submit_once(
        driver, work, known_id=None, record=lambda _: None, retry=retry, earlier_attempts=False
    )
    state = follow(driver, provider_id or "", retry=retry, schedule=FAST)
    assert state is not None and state.status == "completed"
    assert [(("429" in m), ("503" in m)) for m, _, _ in retry.seen] == [
        (True, False),
        (False, True),
        (False, True),
    ]
    assert retry.seen[0][1] == 1.0 and retry.seen[0][2] >= 1.0  # the provider's Retry-After was obeyed
    assert all(wait <= 0.2 for _, _, wait in retry.seen[1:])  # 503s without it: our own short backoff
    assert [j["id"] for j in upstream_jobs(upstream, work.token)] == [provider_id]
    assert not driver.pushes  # the proxy has no event stream: the driver fell back to polling
    driver.close()


def test_a_submission_that_times_out_after_the_provider_accepted_it_is_not_submitted_twice(
    upstream, proxy: FaultProxy
) -> None:  # type: ignore[no-untyped-def]
    proxy.add(Rule("POST", JOBS, "delay", count=1, seconds=2.5))
    driver = ionq_driver(proxy.url, upstream.key, target="simulator", timeout=1.0)
    retry = Observed()
    work = job()
    provider_id = submit_once(
        driver, work, known_id=None, record=lambda _: None, retry=retry, earlier_attempts=False
    )
    assert len(retry.seen) == 1 and "timed out" in retry.seen[0][0]
    (only,) = upstream_jobs(upstream, work.token)
    assert provider_id == only["id"]
    assert proxy.count("GET", JOBS) >= 1  # it looked for the job before submitting again
    state = follow(driver, provider_id, retry=retry, schedule=FAST)
    assert state is not None and state.status == "completed"
    driver.close()


def test_polls_that_time_out_or_are_dropped_are_retried_until_the_result_arrives(
    upstream, proxy: FaultProxy
) -> None:  # type: ignore[no-untyped-def]
    driver = ionq_driver(proxy.url, upstream.key, target="simulator", timeout=1.0, push="off")
    retry = Observed()
    provider_id = driver.submit(job())
    proxy.add(Rule("GET", ONE_JOB, "delay", count=2, seconds=1.5))
    proxy.add(Rule("GET", ONE_JOB, "drop", count=2))
    proxy.add(Rule("GET", ONE_JOB + "/results/probabilities", "status", count=1, status=502))
    state = follow(driver, provider_id, retry=retry, schedule=FAST)
    assert state is not None and state.status == "completed"
    assert state.results is not None and state.results[0].probabilities == {0: 0.5, 3: 0.5}
    kinds = sorted(
        "timed out" if "timed out" in m else "502" if "502" in m else "unreachable" for m, _, _ in retry.seen
    )
    assert kinds == ["502", "timed out", "timed out", "unreachable", "unreachable"]
    driver.close()


def test_an_artifact_the_provider_no_longer_has_does_not_hold_the_completion(
    upstream, proxy: FaultProxy
) -> None:  # type: ignore[no-untyped-def]
    """The upstream lists its compilation but answers 404 for it: the job completes with its
    results, without that artifact (an artifact is not worth a job that never finishes)."""
    proxy.add(Rule("GET", ONE_JOB + r"/artifacts/native", "status", count=100, status=404))
    driver = ionq_driver(proxy.url, upstream.key)  # qpu.aria-1: it publishes a compilation
    retry = Observed()
    provider_id = submit_once(
        driver, job(), known_id=None, record=lambda _: None, retry=retry, earlier_attempts=False
    )
    state = follow(driver, provider_id or "", retry=retry, schedule=FAST)
    assert state is not None and state.status == "completed" and state.results
    assert state.artifacts == {} and retry.seen == []
    assert any("/artifacts/native" in path for _, path, _ in proxy.log)  # it was asked for, and skipped
    driver.close()
