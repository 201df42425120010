"""A broker in front of an upstream Qumulus: what forwarding costs, with push and with polling.

Two ``qumulus serve`` processes: the upstream (plays the provider) and the broker, which declares
``upstream.push`` (the upstream's simulator, Server-Sent Events) and ``upstream.poll`` (the same,
polling from 0.2 s up to 2 s), both with ``max_outstanding = 8``. The same Bell jobs are submitted
all at once directly to the upstream, then to each broker backend. From the servers' own timestamps:

* throughput: jobs / (last ``completed_at`` - first ``submitted_at``);
* the broker's added latency per job: broker ``completed_at`` - upstream ``completed_at`` of the
  provider job (how fast a provider's completion becomes the local one: push vs polling).

    python bench/broker.py            # 60 jobs per run
    python bench/broker.py --quick    # 20 jobs per run, under a minute on a quiet box
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _common import emit, print_table  # noqa: I001 - after the path set-up above
from tests.drivers.broker import Server

BELL = {"qubits": 2, "circuit": [{"gate": "h", "targets": [0]}, {"gate": "cnot", "control": 0, "target": 1}]}


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _backends(upstream: str) -> str:
    common = '[backend.credential]\nenv = "UPSTREAM_KEY"\n'
    return f"""
[[backend]]
name = "upstream.push"
driver = "ionq"
qubits = 29
max_outstanding = 8
{common}[backend.options]
url = "{upstream}"
target = "simulator"

[[backend]]
name = "upstream.poll"
driver = "ionq"
qubits = 29
max_outstanding = 8
{common}[backend.options]
url = "{upstream}"
target = "simulator"
push = "off"
[backend.timing]
poll_first = 0.2
poll_cap = 2.0
"""


def _run(server: Server, backend: str, n: int) -> list[dict]:
    body = {"type": "ionq.circuit.v1", "backend": backend, "shots": 100, "input": BELL}
    ids = [server.api("POST", "/jobs", json=body)["id"] for _ in range(n)]
    return [server.wait_job(job_id, timeout=600) for job_id in ids]


def _throughput(done: list[dict]) -> float:
    start = min(_when(j["submitted_at"]) for j in done)
    end = max(_when(j["completed_at"]) for j in done)
    return len(done) / max(1e-9, (end - start).total_seconds())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--jobs", type=int, default=None)
    args = parser.parse_args()
    n = args.jobs or (20 if args.quick else 60)
    root = Path(tempfile.mkdtemp(prefix="qumulus-bench-broker-"))
    upstream = Server(root / "upstream" / "data", env={"QUMULUS_POOL_PROCESSES": "2"}).start()
    (root / "backends.toml").write_text(_backends(upstream.url))
    broker = Server(
        root / "broker" / "data",
        env={"QUMULUS_BACKENDS_FILE": str(root / "backends.toml"), "UPSTREAM_KEY": upstream.key},
    ).start()
    try:
        org = broker.api("GET", "/organizations")["organizations"][0]["id"]
        broker.api(
            "POST", f"/organizations/{org}/contracts", json={"backend": "upstream.*", "rate_per_second": "0"}
        )
        _run(upstream, "simulator", 4)  # warm both paths up
        _run(broker, "upstream.push", 4)
        rows, summary = [], {"jobs": n, "load_1min": round(os.getloadavg()[0], 2)}
        direct = _run(upstream, "simulator", n)
        rows.append(("direct to the upstream", n, _throughput(direct), "-", "-"))
        summary["direct_jobs_per_s"] = round(_throughput(direct), 2)
        for backend in ("upstream.push", "upstream.poll"):
            done = _run(broker, backend, n)
            added = []
            for job in done:
                (provider_id,) = broker.sql(
                    "SELECT provider_job_id FROM executions WHERE job_id = ?", job["id"]
                )[0]
                up = upstream.api("GET", f"/jobs/{provider_id}")
                added.append((_when(job["completed_at"]) - _when(up["completed_at"])).total_seconds() * 1000)
            added.sort()
            median, p95 = statistics.median(added), added[int(0.95 * (len(added) - 1))]
            rows.append((f"through the broker ({backend.split('.')[1]})", n, _throughput(done), median, p95))
            key = backend.split(".")[1]
            summary[f"{key}_jobs_per_s"] = round(_throughput(done), 2)
            summary[f"{key}_added_ms_median"] = round(median, 1)
            summary[f"{key}_added_ms_p95"] = round(p95, 1)
        print_table(
            f"Bell jobs (100 shots), max_outstanding 8, load {summary['load_1min']}",
            ["path", "jobs", "jobs/s", "added ms (median)", "added ms (p95)"],
            rows,
        )
    finally:
        broker.stop()
        upstream.stop()
    time.sleep(0.1)
    emit(summary)


if __name__ == "__main__":
    main()
