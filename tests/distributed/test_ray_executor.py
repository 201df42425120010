"""``--executor ray``: simulations run as Ray tasks (a local Ray here), Ray's retries off, and a Ray
worker killed mid-task turns into the same fenced requeue as a dead local simulator process."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import psutil
import pytest
from sqlalchemy import select

from qumulus.config import Settings
from qumulus.platform.distributed import start_worker
from qumulus.services import jobs
from qumulus.store.models import Execution
from tests.distributed._cluster import random_circuit

pytest.importorskip("ray", reason="Ray is not installed (pip install 'qumulus[ray]')")

pytestmark = pytest.mark.slow

BELL = {"qubits": 2, "circuit": [{"gate": "h", "target": 0}, {"gate": "cnot", "control": 0, "target": 1}]}


@pytest.fixture
def ray_platform(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A platform (SQLite: the executor does not care) whose worker pool sends work to a local Ray."""
    from sqlalchemy import select as sa_select

    from qumulus.auth.principal import Principal
    from qumulus.platform import Platform
    from qumulus.platform.bootstrap import bootstrap_tenancy
    from qumulus.store.models import Project

    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=f"sqlite:///{tmp_path / 'q.db'}",
        sqlite_synchronous="NORMAL",
        secret_key="test-secret",
        warm_engines=False,
    )
    platform = Platform(settings)
    with platform.db.write() as session:
        bootstrap_tenancy(session, secret=platform.secret)
    with platform.db.read() as session:
        project = session.scalars(sa_select(Project)).one()
    platform.test_principal = Principal(
        organization_id=project.organization_id,
        project_id=project.id,
        user_id=None,
        api_key_id=None,
        project_role="admin",
    )
    start_worker(platform, backends=["simulator"], slots=1, executor="ray", lease_seconds=30)
    yield platform
    platform.stop()


def _submit(platform, payload: dict) -> str:  # type: ignore[no-untyped-def]
    spec = jobs.JobSpec(backend="simulator", job_type="ionq.circuit.v1", input=payload)
    return jobs.submit_job(platform, platform.test_principal, spec).job.id


def _wait(platform, job_id: str, status: tuple[str, ...] = jobs.TERMINAL, timeout: float = 120) -> str:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while True:
        current = jobs.get_job(platform, platform.test_principal, job_id).job.status
        if current in status or time.monotonic() > deadline:
            return current
        time.sleep(0.02)


def _ray_task_processes() -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        try:
            if any("ray::_simulate" in part for part in proc.info["cmdline"] or []):
                found.append(proc)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return found


def test_jobs_run_on_ray_and_complete_with_their_results(ray_platform) -> None:  # type: ignore[no-untyped-def]
    job_id = _submit(ray_platform, BELL)
    assert _wait(ray_platform, job_id) == "completed"
    view = jobs.get_job(ray_platform, ray_platform.test_principal, job_id)
    assert view.job.usage_seconds is not None and view.job.engine


def test_a_ray_worker_killed_mid_task_is_retried_by_the_lease_not_by_ray(ray_platform) -> None:  # type: ignore[no-untyped-def]
    job_id = _submit(ray_platform, random_circuit(22, 60, seed=3))
    assert _wait(ray_platform, job_id, status=("started",), timeout=60) == "started"
    deadline = time.monotonic() + 60
    while not (victims := _ray_task_processes()):
        assert time.monotonic() < deadline, "no Ray process is running the task"
        time.sleep(0.05)
    for proc in victims:
        os.kill(proc.pid, signal.SIGKILL)
    assert _wait(ray_platform, job_id, timeout=240) == "completed"
    with ray_platform.db.read() as session:
        attempt = session.scalar(select(Execution.attempt).where(Execution.job_id == job_id))
    assert attempt == 2  # one retry, through the database (Ray itself would not have retried)


def test_a_workload_s_circuits_run_on_ray(ray_platform) -> None:  # type: ignore[no-untyped-def]
    """The loop runs in the worker process; its evaluations are circuit jobs, simulated on Ray."""
    from qumulus.services.workloads import submit_workload
    from tests.workloads._bodies import H2_EXACT, optimization

    body = optimization("COBYLA", maxiter=25)
    spec = jobs.JobSpec(backend="simulator", job_type="optimization", input=body["input"])
    job_id = submit_workload(ray_platform, ray_platform.test_principal, spec).job.id
    assert _wait(ray_platform, job_id) == "completed"
    view = jobs.get_job(ray_platform, ray_platform.test_principal, job_id)
    assert abs(view.results["solution"]["minimum_value"] - H2_EXACT) < 0.05
    with ray_platform.db.read() as session:
        from qumulus.store.models import Job

        engines = set(session.scalars(select(Job.engine).where(Job.parent_id == job_id)))
    assert engines and None not in engines
