"""Push is really used where the provider offers it: the broker learns of the upstream's status
changes from its Server-Sent Events, not by reading the job again and again.

Two backends are declared on the broker, both on the upstream's ``qpu.aria-1`` through one counting
proxy that relays the event stream: ``upstream.push-counted`` (``push = "auto"``, the default) and
``upstream.poll-counted`` (``push = "off"``, polling from 0.1 s up to 1 s). The upstream holds their
jobs for a few seconds (a reservation for another organization), then runs them. The proxy's log
counts each provider job's ``GET /jobs/{id}`` reads.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import datetime

import pytest

from tests.drivers.broker import Cluster
from tests.drivers.faults import FaultProxy

pytestmark = [pytest.mark.slow]

BELL = {"qubits": 2, "circuit": [{"gate": "h", "targets": [0]}, {"gate": "cnot", "control": 0, "target": 1}]}
JOBS = 3
HELD_SECONDS = 4.0
#: Reads of a job a pushing broker may still make: none is needed (the final event carries the
#: job), one more if a stream ends without an event (its 30 s timeout, or a cut connection).
PUSH_READS_AT_MOST = 2


@pytest.fixture
def counting(cluster: Cluster) -> Iterator[FaultProxy]:
    proxy = FaultProxy(upstream=cluster.upstream.url, push=True)
    for name, push in (("upstream.push-counted", "auto"), ("upstream.poll-counted", "off")):
        decl = {
            "driver": "ionq",
            "qubits": 25,
            "max_outstanding": JOBS,
            "credential": {"env": "UPSTREAM_KEY"},
            "options": {"url": proxy.url, "target": "qpu.aria-1", "push": push},
            "timing": {"poll_first": 0.1, "poll_cap": 1.0},
        }
        cluster.broker.api("PUT", f"/admin/backends/{name}", json=decl)
    yield proxy
    for name in ("upstream.push-counted", "upstream.poll-counted"):
        cluster.broker.api("DELETE", f"/admin/backends/{name}")
    proxy.close()


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _reads(proxy: FaultProxy, provider_id: str) -> int:
    return proxy.count("GET", rf"/v0\.4/jobs/{re.escape(provider_id)}")


def test_a_push_backend_learns_of_completion_from_events_not_polls(
    cluster: Cluster, counting: FaultProxy
) -> None:
    broker = cluster.broker
    parked = cluster.park()
    jobs: dict[str, list[str]] = {}
    for backend in ("upstream.push-counted", "upstream.poll-counted"):
        body = {"type": "ionq.circuit.v1", "backend": backend, "shots": 100, "input": BELL}
        jobs[backend] = [broker.api("POST", "/jobs", json=body)["id"] for _ in range(JOBS)]
    deadline = time.monotonic() + 60
    every = [j for ids in jobs.values() for j in ids]
    while not all(cluster.provider_jobs(j) and cluster.provider_jobs(j)[0][1] for j in every):
        assert time.monotonic() < deadline, "never released to the upstream"
        time.sleep(0.05)
    time.sleep(HELD_SECONDS)  # held at the upstream: a poller reads, a pusher listens
    cluster.unpark(parked)

    reads: dict[str, list[int]] = {}
    late: dict[str, list[int]] = {}  # ms from the upstream's completion to the broker's (printed only)
    for backend, ids in jobs.items():
        for job_id in ids:
            done = broker.wait_job(job_id, timeout=180)
            assert done["status"] == "completed"
            ((_, provider_id),) = cluster.provider_jobs(job_id)
            reads.setdefault(backend, []).append(_reads(counting, provider_id))
            there = cluster.upstream_job(provider_id)
            gap = _when(done["completed_at"]) - _when(there["completed_at"])
            late.setdefault(backend, []).append(round(gap.total_seconds() * 1000))
    streams = counting.count("GET", r"/v0\.4/jobs/[^/]+/events", "stream")
    print(f"\nGET /jobs/{{id}} per job: {reads}; event streams opened: {streams}; added ms: {late}")
    assert streams >= JOBS  # the pushing backend did listen
    assert max(reads["upstream.push-counted"]) <= PUSH_READS_AT_MOST, reads
    # the poller read each job several times while it was held (0.1 s, growing to 1 s: >= 5 in 4 s)
    assert min(reads["upstream.poll-counted"]) >= 5, reads
    assert sum(reads["upstream.poll-counted"]) > 3 * sum(reads["upstream.push-counted"]) + JOBS
