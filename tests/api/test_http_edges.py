"""HTTP behaviour at the socket: read timeouts, a 500 on a keep-alive connection, client disconnects.

A real uvicorn server in this process, configured by :func:`qumulus.api.server.config` (what
``qumulus serve`` runs), serving an app behind :class:`qumulus.api.server.RequestGuard` (what the
real app installs) with two routes: one that reads its body, one with a bug.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from qumulus.api import server
from tests.conftest import free_port


async def echo(request: Request) -> JSONResponse:
    return JSONResponse({"bytes": len(await request.body())})


async def boom(request: Request) -> JSONResponse:
    raise RuntimeError("a bug")


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    import uvicorn

    patch = pytest.MonkeyPatch()
    patch.setattr(server, "HEADER_TIMEOUT", 1.0)
    app = Starlette(routes=[Route("/echo", echo, methods=["POST"]), Route("/boom", boom)])
    app.add_middleware(server.RequestGuard, body_timeout=1.0)
    port = free_port()
    instance = uvicorn.Server(server.config(app, host="127.0.0.1", port=port))
    thread = threading.Thread(target=instance.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not instance.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    instance.should_exit = True
    thread.join(10)
    patch.undo()


def _connect(url: str) -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=15)
    return sock


def _read_all(sock: socket.socket) -> bytes:
    """Everything until the server closes the connection (a hang fails on the socket timeout)."""
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def test_headers_that_never_finish_get_the_connection_closed(url: str) -> None:
    with _connect(url) as sock:
        sock.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nX-Slow: ")  # and then nothing
        assert _read_all(sock) == b""  # closed by the server, not left open


def test_a_body_that_never_finishes_is_a_408_that_closes(url: str) -> None:
    with _connect(url) as sock:
        sock.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789")
        answer = _read_all(sock)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408"), answer[:200]
    assert b"connection: close" in head.lower()
    assert b'"statusCode":408' in body


def test_a_500_on_keep_alive_says_connection_close_and_logs_one_traceback(
    url: str, caplog: pytest.LogCaptureFixture
) -> None:
    with httpx.Client(base_url=url, timeout=15) as client:
        with caplog.at_level(logging.INFO):
            first = client.get("/boom")
        assert first.status_code == 500 and first.headers["connection"] == "close"
        assert first.json() == {
            "statusCode": 500,
            "error": "Internal Server Error",
            "message": "Internal error; the request was not completed.",
        }
        assert client.post("/echo", content=b"abc").json() == {"bytes": 3}  # the next request works
    tracebacks = [r for r in caplog.records if r.exc_info]
    assert len(tracebacks) == 1 and "unhandled error on GET /boom" in tracebacks[0].getMessage()


def test_a_client_that_goes_away_is_one_log_line(url: str, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO):
        with _connect(url) as sock:
            sock.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n01234")
            time.sleep(0.2)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not any("went away" in r.getMessage() for r in caplog.records):
            time.sleep(0.05)
    lines = [r for r in caplog.records if "went away" in r.getMessage()]
    assert len(lines) == 1 and "POST /echo" in lines[0].getMessage()
    assert not any(r.exc_info for r in caplog.records)
