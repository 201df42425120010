"""The broker when things break: its worker killed mid-job, the upstream rate-limiting, failing,
timing out, or down altogether. Every job completes, the upstream has exactly one job per broker
execution, and the broker's ledger one row per job."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest

from tests.drivers.broker import OUTAGE_SECONDS, Cluster
from tests.drivers.faults import Rule

pytestmark = [pytest.mark.slow]

BELL = {"qubits": 2, "circuit": [{"gate": "h", "targets": [0]}, {"gate": "cnot", "control": 0, "target": 1}]}


def submit(cluster: Cluster, backend: str = "upstream.aria-1", shots: int = 100) -> str:
    body = {"type": "ionq.circuit.v1", "backend": backend, "shots": shots, "input": BELL}
    return str(cluster.broker.api("POST", "/jobs", json=body)["id"])


def exactly_once(cluster: Cluster, job_id: str) -> dict:
    """The job completed here, from exactly one upstream job, with one ledger row of its cost."""
    done = cluster.broker.wait_job(job_id, timeout=180)
    assert done["status"] == "completed", done
    ((execution_id, provider_id),) = cluster.provider_jobs(job_id)
    (only,) = cluster.upstream_jobs_for(execution_id)
    assert only["id"] == provider_id and only["status"] == "completed"
    ((_, cost),) = cluster.ledger(job_id)
    assert Decimal(str(cost)) == Decimal(str(only["cost"])) == Decimal(str(done["cost"]))
    return done


def test_a_broker_killed_after_the_upstream_accepted_re_attaches_and_never_resubmits(
    cluster: Cluster,
) -> None:
    parked = cluster.park()  # the upstream keeps the job queued while the broker dies
    try:
        job_id = submit(cluster)
        deadline = time.monotonic() + 60
        while not (cluster.provider_jobs(job_id) and cluster.provider_jobs(job_id)[0][1]):
            assert time.monotonic() < deadline, "never released to the upstream"
            time.sleep(0.05)
        ((execution_id, provider_id),) = cluster.provider_jobs(job_id)
        assert [j["id"] for j in cluster.upstream_jobs_for(execution_id)] == [provider_id]
        cluster.broker.kill()  # SIGKILL: its worker was following the job
    finally:
        cluster.unpark(parked)
    cluster.broker.start()  # same port, same data
    exactly_once(cluster, job_id)
    ((attempt,),) = cluster.broker.sql("SELECT attempt FROM executions WHERE id = ?", execution_id)
    assert attempt == 2  # claimed again after the restart, and re-attached, not resubmitted


def test_429_503_and_timeouts_from_the_upstream_are_retried_and_lose_no_job(cluster: Cluster) -> None:
    proxy = cluster.proxy
    proxy.add(Rule("POST", r"/v0.4/jobs", "status", count=2, status=429, retry_after="1"))
    proxy.add(Rule("POST", r"/v0.4/jobs", "status", count=2, status=503))
    proxy.add(Rule("POST", r"/v0.4/jobs", "delay", count=1, seconds=2.0))  # times out after it was created
    proxy.add(Rule("GET", r"/v0.4/jobs/[0-9a-f-]+", "delay", count=2, seconds=2.0))
    proxy.add(Rule("GET", r"/v0.4/jobs/[0-9a-f-]+", "drop", count=2))
    ids = [submit(cluster, "upstream.faulty") for _ in range(5)]
    for job_id in ids:
        exactly_once(cluster, job_id)
    assert (
        proxy.count("POST", r"/v0.4/jobs", "status") == 4 and proxy.count("POST", r"/v0.4/jobs", "delay") == 1
    )
    assert proxy.count("GET", r"/v0.4/jobs/[0-9a-f-]+", "delay") == 2
    assert proxy.count("GET", r"/v0.4/jobs/[0-9a-f-]+", "drop") == 2


def test_jobs_wait_while_the_upstream_is_down_and_complete_when_it_is_back(cluster: Cluster) -> None:
    parked = cluster.park()  # two jobs are at the upstream (the outstanding limit) when it goes down
    before = [submit(cluster) for _ in range(3)]  # two at the upstream, one waiting here
    deadline = time.monotonic() + 60
    while sum(1 for j in before if cluster.provider_jobs(j)[0][1]) < 2:
        assert time.monotonic() < deadline, "never released to the upstream"
        time.sleep(0.05)
    cluster.upstream.stop()  # the provider is gone: connections refused
    during = [submit(cluster) for _ in range(2)]  # accepted here, held locally
    time.sleep(OUTAGE_SECONDS)  # QUMULUS_TEST_OUTAGE_SECONDS (the minute)
    statuses = {cluster.broker.api("GET", f"/jobs/{j}")["status"] for j in before + during}
    assert statuses <= {"ready", "started"}  # waiting, none failed
    back = time.monotonic()
    cluster.upstream.start()
    restarted = time.monotonic() - back
    cluster.unpark(parked)
    for job_id in before + during:
        exactly_once(cluster, job_id)
    print(
        f"\nupstream down {OUTAGE_SECONDS:g} s: {len(before + during)} jobs waited as {sorted(statuses)}; "
        f"upstream restarted in {restarted:.1f} s, all completed {time.monotonic() - back:.1f} s after"
    )
    history = cluster.broker.api("GET", "/backends/upstream.aria-1/status/history")["history"]
    seen = [h["status"] for h in history]  # newest first
    assert "major_outage" in seen and seen[0] == "operational"  # mirrored down, then back up
