"""A tiny HTTP/1.1 proxy in front of a live server that misbehaves on purpose, once.

``drop_response``: forward the request, let the server act on it, then close the client's connection
without an answer (the classic "did my POST arrive?" failure). ``answer_429``: refuse with 429 and a
Retry-After before forwarding. Each fault fires on the first request matching ``method`` and
``path_prefix`` only; everything else is forwarded untouched (one request per connection).
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass, field


@dataclass
class FaultyProxy:
    upstream: tuple[str, int]
    method: str
    path_prefix: str
    fault: str  # "drop_response" or "answer_429"
    retry_after: int = 1
    hits: list[tuple[str, str, float]] = field(default_factory=list)
    fired: bool = False

    def __post_init__(self) -> None:
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        threading.Thread(target=self._serve, daemon=True).start()

    def close(self) -> None:
        self._sock.close()

    def _serve(self) -> None:
        while True:
            try:
                client, _ = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(client,), daemon=True).start()

    def _handle(self, client: socket.socket) -> None:
        with client:
            request = _read_message(client)
            if request is None:
                return
            line = request.split(b"\r\n", 1)[0].decode()
            method, path = line.split(" ")[:2]
            self.hits.append((method, path, time.monotonic()))
            matches = method == self.method and path.startswith(self.path_prefix) and not self.fired
            if matches and self.fault == "answer_429":
                self.fired = True
                body = b'{"statusCode":429,"error":"Too Many Requests","message":"slow down"}'
                client.sendall(
                    b"HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/json\r\n"
                    + f"Retry-After: {self.retry_after}\r\nContent-Length: {len(body)}\r\n".encode()
                    + b"Connection: close\r\n\r\n"
                    + body
                )
                return
            request = request.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n", 1)
            with socket.create_connection(self.upstream) as server:
                server.sendall(request)
                response = _read_message(server)
            if matches and self.fault == "drop_response":
                self.fired = True
                client.shutdown(socket.SHUT_RDWR)  # the server acted; the client never hears of it
                return
            if response is not None:
                client.sendall(response)


def _read_message(sock: socket.socket) -> bytes | None:
    """One HTTP message (headers + Content-Length body) from ``sock``."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return data or None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for header in head.split(b"\r\n")[1:]:
        name, _, value = header.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body
