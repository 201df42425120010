"""Tiny-job throughput: K concurrent HTTP clients submit Bell jobs and fetch their probabilities.

Reference, same box, same run, same client: a bare FastAPI + SQLite endpoint (insert + select per
request, bench/bare_app.py). Target (issue 2): Qumulus jobs/s ≥ 0.30 × the bare request rate.

Each Qumulus job is what a user's client does: POST /v0.4/jobs, GET /v0.4/jobs/{id} until completed,
GET the probabilities URL. The job is durable (committed) before its id comes back.

    python bench/tiny_jobs.py [--quick] [--clients K] [--seconds S]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import Server, emit, free_port, print_table, start_qumulus

BELL = (
    b'{"type":"ionq.circuit.v1","backend":"simulator","shots":100,"input":{"qubits":2,'
    b'"circuit":[{"gate":"h","target":0},{"gate":"cnot","control":0,"target":1}]}}'
)


async def _drive(clients: int, seconds: float, one) -> tuple[int, list[float], float, dict[str, int]]:  # type: ignore[no-untyped-def]
    latencies: list[float] = []
    counters = {"requests": 0}
    stop_at = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(limits=limits, timeout=60) as client:

        async def loop() -> None:
            while time.perf_counter() < stop_at:
                started = time.perf_counter()
                await one(client, counters)
                latencies.append(time.perf_counter() - started)

        began = time.perf_counter()
        await asyncio.gather(*(loop() for _ in range(clients)))
        elapsed = time.perf_counter() - began
    return len(latencies), latencies, elapsed, counters


def run_bare(port: int, clients: int, seconds: float) -> dict[str, float]:
    url = f"http://127.0.0.1:{port}/items"

    async def one(client: httpx.AsyncClient, counters: dict[str, int]) -> None:
        response = await client.post(url, content=b'{"circuit":"bell"}')
        assert response.status_code == 201, response.text
        counters["requests"] += 1

    asyncio.run(_drive(clients, 1.0, one))  # warm up
    done, latencies, elapsed, counters = asyncio.run(_drive(clients, seconds, one))
    return _summary(done, latencies, elapsed, counters)


def run_qumulus(port: int, key: str, clients: int, seconds: float) -> dict[str, float]:
    base = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"apiKey {key}"}

    async def one(client: httpx.AsyncClient, counters: dict[str, int]) -> None:
        created = await client.post(f"{base}/v0.4/jobs", content=BELL, headers=headers)
        assert created.status_code == 201, created.text
        job_id = created.json()["id"]
        counters["requests"] += 1
        while True:
            job = (await client.get(f"{base}/v0.4/jobs/{job_id}", headers=headers)).json()
            counters["requests"] += 1
            if job["status"] == "completed":
                break
            assert job["status"] in ("submitted", "ready", "started"), job
            counters["polls"] = counters.get("polls", 0) + 1
            await asyncio.sleep(0.001)
        probs = await client.get(base + job["results"]["probabilities"]["url"], headers=headers)
        counters["requests"] += 1
        assert probs.json().keys() == {"0", "3"}

    asyncio.run(_drive(clients, 1.0, one))  # warm up
    done, latencies, elapsed, counters = asyncio.run(_drive(clients, seconds, one))
    return _summary(done, latencies, elapsed, counters)


def _summary(done: int, latencies: list[float], elapsed: float, counters: dict[str, int]) -> dict[str, float]:
    ordered = sorted(latencies)
    return {
        "rate": done / elapsed,
        "p50_ms": 1000 * statistics.median(ordered),
        "p99_ms": 1000 * ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))],
        "count": done,
        "requests_per_item": counters["requests"] / max(done, 1),
        "extra_polls_per_item": counters.get("polls", 0) / max(done, 1),
    }


def _row(label: str, figures: dict[str, float]) -> list[object]:
    keys = ("rate", "p50_ms", "p99_ms", "count", "requests_per_item", "extra_polls_per_item")
    return [label, *(figures.get(k, 0.0) for k in keys)]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="a smaller run, under a minute")
    parser.add_argument("--clients", type=int, default=None, help="concurrent clients (default 16, quick 8)")
    parser.add_argument("--seconds", type=float, default=None, help="measured seconds per system and round")
    parser.add_argument("--rounds", type=int, default=None, help="alternating rounds (default 5, quick 1)")
    args = parser.parse_args()
    clients = args.clients or (8 if args.quick else 16)
    seconds = args.seconds or (6.0 if args.quick else 8.0)
    rounds = args.rounds or (1 if args.quick else 5)

    bares: list[dict[str, float]] = []
    ours: list[dict[str, float]] = []
    with tempfile.TemporaryDirectory(prefix="qumulus-bench-") as tmp:
        bare_port = free_port()
        bare_server = Server(
            [sys.executable, str(Path(__file__).with_name("bare_app.py")), str(bare_port), f"{tmp}/bare.db"],
            f"http://127.0.0.1:{bare_port}/health",
        )
        port = free_port()
        server, key = start_qumulus(Path(tmp) / "data", port)
        with bare_server, server:
            # Alternate the two systems so drifting load on a shared box hits both alike.
            for _ in range(rounds):
                bares.append(run_bare(bare_port, clients, seconds))
                ours.append(run_qumulus(port, key, clients, seconds))

    ratios = sorted(o["rate"] / b["rate"] for o, b in zip(ours, bares, strict=True))
    ratio = statistics.median(ratios)
    rows = []
    for n, (b, o) in enumerate(zip(bares, ours, strict=True), 1):
        rows.append(_row(f"round {n}: bare FastAPI+SQLite (insert+select)", b))
        rows.append(_row(f"round {n}: Qumulus job end to end", o))
    print_table(
        f"Tiny Bell jobs: {clients} concurrent clients, {seconds:.0f} s per system per round, same box",
        ["system", "items/s", "p50 ms", "p99 ms", "items", "HTTP requests/item", "extra polls/item"],
        rows,
    )
    print(f"Qumulus jobs/s ÷ bare requests/s per round: {', '.join(f'{r:.3f}' for r in ratios)}")
    print(f"median ratio = {ratio:.3f} (target ≥ 0.30)")
    best = ours[max(range(len(ours)), key=lambda i: ours[i]["rate"] / bares[i]["rate"])]
    emit(
        {
            "bench": "tiny_jobs",
            "clients": clients,
            "seconds": seconds,
            "rounds": rounds,
            "jobs_per_s": round(statistics.median(o["rate"] for o in ours), 1),
            "job_p50_ms": round(statistics.median(o["p50_ms"] for o in ours), 2),
            "job_p99_ms": round(statistics.median(o["p99_ms"] for o in ours), 2),
            "bare_requests_per_s": round(statistics.median(b["rate"] for b in bares), 1),
            "ratio": round(ratio, 3),
            "ratio_min": round(ratios[0], 3),
            "ratio_max": round(ratios[-1], 3),
            "target_ratio": 0.30,
            "best_round_jobs_per_s": round(best["rate"], 1),
        }
    )


if __name__ == "__main__":
    main()
