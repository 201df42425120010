"""Tiny-job throughput: K concurrent HTTP clients submit Bell jobs and fetch their probabilities.

Reference, same box, same run, same client: a bare FastAPI + SQLite endpoint (insert + select per
request, bench/bare_app.py). Target (issue 2): Qumulus jobs/s ≥ 0.30 × the bare request rate.

Each Qumulus job is what the issue names: submit a Bell job (POST /v0.4/jobs), fetch its
probabilities. The POST answers once the job is durable and, for a tiny job, usually already
``completed``; a client that gets any other status polls GET /v0.4/jobs/{id} first (counted as extra
polls). ``--poll`` adds one GET of the job to every job, as qiskit-ionq does, and is reported beside.
The load comes from a minimal keep-alive HTTP client (bench/_http.py) so that the load generator,
which shares the two cores, takes as little as possible from either server.

Besides rates (which drift with whatever else the box runs), the table shows each server's own CPU
time per item (process and its children), the figure that load on the box disturbs least.

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

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import Server, emit, free_port, print_table, start_qumulus
from _http import CLIENTS, RawConnection

BELL = (
    b'{"type":"ionq.circuit.v1","backend":"simulator","shots":100,"input":{"qubits":2,'
    b'"circuit":[{"gate":"h","target":0},{"gate":"cnot","control":0,"target":1}]}}'
)


async def _drive(clients: int, seconds: float, one, headers: dict[str, str], port: int, kind: str):  # type: ignore[no-untyped-def]
    """``clients`` coroutines, one keep-alive connection each, repeating ``one`` for ``seconds``."""
    latencies: list[float] = []
    counters = {"requests": 0}
    stop_at = time.perf_counter() + seconds
    connections = [CLIENTS[kind]("127.0.0.1", port, headers) for _ in range(clients)]

    async def loop(conn: RawConnection) -> None:
        while time.perf_counter() < stop_at:
            started = time.perf_counter()
            await one(conn, counters)
            latencies.append(time.perf_counter() - started)

    began = time.perf_counter()
    try:
        await asyncio.gather(*(loop(c) for c in connections))
    finally:
        for conn in connections:
            conn.close()
    return len(latencies), latencies, time.perf_counter() - began, counters


def run_bare(port: int, clients: int, seconds: float, kind: str) -> dict[str, float]:
    async def one(conn: RawConnection, counters: dict[str, int]) -> None:
        status, body = await conn.request("POST", "/items", b'{"circuit":"bell"}')
        assert status == 201, body
        counters["requests"] += 1

    asyncio.run(_drive(clients, 1.0, one, {}, port, kind))  # warm up
    return _measured(port, lambda: asyncio.run(_drive(clients, seconds, one, {}, port, kind)))


def run_qumulus(
    port: int, key: str, clients: int, seconds: float, kind: str, *, poll: bool = False
) -> dict[str, float]:
    headers = {"Authorization": f"apiKey {key}"}

    async def one(conn: RawConnection, counters: dict[str, int]) -> None:
        status, created = await conn.json("POST", "/v0.4/jobs", BELL)
        assert status == 201, created
        counters["requests"] += 1
        job_url = f"/v0.4/jobs/{created['id']}"
        state, first = created["status"], True
        while (poll and first) or state != "completed":
            _, job = await conn.json("GET", job_url)
            counters["requests"] += 1
            state = job["status"]
            if state != "completed":
                assert state in ("submitted", "ready", "started"), job
                counters["polls"] = counters.get("polls", 0) + 1
                await asyncio.sleep(0.001)
            first = False
        status, probs = await conn.json("GET", f"{job_url}/results/probabilities")
        counters["requests"] += 1
        assert status == 200 and probs.keys() == {"0", "3"}, probs

    asyncio.run(_drive(clients, 1.0, one, headers, port, kind))  # warm up
    return _measured(port, lambda: asyncio.run(_drive(clients, seconds, one, headers, port, kind)))


def _measured(port: int, run) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """Run, and add the serving process's CPU time per item (itself and its children)."""
    server = SERVERS[port]
    before = _cpu_seconds(server)
    figures = _summary(*run())
    figures["server_cpu_ms"] = 1000 * (_cpu_seconds(server) - before) / max(figures["count"], 1)
    return figures


SERVERS: dict[int, Server] = {}


def _cpu_seconds(server: Server) -> float:
    import psutil

    process = psutil.Process(server.process.pid)
    total = 0.0
    for p in [process, *process.children(recursive=True)]:
        try:
            times = p.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


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
    keys = ("rate", "p50_ms", "p99_ms", "count", "requests_per_item", "extra_polls_per_item", "server_cpu_ms")
    return [label, *(figures.get(k, 0.0) for k in keys)]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="a smaller run, under a minute")
    parser.add_argument("--clients", type=int, default=None, help="concurrent clients (default 16, quick 8)")
    parser.add_argument("--seconds", type=float, default=None, help="measured seconds per system and round")
    parser.add_argument("--rounds", type=int, default=None, help="alternating rounds (default 3, quick 1)")
    parser.add_argument("--no-poll", action="store_true", help="skip the --poll variant (one GET per job)")
    parser.add_argument(
        "--client",
        choices=["httpx", "raw"],
        default=None,
        help="load generator (default: both; quick: httpx)",
    )
    args = parser.parse_args()
    clients = args.clients or (8 if args.quick else 16)
    seconds = args.seconds or (6.0 if args.quick else 8.0)
    rounds = args.rounds or (1 if args.quick else 3)

    kinds = [args.client] if args.client else (["httpx"] if args.quick else ["httpx", "raw"])
    bares: dict[str, list[dict[str, float]]] = {k: [] for k in kinds}
    ours: dict[str, list[dict[str, float]]] = {k: [] for k in kinds}
    polled: dict[str, list[dict[str, float]]] = {k: [] for k in kinds}
    with_poll = not args.no_poll
    with tempfile.TemporaryDirectory(prefix="qumulus-bench-") as tmp:
        bare_port = free_port()
        bare_server = Server(
            [sys.executable, str(Path(__file__).with_name("bare_app.py")), str(bare_port), f"{tmp}/bare.db"],
            f"http://127.0.0.1:{bare_port}/health",
        )
        port = free_port()
        # One key drives well over the default per-key limit (1000 requests/s): raise it so the bench
        # measures throughput, with the limiter still checking every request.
        server, key = start_qumulus(
            Path(tmp) / "data", port, env={"QUMULUS_RATE_LIMIT_PER_MINUTE": "100000000"}
        )
        SERVERS.update({bare_port: bare_server, port: server})
        with bare_server, server:
            # Alternate the two systems so drifting load on a shared box hits both alike.
            for _ in range(rounds):
                for kind in kinds:
                    bares[kind].append(run_bare(bare_port, clients, seconds, kind))
                    ours[kind].append(run_qumulus(port, key, clients, seconds, kind))
                    if with_poll:
                        polled[kind].append(run_qumulus(port, key, clients, seconds, kind, poll=True))

    summary: dict[str, object] = {"bench": "tiny_jobs", "clients": clients, "seconds": seconds}
    summary.update(rounds=rounds, target_ratio=0.30)
    for kind in kinds:
        ratios = sorted(o["rate"] / b["rate"] for o, b in zip(ours[kind], bares[kind], strict=True))
        ratio = statistics.median(ratios)
        rows = []
        for n, (b, o) in enumerate(zip(bares[kind], ours[kind], strict=True), 1):
            rows.append(_row(f"round {n}: bare FastAPI+SQLite (insert+select)", b))
            rows.append(_row(f"round {n}: Qumulus job (submit, fetch probabilities)", o))
            if with_poll:
                rows.append(_row(f"round {n}: Qumulus job + one GET of the job", polled[kind][n - 1]))
        print_table(
            f"Tiny Bell jobs, {kind} client: {clients} concurrent, {seconds:.0f} s per system per round",
            [
                "system",
                "items/s",
                "p50 ms",
                "p99 ms",
                "items",
                "HTTP req/item",
                "extra polls/item",
                "server CPU ms/item",
            ],
            rows,
        )
        print(f"[{kind}] Qumulus jobs/s ÷ bare requests/s per round: {', '.join(f'{r:.3f}' for r in ratios)}")
        print(f"[{kind}] median ratio = {ratio:.3f} (target ≥ 0.30)")
        cpu_ratio = statistics.median(b["server_cpu_ms"] for b in bares[kind]) / statistics.median(
            o["server_cpu_ms"] for o in ours[kind]
        )
        print(f"[{kind}] bare server CPU per request ÷ Qumulus server CPU per job = {cpu_ratio:.3f}")
        prefix = "" if kind == kinds[0] else f"{kind}_"
        if with_poll:
            summary[f"{prefix}polled_ratio"] = round(
                statistics.median(
                    p["rate"] / b["rate"] for p, b in zip(polled[kind], bares[kind], strict=True)
                ),
                3,
            )
        summary.update(
            {
                f"{prefix}client": kind,
                f"{prefix}jobs_per_s": round(statistics.median(o["rate"] for o in ours[kind]), 1),
                f"{prefix}job_p50_ms": round(statistics.median(o["p50_ms"] for o in ours[kind]), 2),
                f"{prefix}job_p99_ms": round(statistics.median(o["p99_ms"] for o in ours[kind]), 2),
                f"{prefix}bare_requests_per_s": round(statistics.median(b["rate"] for b in bares[kind]), 1),
                f"{prefix}ratio": round(ratio, 3),
                f"{prefix}ratio_range": [round(ratios[0], 3), round(ratios[-1], 3)],
                f"{prefix}cpu_ratio": round(cpu_ratio, 3),
                f"{prefix}job_server_cpu_ms": round(
                    statistics.median(o["server_cpu_ms"] for o in ours[kind]), 3
                ),
                f"{prefix}bare_server_cpu_ms": round(
                    statistics.median(b["server_cpu_ms"] for b in bares[kind]), 3
                ),
            }
        )
    print(
        "httpx: a typical Python client (the IonQ SDKs use requests, which costs more) on the same 2 cores;\n"
        "raw: a minimal keep-alive client (bench/_http.py), so the ratio is close to the servers' own costs."
    )
    emit(summary)


if __name__ == "__main__":
    main()
