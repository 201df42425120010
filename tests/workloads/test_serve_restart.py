"""A ``qumulus serve`` killed (SIGKILL) in the middle of an optimization: started again on the same
data directory, it resumes the loop from the last recorded iteration, not from zero."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from tests.conftest import start_server, stop_server
from tests.workloads._bodies import optimization


def test_a_killed_server_resumes_the_optimization_when_started_again(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    server = start_server(data_dir, env={"QUMULUS_WARM_ENGINES": "0"})
    port = int(server.url.rsplit(":", 1)[1])
    headers = {"Authorization": f"apiKey {server.key}"}
    body = optimization(
        "COBYLA", maxiter=40, backend="qpu.aria-1", shots=200, input={"options": {"tol": 1e-12}}
    )
    try:
        job_id = httpx.post(f"{server.v04}/jobs", json=body, headers=headers, timeout=30).json()["id"]
        deadline = time.monotonic() + 120
        while True:
            rows = httpx.get(f"{server.v04}/jobs/{job_id}/progress", headers=headers, timeout=30).json()
            if len(rows["progress"]) >= 4:
                break
            assert time.monotonic() < deadline, "no progress"
            time.sleep(0.05)
    finally:
        server.process.kill()  # no clean-up of any kind
        server.process.wait(10)
    before = len(rows["progress"])
    again = start_server(data_dir, env={"QUMULUS_WARM_ENGINES": "0"}, port=port)
    try:
        deadline = time.monotonic() + 180
        while True:
            job = httpx.get(f"{again.v04}/jobs/{job_id}", headers=headers, timeout=30).json()
            if job["status"] in ("completed", "failed", "canceled"):
                break
            assert time.monotonic() < deadline, f"not resumed: {job['status']}"
            time.sleep(0.2)
        assert job["status"] == "completed", job
        rows = httpx.get(
            f"{again.v04}/jobs/{job_id}/progress", params={"all": "true"}, headers=headers, timeout=30
        ).json()["progress"]
        iterations = [r["iteration"] for r in rows]
        assert iterations == list(range(1, 41)) and len(rows) > before
        children = httpx.get(
            f"{again.v04}/jobs", params={"parent_job_id": job_id, "limit": 1000}, headers=headers, timeout=30
        ).json()["jobs"]
        assert len(children) == 2 * 40  # recorded evaluations replayed, not run again
    finally:
        stop_server(again)
