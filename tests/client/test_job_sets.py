"""Job sets end to end: server-side split, combined results, report, cancel, rerun, another process."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import pytest

from qumulus import Circuit, JobManager, JobStatus, Qumulus
from qumulus.client import JobCancelledError
from tests.client.conftest import bell
from tests.conftest import ROOT, LiveServer


def _circuits() -> list[dict]:
    """Five circuits whose outcomes tell them apart: circuit i puts X on qubit i of 3 (i < 3)."""
    out = [Circuit(3, name=f"x{i}").x(i).to_ionq() for i in range(3)]
    return [*out, bell("bell-a"), bell("bell-b")]


def test_split_combine_and_index_by_global_position_name_and_circuit(simulator, provider) -> None:  # type: ignore[no-untyped-def]
    circuits = _circuits()
    tag = uuid.uuid4().hex[:8]
    job_set = JobManager().run(
        circuits, backend=simulator, name="scan", max_experiments_per_job=2, tags=[tag], shots=20
    )
    members = job_set.jobs()
    assert [j.name() for j in members] == ["scan_0", "scan_1", "scan_2"]
    assert all(j.job_set_id() == job_set.job_set_id() and tag in j.tags() for j in members)
    results = job_set.results(timeout=120)
    assert results.success and len(results.results) == 5
    assert results.get_counts(0) == {"001": 20}
    assert results.get_counts(2) == {"100": 20}  # experiment 2 is in the second job
    assert results.get_counts("x1") == {"010": 20}
    assert results.get_probabilities(circuits[3]) == {"00": 0.5, "11": 0.5}  # by circuit
    combined = results.combine_results()
    assert [e.index for e in combined.results] == [0, 1, 2, 3, 4]
    assert job_set.statuses() == [JobStatus.DONE] * 3 and job_set.status() is JobStatus.DONE
    report = job_set.report()
    assert "experiments 0-1" in report and "experiments 4-4" in report and "done: 3" in report
    assert job_set.error_messages() is None
    assert len(provider.jobs(limit=None, job_set_id=job_set.job_set_id())) == 3
    assert any(s["id"] == job_set.job_set_id() for s in provider.job_sets(limit=50))


RETRIEVE = """
from qumulus import JobManager, Qumulus
Qumulus.load_account()
job_set = JobManager().retrieve_job_set({set_id!r})
print(job_set.name(), job_set.results(timeout=60).get_counts(1))
"""


def test_retrieve_job_set_from_another_process(simulator, sdk_server: LiveServer, sdk_home) -> None:  # type: ignore[no-untyped-def]
    job_set = JobManager().run(
        _circuits(), backend=simulator, name="elsewhere", max_experiments_per_job=3, shots=10
    )
    env = {
        **os.environ,
        "QUMULUS_CONFIG_DIR": str(sdk_home),
        "QUMULUS_API_KEY": sdk_server.key,
        "QUMULUS_URL": sdk_server.url,
        "PYTHONPATH": f"{ROOT / 'src'}:{ROOT}",
    }
    other = subprocess.run(
        [sys.executable, "-c", RETRIEVE.format(set_id=job_set.job_set_id())],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert other.returncode == 0, other.stderr
    assert other.stdout.strip() == "elsewhere {'010': 10}"


def test_cancel_then_rerun_failed_members(simulator, blocker) -> None:  # type: ignore[no-untyped-def]
    job_set = JobManager().run(
        [bell()] * 4, backend=simulator, name="queued", max_experiments_per_job=2, shots=10
    )
    job_set.cancel()
    assert job_set.statuses() == [JobStatus.CANCELLED] * 2
    assert job_set.status() is JobStatus.CANCELLED
    with pytest.raises(JobCancelledError):
        job_set.results(timeout=30)
    partial = job_set.results(timeout=30, partial=True)
    assert partial.success is False and partial.results == []
    old_ids = [j.job_id() for j in job_set.jobs()]
    blocker.cancel()
    job_set.rerun_failed()
    new_ids = [j.job_id() for j in job_set.jobs()]
    assert set(new_ids).isdisjoint(old_ids)
    assert [j.name() for j in job_set.jobs()] == ["queued_0", "queued_1"]
    results = job_set.results(timeout=120)
    assert results.success and [e.index for e in results.results] == [0, 1, 2, 3]


def test_failed_members_report_the_servers_reason(failing_server: LiveServer, sdk_home) -> None:  # type: ignore[no-untyped-def]
    provider = Qumulus.enable_account(failing_server.key, url=failing_server.url)
    job_set = JobManager(provider).run([bell()] * 3, backend="simulator", max_experiments_per_job=2, shots=10)
    for job in job_set.jobs():
        job.wait_for_final_state(timeout=60)
    assert job_set.status() is JobStatus.ERROR
    messages = job_set.error_messages()
    assert "experiments 0-1" in messages and "experiments 2-2" in messages and "nonexistent" in messages
    assert "error: SimulationError" in job_set.report()


def test_idempotent_job_set_and_errors_named_by_global_index(simulator, sdk_server: LiveServer) -> None:  # type: ignore[no-untyped-def]
    from qumulus.client import ApiError

    key = str(uuid.uuid4())
    first = JobManager().run(_circuits(), backend=simulator, max_experiments_per_job=2, idempotency_key=key)
    again = JobManager().run(_circuits(), backend=simulator, max_experiments_per_job=2, idempotency_key=key)
    assert first.job_set_id() == again.job_set_id()
    bad = [*_circuits(), {"qubits": 1, "circuit": [{"gate": "nope", "target": 0}]}]
    with pytest.raises(ApiError) as caught:
        JobManager().run(bad, backend=simulator, max_experiments_per_job=2)
    assert caught.value.status_code == 422 and caught.value.field == "circuits[5].circuit[0].gate"


def test_a_set_over_the_queue_cap_is_refused_whole(
    simulator, provider, sdk_server: LiveServer, blocker
) -> None:  # type: ignore[no-untyped-def]
    import sqlite3

    from qumulus.client import ApiError

    tag = uuid.uuid4().hex[:8]
    with sqlite3.connect(sdk_server.data_dir / "qumulus.db") as db:
        db.execute("UPDATE projects SET max_queued_jobs = 3")
    try:
        with pytest.raises(ApiError) as caught:  # blocker + 4 members > 3
            JobManager().run([bell()] * 4, backend=simulator, max_experiments_per_job=1, tags=[tag])
        assert caught.value.status_code == 429 and "max_queued_jobs" in caught.value.message
        assert provider.jobs(limit=None, tags=[tag]) == []  # no half set left behind
        fits = JobManager().run([bell()] * 2, backend=simulator, max_experiments_per_job=1, tags=[tag])
        assert len(fits.jobs()) == 2
        fits.cancel()
    finally:
        with sqlite3.connect(sdk_server.data_dir / "qumulus.db") as db:
            db.execute("UPDATE projects SET max_queued_jobs = NULL")
