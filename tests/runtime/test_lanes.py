"""Issue 17.2: one user's long jobs do not block everyone's short ones (scheduling/lanes.py)."""

from __future__ import annotations

import dataclasses
import time

from qumulus.scheduling import lanes
from qumulus.services import jobs
from qumulus.services.jobs.queue_view import BackendQueue
from tests.conftest import make_platform
from tests.runtime.test_worker_failures import BELL, _principal, _submit, _wait


def test_lane_arithmetic() -> None:
    assert [lanes.long_lanes(n) for n in (1, 2, 4)] == [1, 1, 3]
    assert lanes.short_lanes(2, long_running=1) == 1 and lanes.short_lanes(4, long_running=9) == 1
    assert lanes.short_lanes(4, long_running=0) == 4
    assert lanes.is_long(17, emulated=False) and lanes.is_long(1, emulated=True)
    assert not lanes.is_long(16, emulated=False)


def test_predictions_count_the_work_of_the_jobs_class_ahead() -> None:
    """A short job behind long work it will not wait for reads 0; a long one counts the lane."""
    q = BackendQueue(slots=2, per_execution_s=10.0, running_long=1, running_short=0)
    q.positions = {"long2": (0, 0), "short": (1, 1)}
    q.ahead_in_class = {"long2": 0, "short": 0}
    q.long_jobs = {"long2": True, "short": False}
    assert q.figures("short", "ready")["predicted_wait_time_ms"] == 0
    q.long_residual_s = 5.0  # half of the running long work's predicted 10 s
    assert q.figures("long2", "ready")["predicted_wait_time_ms"] == 5000


def _long_payload(layers: int) -> dict:
    layer = [{"gate": "h", "target": q} for q in range(22)] + [{"gate": "t", "target": 0}]  # not Clifford
    layer += [{"gate": "cnot", "control": q, "target": q + 1} for q in range(21)]
    return {"qubits": 22, "circuit": layer * layers}


def test_a_one_gate_job_completes_while_long_jobs_hold_the_pool(settings) -> None:  # type: ignore[no-untyped-def]
    platform, _ = make_platform(dataclasses.replace(settings, pool_processes=2, worker_threads=2))
    who = _principal(platform)
    platform.start_runtime()
    try:
        long_jobs = [_submit(platform, who, _long_payload(400)) for _ in range(2)]  # minutes each
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if any(jobs.get_job(platform, who, j).job.status == "started" for j in long_jobs):
                break
            time.sleep(0.02)
        time.sleep(1.0)  # both worker threads have had every chance to claim
        started = [j for j in long_jobs if jobs.get_job(platform, who, j).job.status == "started"]
        assert len(started) == 1, "long work took every lane"
        asked = time.monotonic()
        one_gate = {"qubits": 1, "circuit": [{"gate": "x", "target": 0}]}
        short = _wait(platform, who, _submit(platform, who, one_gate), timeout=20)
        took = time.monotonic() - asked
        assert short.status == "completed" and took < 10, (short.status, took)
        waiting = next(j for j in long_jobs if j not in started)
        view = jobs.get_job(platform, who, waiting)
        from qumulus.services.jobs import queue_view

        queue_view.invalidate()
        figures = queue_view.job_figures(platform, view.job)
        assert figures["queue_position"] == 0 and figures["predicted_wait_time_ms"] > 0, figures
        for job_id in long_jobs:
            jobs.cancel_job(platform, who, job_id)
        assert _wait(platform, who, _submit(platform, who, BELL), timeout=30).status == "completed"
    finally:
        platform.stop()
