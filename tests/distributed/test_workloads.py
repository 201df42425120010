"""Workload loops in distributed mode: claimed by ``qumulus worker`` processes with a lease, their
circuits through the shared queue; a worker killed mid-optimization is resumed by another from
the last recorded iteration (PostgreSQL)."""

from __future__ import annotations

import os
import signal
import time

from sqlalchemy import func, select

from qumulus.domain import JobSpec
from qumulus.services import jobs
from qumulus.services.workloads import submit_workload, workload
from qumulus.store.models import Job, Workload
from tests.distributed._cluster import Cluster
from tests.workloads._bodies import H2_EXACT, optimization


def _submit(platform, body: dict) -> str:  # type: ignore[no-untyped-def]
    spec = JobSpec(backend=body["backend"], job_type=body["type"], input=body["input"], shots=1000)
    return submit_workload(platform, platform.test_principal, spec).job.id


def test_a_killed_worker_s_optimization_is_resumed_by_another(cluster: Cluster, platform) -> None:  # type: ignore[no-untyped-def]
    cluster.scheduler(interval=0.3)
    args = ("--lease-seconds", "1.5", "--poll-seconds", "0.2")
    workers = [cluster.worker(*args, ready=False) for _ in range(2)]
    for proc in workers:
        proc.wait_for("worker ready")
    job_id = _submit(platform, optimization("COBYLA", maxiter=40))
    who = platform.test_principal
    deadline = time.monotonic() + 90
    while len(workload(platform, who, job_id, every=True).rows) < 5:
        assert time.monotonic() < deadline, "the loop made no progress"
        time.sleep(0.05)
    with platform.db.read() as session:
        owner = session.get(Workload, job_id).lease_owner
    holder = next(w for w in workers if f":{w.pid}:" in owner)
    os.kill(holder.pid, signal.SIGKILL)
    before = len(workload(platform, who, job_id, every=True).rows)
    deadline = time.monotonic() + 120
    while jobs.get_job(platform, who, job_id).job.status not in jobs.TERMINAL:
        assert time.monotonic() < deadline, "the loop was not resumed"
        time.sleep(0.1)
    view = workload(platform, who, job_id, every=True)
    assert view.status == "completed"
    iterations = [r.iteration for r in view.rows]
    assert iterations == list(range(1, len(iterations) + 1)) and len(iterations) >= before
    with platform.db.read() as session:
        state = session.get(Workload, job_id)
        assert state.attempt >= 2 and f":{holder.pid}:" not in (state.lease_owner or "")
        circuits = session.scalar(select(func.count()).select_from(Job).where(Job.parent_id == job_id))
    # Replayed, not rerun: two circuits per iteration, plus at most the evaluation in flight at the
    # kill (its circuits, if queued, are reused by the resumed loop).
    assert circuits == 2 * len(iterations)
    assert abs(view.result["solution"]["minimum_value"] - H2_EXACT) < 0.05
