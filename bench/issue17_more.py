# ruff: noqa: E501 - one printed line per finding reads best whole
"""Issue 17's items 6-14 re-run against a live server (called by bench/issue17.py).

Each request is the issue's own (or its stated shape); every answer's status goes into ``codes`` so
the caller's count of 5xx covers them. Returns the figures for the final JSON line.
"""

from __future__ import annotations

import json
import selectors
import socket
import statistics
import threading
import time
from pathlib import Path
from typing import Any

import httpx

LONE = "\ud800"
X = {"gate": "x", "target": 0}


def later_items(
    server: Any, c: httpx.Client, codes: list[int], *, short_job: str, quick: bool
) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    v04 = server.v04
    figures.update(_large_body(v04, c, codes, mb=20 if quick else 62))
    figures.update(_slow_connections(server.url, v04, c, codes, count=50 if quick else 400))
    figures.update(_disconnect(server))
    figures.update(_surrogates(v04, c, codes, short_job))
    figures.update(_strict_types(v04, c, codes))
    figures.update(_session_and_webhook(v04, c, codes))
    figures.update(_gate_limits(v04, c, codes, quick))
    return figures


def _send(c: httpx.Client, codes: list[int], method: str, url: str, body: Any = None) -> httpx.Response:
    """``body`` as JSON text with ``\\uXXXX`` escapes (a lone surrogate cannot be UTF-8 encoded)."""
    content = None if body is None else json.dumps(body)
    headers = {"Content-Type": "application/json"} if content is not None else {}
    r = c.request(method, url, content=content, headers=headers)
    codes.append(r.status_code)
    return r


def _field(r: httpx.Response) -> str:
    try:
        return str(r.json().get("message", ""))[:100]
    except ValueError:
        return r.text[:100]


def _small_gets(
    v04: str, key_headers: dict[str, str], seconds: float, stop: threading.Event | None = None
) -> list[float]:
    """Latencies (ms) of small GETs (every 20 ms, one keep-alive connection) for ``seconds``
    or until ``stop`` is set."""
    out: list[float] = []
    end = time.monotonic() + seconds
    with httpx.Client(timeout=60, headers=key_headers) as client:
        while time.monotonic() < end and not (stop is not None and stop.is_set()):
            t = time.perf_counter()
            client.get(f"{v04}/backends/simulator")
            out.append((time.perf_counter() - t) * 1000)
            time.sleep(0.02)
    return out


# --- 17.6: a large body while small GETs are timed ------------------------------------------------


def _large_body(v04: str, c: httpx.Client, codes: list[int], mb: int) -> dict[str, Any]:
    gate = json.dumps(X) + ", "
    n = mb * 1_000_000 // len(gate)
    body = (
        '{"type": "ionq.circuit.v1", "backend": "simulator", "input": {"qubits": 1, "circuit": ['
        + gate * (n - 1)
        + json.dumps(X)
        + "]}}"
    ).encode()
    headers = dict(c.headers)
    baseline = _small_gets(v04, headers, 3.0)
    done = threading.Event()
    answer: list[httpx.Response] = []

    def post() -> None:
        try:
            answer.append(c.post(f"{v04}/jobs", content=body, headers={"Content-Type": "application/json"}))
        finally:
            done.set()

    thread = threading.Thread(target=post)
    thread.start()
    during = _small_gets(v04, headers, 120.0, stop=done)
    thread.join()
    codes.append(answer[0].status_code)
    print(
        f"17.6 {len(body) / 1e6:.0f} MB body ({n} gates) -> {answer[0].status_code} {_field(answer[0])!r}; "
        f"small GETs meanwhile: {len(during)}, longest {max(during):.0f} ms, median {statistics.median(during):.0f} ms "
        f"(alone: longest {max(baseline):.0f} ms, median {statistics.median(baseline):.0f} ms)"
    )
    return {"large_body_mb": round(len(body) / 1e6), "large_body_status": answer[0].status_code,
            "small_get_longest_ms_during": round(max(during)), "small_get_longest_ms_alone": round(max(baseline))}  # fmt: skip


# --- 17.7: slow header and body connections ------------------------------------------------------


def _slow_connections(url: str, v04: str, c: httpx.Client, codes: list[int], count: int) -> dict[str, Any]:
    host, port = url.removeprefix("http://").split(":")
    auth = f"Authorization: {c.headers['Authorization']}\r\n".encode()  # so the body is what is waited for
    selector = selectors.DefaultSelector()
    opened = time.monotonic()
    for i in range(count):
        sock = socket.create_connection((host, int(port)), timeout=10)
        if i % 2 == 0:  # headers that never finish
            sock.sendall(b"POST /v0.4/jobs HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        else:  # a body that never finishes
            sock.sendall(
                b"POST /v0.4/jobs HTTP/1.1\r\nHost: x\r\n"
                + auth
                + b'Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"a": '
            )
        sock.setblocking(False)
        selector.register(
            sock, selectors.EVENT_READ, {"kind": "header" if i % 2 == 0 else "body", "data": b""}
        )
    during = _small_gets(v04, dict(c.headers), 2.0)
    closed: dict[str, list[float]] = {"header": [], "body": []}
    statuses: dict[str, list[int]] = {"header": [], "body": []}
    deadline = time.monotonic() + 30
    while selector.get_map() and time.monotonic() < deadline:
        for key, _ in selector.select(timeout=1):
            info, sock = key.data, key.fileobj
            try:
                chunk = sock.recv(65536)  # type: ignore[union-attr]
            except BlockingIOError:
                continue
            except OSError:
                chunk = b""
            if chunk:
                info["data"] += chunk
                continue
            selector.unregister(sock)
            sock.close()  # type: ignore[union-attr]
            closed[info["kind"]].append(time.monotonic() - opened)
            head = info["data"].split(b"\r\n", 1)[0]
            if head.startswith(b"HTTP/1.1 "):
                statuses[info["kind"]].append(int(head.split()[1]))
    still = len(selector.get_map())
    for key in list(selector.get_map().values()):
        key.fileobj.close()  # type: ignore[union-attr]
    codes.extend(statuses["header"] + statuses["body"])
    print(
        f"17.7 {count} slow connections (half headers, half body; timeouts 2 s / 5 s): "
        f"headers: {len(closed['header'])} closed by the server within {max(closed['header'], default=0):.1f} s, answers {sorted(set(statuses['header']))}; "
        f"bodies: {len(closed['body'])} closed within {max(closed['body'], default=0):.1f} s, answers {sorted(set(statuses['body']))}; "
        f"still open after 30 s: {still}; small GETs meanwhile: longest {max(during):.0f} ms"
    )
    return {"slow_connections": count, "slow_still_open": still, "slow_body_statuses": sorted(set(statuses["body"])),
            "small_get_longest_ms_slow": round(max(during))}  # fmt: skip


# --- 17.8: a client that goes away ----------------------------------------------------------------


def _disconnect(server: Any) -> dict[str, Any]:
    log = Path(server.data_dir).parent / f"server-{server.url.rsplit(':', 1)[1]}.log"
    before = log.read_text(errors="replace") if log.exists() else ""
    host, port = server.url.removeprefix("http://").split(":")
    for _ in range(20):
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            sock.sendall(b'POST /v0.4/jobs HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"a": 1')
    time.sleep(1.0)
    text = (log.read_text(errors="replace") if log.exists() else "")[len(before) :]
    tracebacks = text.count("Traceback")
    print(
        f"17.8 20 clients that went away mid-body: {len(text.encode())} bytes of server log, {tracebacks} tracebacks "
        "(keep-alive 500: not re-run, no legitimate request provokes a 500; tests/api/test_http_edges.py)"
    )
    return {"disconnect_log_bytes": len(text.encode()), "disconnect_tracebacks": tracebacks}


# --- 17.9: lone surrogates ---------------------------------------------------------------------


def _surrogates(v04: str, c: httpx.Client, codes: list[int], job_id: str) -> dict[str, Any]:
    me = c.get(f"{v04}/whoami").json()
    org, project = me["organization_id"], me["project_id"]
    bell = {
        "type": "ionq.circuit.v1",
        "backend": "simulator",
        "shots": 10,
        "input": {"qubits": 1, "circuit": [X]},
    }
    cases = [
        ("job name", "POST", "/jobs", {**bell, "name": f"x{LONE}"}),
        ("job tags", "POST", "/jobs", {**bell, "tags": ["ok", LONE]}),
        ("metadata value", "POST", "/jobs", {**bell, "metadata": {"m": LONE}}),
        ("metadata key", "POST", "/jobs", {**bell, "metadata": {LONE: "v"}}),
        ("organization name", "POST", "/organizations", {"name": LONE}),
        ("project name", "POST", f"/organizations/{org}/projects", {"name": f"p{LONE}"}),
        ("key name", "POST", f"/projects/{project}/keys", {"name": f"k{LONE}"}),
        ("member email", "POST", f"/organizations/{org}/members", {"email": f"a{LONE}@b.test"}),
        ("status message", "PUT", "/backends/simulator/status", {"status": "available", "message": LONE}),
        ("PATCH job tags", "PATCH", f"/jobs/{job_id}", {"tags": [LONE]}),
    ]
    seen = []
    for label, method, path, body in cases:
        r = _send(c, codes, method, f"{v04}{path}", body)
        seen.append(f"{label} {r.status_code}")
    reads = [c.get(f"{v04}/jobs/{job_id}").status_code, c.get(f"{v04}/jobs").status_code]
    codes.extend(reads)
    print(f"17.9 lone surrogates: {', '.join(seen)}; then GET /jobs/{{id}} {reads[0]}, GET /jobs {reads[1]}")
    return {"surrogate_statuses": sorted({int(x.rsplit(" ", 1)[1]) for x in seen})}


# --- 17.10 / 17.11: overflow and strict types ----------------------------------------------------


def _strict_types(v04: str, c: httpx.Client, codes: list[int]) -> dict[str, Any]:
    bell = {
        "type": "ionq.circuit.v1",
        "backend": "simulator",
        "shots": 10,
        "input": {"qubits": 1, "circuit": [X]},
    }
    pauli = {"gate": "pauliexp", "targets": [0], "terms": ["X"], "coefficients": [1e200], "time": 1e200}
    cases = [
        ("pauliexp 1e200 x 1e200 (simulator)", {**bell, "input": {"qubits": 1, "circuit": [pauli]}}),
        (
            "pauliexp 1e200 x 1e200 (qpu.harmony)",
            {**bell, "backend": "qpu.harmony", "input": {"qubits": 1, "circuit": [pauli]}},
        ),
        ("noise.seed -1", {**bell, "noise": {"model": "ideal", "seed": -1}}),
        ("noise.seed 1.5", {**bell, "noise": {"model": "ideal", "seed": 1.5}}),
        ('settings.error_mitigation "on"', {**bell, "settings": {"error_mitigation": "on"}}),
        (
            'error_mitigation.debiasing "yes"',
            {**bell, "settings": {"error_mitigation": {"debiasing": "yes"}}},
        ),
        ('error_mitigation.debias "no"', {**bell, "error_mitigation": {"debias": "no"}}),
        (
            'input.format "ionq.circuit.v9"',
            {**bell, "input": {"format": "ionq.circuit.v9", "qubits": 1, "circuit": []}},
        ),
    ]
    seen = []
    for label, body in cases:
        r = _send(c, codes, "POST", f"{v04}/jobs", body)
        seen.append(f"{label} {r.status_code}")
    print(f"17.10/17.11 {'; '.join(seen)}")
    return {"strict_type_statuses": sorted({int(x.rsplit(" ", 1)[1]) for x in seen})}


# --- 17.12 / 17.13: sessions and webhooks ---------------------------------------------------------


def _session_and_webhook(v04: str, c: httpx.Client, codes: list[int]) -> dict[str, Any]:
    project = c.get(f"{v04}/whoami").json()["project_id"]
    session = _send(
        c,
        codes,
        "POST",
        f"{v04}/sessions",
        {"backend": "simulator", "settings": {"duration_limit_min": 1e30}},
    )
    listed = c.get(f"{v04}/sessions")
    codes.append(listed.status_code)
    hook = _send(
        c,
        codes,
        "POST",
        f"{v04}/projects/{project}/webhooks",
        {"url": f"https://{'a' * 64}.example.com/hook"},
    )
    print(
        f"17.12 session duration_limit_min 1e30 -> {session.status_code} {_field(session)!r}; GET /sessions {listed.status_code}\n"
        f"17.13 webhook with a 64-character host label -> {hook.status_code} {_field(hook)!r}"
    )
    return {"session_1e30": session.status_code, "webhook_label_64": hook.status_code}


# --- 17.14: one gate limit ----------------------------------------------------------------------


def _gate_limits(v04: str, c: httpx.Client, codes: list[int], quick: bool) -> dict[str, Any]:
    seen, accepted = [], []
    for n in (150_001,) if quick else (150_001, 1_000_001):
        body = {
            "type": "ionq.circuit.v1",
            "backend": "simulator",
            "shots": 10,
            "input": {"qubits": 1, "circuit": [X] * n},
        }
        r = _send(c, codes, "POST", f"{v04}/jobs", body)
        seen.append(f"{n} gates -> {r.status_code}{' ' + repr(_field(r)) if r.status_code >= 400 else ''}")
        if r.status_code < 300:
            accepted.append(r.json()["id"])
    deadline = time.monotonic() + 120
    for job_id in accepted:
        while c.get(f"{v04}/jobs/{job_id}").json()["status"] not in ("completed", "failed", "canceled"):
            if time.monotonic() > deadline:
                break
            time.sleep(0.2)
    final = [c.get(f"{v04}/jobs/{j}").json()["status"] for j in accepted]
    print(f"17.14 {'; '.join(seen)} (QUMULUS_MAX_GATES 1000000, the one limit); accepted ones: {final}")
    return {"gate_limit_statuses": [s.split("-> ")[1][:3] for s in seen]}
