"""Queue visibility: active jobs show their place and predictions; backends their queue figures."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from qumulus.services.jobs import queue_view
from qumulus.store.models import Job
from tests.api.conftest import bell_job
from tests.compat._util import random_layers
from tests.conftest import Api, make_platform


@pytest.fixture
def one_at_a_time(settings) -> Iterator[Api]:  # type: ignore[no-untyped-def]
    """One simulator process that claims one execution at a time: the rest wait in the queue.

    (A worker claims up to ``claim_batch`` executions at once; claimed ones count as started.)
    """
    from fastapi.testclient import TestClient

    from qumulus.api.app import create_app

    platform, key = make_platform(
        dataclasses.replace(settings, claim_batch=1, pool_processes=1, worker_threads=1)
    )
    with TestClient(create_app(platform), raise_server_exceptions=False) as client:
        yield Api(client=client, key=key, platform=platform)


def long_job(seed: int) -> dict:
    """A circuit the single simulator process needs seconds for, so the others stay queued."""
    gates = []
    for name, qubits, angle in random_layers(24, 24, seed):
        if name == "cnot":
            gates.append({"gate": "cnot", "control": qubits[0], "target": qubits[1]})
        else:
            gates.append({"gate": name, "target": qubits[0], "rotation": angle})
    return {
        "type": "ionq.circuit.v1",
        "backend": "simulator",
        "shots": 10,
        "input": {"qubits": 24, "circuit": gates},
    }


def wait_status(api: Api, job_id: str, wanted: tuple[str, ...], timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        body = api.get(f"/v0.4/jobs/{job_id}").json()
        if body["status"] in wanted or time.monotonic() > deadline:
            return body
        time.sleep(0.02)


def test_queued_jobs_show_positions_and_growing_waits(one_at_a_time: Api) -> None:
    api = one_at_a_time
    ids = [api.post("/v0.4/jobs", json=long_job(i)).json()["id"] for i in range(4)]
    try:
        first = wait_status(api, ids[0], ("started",))
        assert first["status"] == "started", first
        queue_view.invalidate()  # figures as of now, with the first job running
        bodies = [api.get(f"/v0.4/jobs/{i}").json() for i in ids]
        running, queued = bodies[0], bodies[1:]
        assert running["predicted_wait_time_ms"] == 0 and "queue_position" not in running
        assert [b["queue_position"] for b in queued] == [0, 1, 2]
        waits = [b["predicted_wait_time_ms"] for b in queued]
        assert waits[0] > 0 and waits == sorted(set(waits)), waits  # strictly increasing
        assert all(b["predicted_execution_duration_ms"] > 0 for b in bodies)

        backend = api.get("/v0.4/backends/simulator").json()
        assert backend["pending_jobs"] == 3
        listed = {b["backend"]: b for b in api.get("/v0.4/backends").json()}
        assert listed["simulator"]["pending_jobs"] == 3
    finally:
        for i in ids:
            api.put(f"/v0.4/jobs/{i}/status/cancel")
    done = api.get(f"/v0.4/jobs/{ids[-1]}").json()
    assert done["status"] == "canceled" and "queue_position" not in done


def test_backend_average_queue_time_is_measured_from_recent_jobs(api: Api) -> None:
    job = api.post("/v0.4/jobs", json=bell_job()).json()
    assert api.wait(job["id"])["status"] == "completed"
    assert "queue_position" not in api.get(f"/v0.4/jobs/{job['id']}").json()
    with api.platform.db.begin() as conn:  # type: ignore[attr-defined]
        ready = conn.scalar(select(Job.ready_at).where(Job.id == job["id"]))
        conn.execute(update(Job).where(Job.id == job["id"]).values(started_at=ready + timedelta(seconds=5)))
    queue_view.invalidate()
    backend = api.get("/v0.4/backends/simulator").json()
    assert abs(backend["average_queue_time"] - 5000) <= 2, backend
    assert backend["pending_jobs"] == 0
    assert isinstance(api.get("/v0.4/backends/qpu.aria-1").json()["average_queue_time"], int)
