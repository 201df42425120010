"""A minimal keep-alive HTTP/1.1 client for load generation on the same box as the server.

The benches measure servers; on a 2-core machine a heavyweight client (httpx: ~0.3 ms of CPU per
request) takes CPU from the server it measures, and takes three times as much from a system whose
items cost three requests. This client does only what the benches need (one connection per
coroutine, Content-Length or chunked bodies) at a few tens of microseconds per request.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any


class RawConnection:
    def __init__(self, host: str, port: int, headers: dict[str, str] | None = None) -> None:
        self.host, self.port = host, port
        self.extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def _open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def request(self, method: str, path: str, body: bytes = b"") -> tuple[int, bytes]:
        if self.writer is None:
            await self._open()
        assert self.reader is not None and self.writer is not None
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\n{self.extra}"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        self.writer.write(head.encode() + body)
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionError("server closed the connection")
        status = int(status_line.split(b" ", 2)[1])
        length = None
        chunked = False
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value.strip())
            elif name == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
        if chunked:
            parts = []
            while True:
                size = int((await self.reader.readline()).strip(), 16)
                if size == 0:
                    await self.reader.readline()
                    break
                parts.append(await self.reader.readexactly(size))
                await self.reader.readline()
            return status, b"".join(parts)
        return status, await self.reader.readexactly(length or 0)

    async def json(self, method: str, path: str, body: bytes = b"") -> tuple[int, Any]:
        status, data = await self.request(method, path, body)
        return status, json.loads(data) if data else None

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


class HttpxConnection:
    """The same interface over httpx, the kind of client Python users run (requests-like cost)."""

    def __init__(self, host: str, port: int, headers: dict[str, str] | None = None) -> None:
        import httpx

        self.client = httpx.AsyncClient(base_url=f"http://{host}:{port}", headers=headers or {}, timeout=60)

    async def request(self, method: str, path: str, body: bytes = b"") -> tuple[int, bytes]:
        response = await self.client.request(method, path, content=body or None)
        return response.status_code, response.content

    async def json(self, method: str, path: str, body: bytes = b"") -> tuple[int, Any]:
        status, data = await self.request(method, path, body)
        return status, json.loads(data) if data else None

    def close(self) -> None:
        asyncio.get_event_loop().create_task(self.client.aclose())


CLIENTS = {"raw": RawConnection, "httpx": HttpxConnection}
