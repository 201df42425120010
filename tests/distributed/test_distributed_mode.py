"""Distributed mode on PostgreSQL: ``qumulus api``, ``qumulus scheduler`` and ``qumulus worker`` as
separate processes, woken by LISTEN/NOTIFY, maintained under an advisory lock."""

from __future__ import annotations

import time

import httpx
import psycopg
import pytest
from sqlalchemy import func, select

from qumulus.runtime import queue
from qumulus.runtime.maintenance import ROUND_LOCK, run_round
from qumulus.runtime.pgnotify import libpq_url
from qumulus.services import jobs
from qumulus.store.models import Execution, UsageLedger
from tests.conftest import free_port
from tests.distributed._cluster import Cluster

pytestmark = pytest.mark.postgres

BELL = {"qubits": 2, "circuit": [{"gate": "h", "target": 0}, {"gate": "cnot", "control": 0, "target": 1}]}


def _submit(platform, payload: dict = BELL, backend: str = "simulator") -> str:  # type: ignore[no-untyped-def]
    spec = jobs.JobSpec(backend=backend, job_type="ionq.circuit.v1", input=payload)
    return jobs.submit_job(platform, platform.test_principal, spec).job.id


def _wait(platform, job_id: str, timeout: float = 60.0) -> str:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while True:
        status = jobs.get_job(platform, platform.test_principal, job_id).job.status
        if status in jobs.TERMINAL or time.monotonic() > deadline:
            return status
        time.sleep(0.02)


def test_api_and_worker_processes_run_jobs_and_the_api_hears_completions(cluster: Cluster) -> None:
    """The API process has no workers; a worker process that only polls every 60 s still starts the
    job at once (NOTIFY), and the API's waiting request learns of the completion (NOTIFY back)."""
    port = free_port()
    # first: migrates, creates the default organization and its key. POST waits up to 20 s for the
    # job (a loaded box is slow); without NOTIFY both ways it would answer "ready" after 20 s.
    cluster.api(port, env={"QUMULUS_SUBMIT_WAIT_MS": "20000"})
    cluster.worker("--backend", "simulator", "--poll-seconds", "60", env={"QUMULUS_WARM_ENGINES": "1"})
    key = (cluster.data_dir / "bootstrap-key").read_text().strip()
    headers = {"Authorization": f"apiKey {key}"}
    base = f"http://127.0.0.1:{port}/v0.4"
    with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
        body = {"type": "ionq.circuit.v1", "backend": "simulator", "shots": 100, "input": BELL}
        created = client.post("/jobs", json=body)
        assert created.status_code == 201, created.text
        # the worker polls every 60 s: only NOTIFY (both ways) completes the job within this answer
        assert created.json()["status"] == "completed", created.json()
        job_id = client.post("/jobs", json=body).json()["id"]
        waited = client.get(f"/jobs/{job_id}", params={"wait": 20})
        assert waited.json()["status"] == "completed"
        results = client.get(f"/jobs/{job_id}/results/probabilities")
        assert results.status_code == 200
        assert results.json() == pytest.approx({"0": 0.5, "3": 0.5})


def test_a_worker_serves_only_its_backends(cluster: Cluster, platform) -> None:  # type: ignore[no-untyped-def]
    cluster.worker("--backend", "qpu.aria-1", "--poll-seconds", "0.2")
    job_id = _submit(platform)
    time.sleep(2)
    assert jobs.get_job(platform, platform.test_principal, job_id).job.status == "ready"  # queued, untouched
    cluster.worker("--backend", "ionq_simulator")  # an alias of ``simulator``
    assert _wait(platform, job_id) == "completed"


def test_the_scheduler_requeues_a_dead_workers_lease_and_a_worker_finishes_it(
    cluster: Cluster,
    platform,  # type: ignore[no-untyped-def]
) -> None:
    job_id = _submit(platform)
    with platform.db.write() as session:  # a worker claimed it, then its machine vanished
        claimed = queue.claim(
            session, owner="gone:1:x", backends=None, limit=5, lease_seconds=1, postgres=True
        )
    assert [c.job_id for c in claimed] == [job_id]
    cluster.worker("--poll-seconds", "60")
    time.sleep(1.5)
    assert jobs.get_job(platform, platform.test_principal, job_id).job.status == "started"  # nobody reaps
    cluster.scheduler(interval=0.3)
    assert _wait(platform, job_id, timeout=30) == "completed"
    with platform.db.read() as session:
        execution = session.scalars(select(Execution).where(Execution.job_id == job_id)).one()
        ledger_rows = session.scalar(select(func.count()).select_from(UsageLedger))
    assert execution.attempt == 2 and execution.lease_owner != "gone:1:x"
    assert ledger_rows == 1


def test_only_one_scheduler_round_acts_while_another_holds_the_lock(platform) -> None:  # type: ignore[no-untyped-def]
    job_id = _submit(platform)
    with platform.db.write() as session:
        queue.claim(session, owner="gone:1:x", backends=None, limit=5, lease_seconds=-1, postgres=True)
    with psycopg.connect(libpq_url(platform.settings.database_url), autocommit=True) as other:
        other.execute("SELECT pg_advisory_lock(%s)", (ROUND_LOCK,))  # another scheduler mid-round
        assert run_round(platform.db) is None
        assert jobs.get_job(platform, platform.test_principal, job_id).job.status == "started"
        other.execute("SELECT pg_advisory_unlock(%s)", (ROUND_LOCK,))
    assert run_round(platform.db) is True  # the lock is free again: this round reaps
    assert jobs.get_job(platform, platform.test_principal, job_id).job.status == "ready"
    assert run_round(platform.db) is False  # idempotent: nothing left to reap


def test_a_stopped_worker_hands_its_work_back_at_once(cluster: Cluster, platform) -> None:  # type: ignore[no-untyped-def]
    """SIGTERM mid-simulation: the lease is released on the way out, not left to expire."""
    from tests.distributed._cluster import random_circuit

    first = cluster.worker("--lease-seconds", "600")
    job_id = _submit(platform, random_circuit(22, 40, seed=1))
    deadline = time.monotonic() + 30
    while jobs.get_job(platform, platform.test_principal, job_id).job.status != "started":
        assert time.monotonic() < deadline
        time.sleep(0.02)
    first.stop()
    assert first.process.returncode == 0
    with platform.db.read() as session:
        assert session.scalar(select(Execution.state).where(Execution.job_id == job_id)) == "queued"


def test_a_cancel_in_another_process_stops_the_simulation_at_once(cluster: Cluster, platform) -> None:  # type: ignore[no-untyped-def]
    """The worker's next heartbeat is minutes away (600 s lease), and its one slot is busy with a
    simulation that takes minutes: only the cancel NOTIFY can free it for the next job."""
    from tests.distributed._cluster import random_circuit

    cluster.worker("--slots", "1", "--lease-seconds", "600")
    long_job = _submit(platform, random_circuit(24, 120, seed=2))
    deadline = time.monotonic() + 60
    while jobs.get_job(platform, platform.test_principal, long_job).job.status != "started":
        assert time.monotonic() < deadline
        time.sleep(0.02)
    time.sleep(0.5)  # the simulation is under way
    jobs.cancel_job(platform, platform.test_principal, long_job)
    assert _wait(platform, _submit(platform), timeout=45) == "completed"
    assert jobs.get_job(platform, platform.test_principal, long_job).job.status == "canceled"
