"""``qumulus worker`` (the CLI process, as a site runs it) applies ``QUMULUS_MAX_ATTEMPTS``.

Issue 17.1 found the embedded server capped attempts while ``qumulus worker`` did not. Here a real
``qumulus worker`` runs with ``QUMULUS_MAX_ATTEMPTS=1``; its simulator process is killed under a
job (an OOM kill, a segfault). At the default cap (3) that job would be run again and complete; with
the cap at 1 the worker fails it at once with ``AttemptsExhausted``, attempt 1.
"""

from __future__ import annotations

import time

import psutil
import pytest
from sqlalchemy import select

from qumulus.services import jobs
from qumulus.store.models import Execution
from tests.distributed._cluster import Cluster

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def _long_circuit() -> dict:
    """22 qubits with a T gate per layer (not Clifford): seconds of state-vector work."""
    layer = [{"gate": "h", "target": q} for q in range(22)] + [{"gate": "t", "target": 0}]
    layer += [{"gate": "cnot", "control": q, "target": q + 1} for q in range(21)]
    return {"qubits": 22, "circuit": layer * 120}


def test_the_worker_command_fails_a_job_at_the_attempt_cap_it_reads_from_the_environment(
    cluster: Cluster,
    platform,  # type: ignore[no-untyped-def]
) -> None:
    worker = cluster.worker("--poll-seconds", "0.2", env={"QUMULUS_MAX_ATTEMPTS": "1"})
    who = platform.test_principal
    spec = jobs.JobSpec(backend="simulator", job_type="ionq.circuit.v1", input=_long_circuit())
    job_id = jobs.submit_job(platform, who, spec).job.id

    deadline = time.monotonic() + 90
    simulators: list[psutil.Process] = []
    while not simulators:  # the job is running in one of the worker's simulator processes
        assert time.monotonic() < deadline, worker.output()[-2000:]
        with platform.db.read() as session:
            state = session.scalar(select(Execution.state).where(Execution.job_id == job_id))
        if state == "running":
            simulators = [
                p
                for p in psutil.Process(worker.pid).children(recursive=True)
                if "spawn_main" in " ".join(p.cmdline())
            ]
        time.sleep(0.05)
    for process in simulators:
        process.kill()

    deadline = time.monotonic() + 60
    while (job := jobs.get_job(platform, who, job_id).job).status not in jobs.TERMINAL:
        assert time.monotonic() < deadline, f"still {job.status}:\n{worker.output()[-2000:]}"
        time.sleep(0.1)
    assert job.status == "failed" and job.failure["code"] == "AttemptsExhausted", job.failure
    assert "1 attempt" in job.failure["message"]
    with platform.db.read() as session:
        assert session.scalar(select(Execution.attempt).where(Execution.job_id == job_id)) == 1
    assert worker.process.poll() is None  # the worker goes on
