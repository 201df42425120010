"""A fault-injecting HTTP proxy in front of a real Qumulus server (toxiproxy in one small class).

The upstream stays real: every request that is not faulted reaches it and its real answer comes
back. A rule faults the next ``count`` requests that match a method and a path pattern:

* ``status``: answer with that status (and ``Retry-After``) *without* forwarding: nothing is created;
* ``delay``: forward, then hold the answer ``seconds`` before sending it (the client times out after
  the upstream acted: the case that duplicates jobs when retries are not idempotent);
* ``drop``: close the connection without an answer, before forwarding.

Server-Sent Events (``…/events``) are answered 404, like a provider without push, unless the proxy
is made with ``push=True``: then the stream is relayed as it comes. Every request seen is logged
(method, path, what was done) for the tests' counts.
"""

from __future__ import annotations

import contextlib
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx


@dataclass
class Rule:
    method: str
    path: str
    action: str  # "status", "delay" or "drop"
    count: int = 1
    status: int = 503
    retry_after: str | None = None
    seconds: float = 0.0


@dataclass
class FaultProxy:
    upstream: str
    rules: list[Rule] = field(default_factory=list)
    log: list[tuple[str, str, str]] = field(default_factory=list)
    #: Relay the upstream's Server-Sent Events (a provider with push) instead of answering 404.
    push: bool = False

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._client = httpx.Client(base_url=self.upstream, timeout=60)
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                return

            def _handle(self) -> None:
                proxy._serve(self)

            do_GET = do_POST = do_PUT = do_DELETE = _handle

        class Server(ThreadingHTTPServer):
            def handle_error(self, request: object, client_address: object) -> None:
                return  # a client that hung up (a dropped or timed-out request): expected here

        self._server = Server(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def add(self, rule: Rule) -> None:
        with self._lock:
            self.rules.append(rule)

    def count(self, method: str, pattern: str, action: str | None = None) -> int:
        with self._lock:
            return sum(
                1
                for m, p, a in self.log
                if m == method and re.fullmatch(pattern, p) and (action is None or a == action)
            )

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._client.close()

    def _take(self, method: str, path: str) -> Rule | None:
        with self._lock:
            for rule in self.rules:
                if rule.count > 0 and rule.method == method and re.fullmatch(rule.path, path.split("?")[0]):
                    rule.count -= 1
                    return rule
        return None

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        method, path = handler.command, handler.path
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        bare = path.split("?")[0]
        rule = self._take(method, path)
        events = bare.endswith("/events")
        if rule is not None:
            action = rule.action
        elif events:
            action = "stream" if self.push else "no-push"
        else:
            action = "forward"
        with self._lock:
            self.log.append((method, bare, action))
        if action == "drop":
            handler.close_connection = True
            handler.connection.close()
            return
        if action == "status" and rule is not None:
            extra = {"Retry-After": rule.retry_after} if rule.retry_after else {}
            self._reply(
                handler,
                rule.status,
                b'{"statusCode":%d,"error":"Injected","message":"fault"}' % rule.status,
                extra,
            )
            return
        if action == "no-push":
            self._reply(handler, 404, b'{"statusCode":404,"error":"Not Found Error","message":"no"}', {})
            return
        headers = {k: v for k, v in handler.headers.items() if k.lower() not in ("host", "content-length")}
        if action == "stream":
            self._relay(handler, method, path, headers)
            return
        try:
            answer = self._client.request(method, path, content=body, headers=headers)
        except httpx.HTTPError:
            handler.close_connection = True
            handler.connection.close()
            return
        if action == "delay" and rule is not None:
            time.sleep(rule.seconds)
        extra = {k: v for k, v in answer.headers.items() if k.lower() in ("retry-after", "content-type")}
        with contextlib.suppress(OSError):  # the client gave up waiting (the point of a delay)
            self._reply(handler, answer.status_code, answer.content, extra)

    def _relay(
        self, handler: BaseHTTPRequestHandler, method: str, path: str, headers: dict[str, str]
    ) -> None:
        """Relay a streamed answer (Server-Sent Events) chunk by chunk, then close the connection."""
        handler.close_connection = True
        try:
            with self._client.stream(method, path, headers=headers) as answer:
                handler.send_response(answer.status_code)
                handler.send_header("Content-Type", answer.headers.get("content-type", "text/event-stream"))
                handler.send_header("Connection", "close")
                handler.end_headers()
                for chunk in answer.iter_raw():
                    handler.wfile.write(chunk)
                    handler.wfile.flush()
        except (httpx.HTTPError, OSError):
            return  # the upstream went away, or the client hung up: the connection closes

    @staticmethod
    def _reply(handler: BaseHTTPRequestHandler, status: int, content: bytes, headers: dict[str, str]) -> None:
        handler.send_response(status)
        headers.setdefault("Content-Type", "application/json")
        for key, value in headers.items():
            handler.send_header(key, value)
        handler.send_header("Content-Length", str(len(content)))
        handler.end_headers()
        handler.wfile.write(content)
