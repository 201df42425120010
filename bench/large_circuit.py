"""Large circuits: end-to-end time through the platform vs calling the engine directly.

For random depth-20 circuits at 20, 24 and 26 qubits (random rx/ry/rz on every qubit per layer, then
a random perfect matching with cnot or xx), measure in the same run:

* engine direct: the routed engine builds its circuit, simulates and returns the probabilities
  (numpy, in this process; the engine is imported and warmed up first);
* platform: ``POST /v0.4/jobs`` to a running ``qumulus serve`` until ``GET /v0.4/jobs/{id}`` says
  ``completed`` — parse, queue, claim, simulate in the pool, store the distribution, commit.

Target (issue 2): platform ÷ engine-direct ≤ 1.10 at 24 and 26 qubits. Downloading the result as
JSON is reported separately: a 26-qubit distribution is 67 M entries (~2 GB of JSON), a transfer,
not a computation.

    python bench/large_circuit.py [--quick] [--sizes 20,24,26] [--runs N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import emit, free_port, print_table, start_qumulus
from large_circuit_engines import engine_direct_seconds, random_ionq_circuit, to_circuit

DEPTH = 20


def platform_seconds(client: httpx.Client, payload: dict) -> tuple[float, str, str]:
    """Seconds from POST until the job is completed, the job id and the engine that ran it."""
    started = time.perf_counter()
    created = client.post(
        "/v0.4/jobs", json={"type": "ionq.circuit.v1", "backend": "simulator", "input": payload}
    )
    created.raise_for_status()
    job_id = created.json()["id"]
    while True:  # long-poll (?wait=), so polling does not steal CPU from the simulation
        job = client.get(f"/v0.4/jobs/{job_id}", params={"wait": 30}).json()
        if job["status"] == "completed":
            return time.perf_counter() - started, job_id, job.get("engine", "?")
        if job["status"] in ("failed", "canceled"):
            raise RuntimeError(f"job {job_id} {job['status']}: {job.get('failure')}")


def download_seconds(client: httpx.Client, job_id: str) -> tuple[float, int]:
    started = time.perf_counter()
    size = 0
    with client.stream("GET", f"/v0.4/jobs/{job_id}/results/probabilities") as response:
        for chunk in response.iter_bytes():
            size += len(chunk)
    return time.perf_counter() - started, size


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--quick", action="store_true", help="20 and 24 qubits, one run each (under a minute)"
    )
    parser.add_argument("--sizes", default=None, help="comma-separated qubit counts (default 20,24,26)")
    parser.add_argument("--runs", type=int, default=None, help="runs per size (default 2; quick 1)")
    parser.add_argument("--download", action="store_true", help="also time the JSON download at every size")
    args = parser.parse_args()
    sizes = (
        [int(s) for s in args.sizes.split(",")] if args.sizes else ([20, 24] if args.quick else [20, 24, 26])
    )
    runs = args.runs or (1 if args.quick else 2)

    rows = []
    ratios: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="qumulus-bench-") as tmp:
        server, key = start_qumulus(Path(tmp) / "data", free_port())
        with (
            server,
            httpx.Client(
                base_url=server_url(server), headers={"Authorization": f"apiKey {key}"}, timeout=600
            ) as client,
        ):
            platform_seconds(client, random_ionq_circuit(2, 1, seed=0))  # warm the pool
            for n in sizes:
                payload = random_ionq_circuit(n, DEPTH, seed=n)
                direct, through, engine = [], [], "?"
                for _ in range(runs):  # interleaved, so a burst of load hits both alike
                    direct.append(engine_direct_seconds(payload))
                    seconds, job_id, engine = platform_seconds(client, payload)
                    through.append(seconds)
                d, p = statistics.median(direct), statistics.median(through)
                fetch = download_seconds(client, job_id) if (args.download or n <= 20) else (float("nan"), 0)
                ratios[str(n)] = round(p / d, 3)
                gates = len(to_circuit(payload).operations)
                rows.append([n, gates, engine, d, p, p / d, fetch[0], fetch[1] / 1e6])
    print_table(
        f"Random depth-{DEPTH} circuits: platform end to end vs engine direct (median of {runs})",
        ["qubits", "gates", "engine", "direct s", "platform s", "ratio", "JSON download s", "JSON MB"],
        rows,
    )
    print("ratio = platform ÷ engine direct (target ≤ 1.10 at 24 and 26 qubits); download not included")
    emit(
        {
            "bench": "large_circuit",
            "depth": DEPTH,
            "runs": runs,
            "ratio_by_qubits": ratios,
            "target_ratio": 1.10,
        }
    )


def server_url(server: object) -> str:
    args = server.process.args  # type: ignore[attr-defined]
    return f"http://127.0.0.1:{args[args.index('--port') + 1]}"


if __name__ == "__main__":
    main()
