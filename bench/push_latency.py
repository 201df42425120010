"""How soon ``job.result()`` returns after the server finishes a job: push (SSE) against polling.

Each job runs for about a second (longer than ``POST /jobs``'s own wait, so it is still running
when the client starts waiting). The latency is the client's clock when ``wait_for_final_state``
returns minus the job's ``completed_at`` as the server recorded it (same machine, same clock;
``completed_at`` has millisecond resolution). Modes:

* ``push``: the SDK default, ``GET /v0.4/jobs/{id}/events`` (Server-Sent Events);
* ``push asyncio``: the same stream read on an event loop (``await job.aio.wait_for_final_state()``);
* ``poll 1 s`` and ``poll 5 s``: ``wait_for_final_state(wait=...)``, plain polling at qiskit-style
  intervals (qiskit's ``JobV1`` default is 5 s).

    python bench/push_latency.py [--quick] [--jobs N]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import emit, free_port, print_table, start_qumulus


def one_second_circuit(qubits: int = 18, layers: int = 12) -> dict:
    layer = [{"gate": "h", "target": q} for q in range(qubits)]
    layer += [{"gate": "cnot", "control": q, "target": q + 1} for q in range(qubits - 1)]
    return {"qubits": qubits, "circuit": layer * layers}


def measure(backend, jobs: int, poll: float | str | None) -> list[float]:  # type: ignore[no-untyped-def]
    latencies = []
    for _ in range(jobs):
        job = backend.run(one_second_circuit(), shots=10)
        if poll == "asyncio":
            asyncio.run(job.aio.wait_for_final_state(timeout=120))
        else:
            job.wait_for_final_state(timeout=120, wait=poll)
        returned = time.time()
        if job.data["status"] != "started" and job.data.get("completed_at"):
            done = datetime.fromisoformat(job.data["completed_at"].replace("Z", "+00:00")).timestamp()
            latencies.append(returned - done)
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="fewer jobs, no 5 s polling")
    parser.add_argument("--jobs", type=int, default=None, help="jobs per mode (default 10, quick 4)")
    args = parser.parse_args()
    jobs = args.jobs or (4 if args.quick else 10)
    modes: list[tuple[str, float | str | None]] = [
        ("push", None),
        ("push asyncio", "asyncio"),
        ("poll 1 s", 1.0),
    ]
    if not args.quick:
        modes.append(("poll 5 s", 5.0))

    os.environ["QUMULUS_CONFIG_DIR"] = tempfile.mkdtemp(prefix="qumulus-bench-sdk-")
    from qumulus import Qumulus

    with tempfile.TemporaryDirectory(prefix="qumulus-bench-push-") as tmp:
        port = free_port()
        server, key = start_qumulus(Path(tmp) / "data", port, env={"QUMULUS_POOL_PROCESSES": "1"})
        with server:
            backend = Qumulus.enable_account(key, url=f"http://127.0.0.1:{port}").get_backend("simulator")
            backend.run(one_second_circuit(), shots=10).result(timeout=120)  # warm-up
            rows = []
            summary: dict[str, float] = {}
            for label, poll in modes:
                values = measure(backend, jobs, poll)
                ms = [v * 1000 for v in values]
                rows.append((label, len(ms), statistics.median(ms), max(ms)))
                summary[f"{label.replace(' ', '_')}_median_ms"] = round(statistics.median(ms), 1)
    print_table(
        "result() latency after the server completes a job", ["mode", "jobs", "median ms", "max ms"], rows
    )
    emit({"bench": "push_latency", "jobs_per_mode": jobs, **summary})


if __name__ == "__main__":
    main()
