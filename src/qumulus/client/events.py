"""Waiting for a job without polling: the server's Server-Sent Events, polling only as a fallback.

``GET /v0.4/jobs/{id}/events`` pushes every status change and ends at a final status, so a
``result()`` returns within milliseconds of the completion (``bench/push_latency.py``). Against a
server without the stream (an older Qumulus, or another IonQ-compatible server) the same call falls
back to ``GET /jobs/{id}?wait=`` long-polls (ignored elsewhere) with growing sleeps in between.

:func:`updates` is the same wait for ``asyncio`` (``aio.py``): the stream is read on the event loop,
so many jobs can be awaited together without a thread each.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from qumulus.client.errors import ApiError, ConnectionFailedError, JobTimeoutError
from qumulus.client.http import Transport
from qumulus.client.status import SERVER_FINAL

#: Longest single stream / long-poll; the wait reconnects after it (proxies dislike endless replies).
STREAM_SECONDS = 60.0
LONG_POLL_SECONDS = 30.0


def wait_final(
    transport: Transport,
    job_id: str,
    *,
    timeout: float | None,
    on_update: Callable[[dict[str, Any]], None],
    poll_interval: float | None = None,
    current: str | None = None,
) -> None:
    """Return once the job is final (``on_update`` saw its last state); :class:`JobTimeoutError` after
    ``timeout`` seconds. ``poll_interval`` forces polling at that interval instead of the stream."""
    if current in SERVER_FINAL:
        return
    deadline = None if timeout is None else time.monotonic() + timeout
    use_stream = poll_interval is None
    sleep = 0.05
    while True:
        left = None if deadline is None else deadline - time.monotonic()
        if left is not None and left <= 0:
            raise JobTimeoutError(f"job {job_id} is not finished after {timeout:g} s", job_id=job_id)
        if use_stream:
            try:
                if _stream_once(transport, job_id, _cap(left, STREAM_SECONDS), on_update):
                    return
                continue
            except ApiError as exc:
                if exc.status_code not in (404, 405):
                    raise
                use_stream = False  # below: a real 404 for the job raises from the GET itself
            except ConnectionFailedError:
                use_stream = False  # e.g. a proxy that buffers streams; the GETs still work
        params = {"wait": f"{_cap(left, LONG_POLL_SECONDS):.3f}"} if poll_interval is None else None
        job = transport.request("GET", f"/jobs/{job_id}", params=params)
        on_update(job)
        if job.get("status") in SERVER_FINAL:
            return
        pause = poll_interval if poll_interval is not None else sleep
        if left is not None:
            pause = min(pause, max(0.0, deadline - time.monotonic()))  # type: ignore[operator]
        time.sleep(pause)
        sleep = min(2.0, sleep * 2)


def _cap(left: float | None, most: float) -> float:
    return most if left is None else max(0.05, min(left, most))


class EventParser:
    """Server-Sent Events, line by line: :meth:`feed` returns the job of each ``status`` event."""

    def __init__(self) -> None:
        self.kind = "message"
        self.data: list[str] = []

    def feed(self, line: str) -> dict[str, Any] | None:
        if line == "":
            job = json.loads("\n".join(self.data)) if self.data and self.kind == "status" else None
            self.kind, self.data = "message", []
            return job
        if line.startswith("event:"):
            self.kind = line[6:].strip()
        elif line.startswith("data:"):
            self.data.append(line[5:].lstrip())
        return None  # comments (":") and other fields


def _stream_once(
    transport: Transport, job_id: str, seconds: float, on_update: Callable[[dict[str, Any]], None]
) -> bool:
    """One stream; True when it delivered a final status, False when it ended first (reconnect)."""
    parser = EventParser()
    with transport.stream(
        f"/jobs/{job_id}/events", params={"timeout": f"{seconds:.3f}"}, timeout=seconds + 30.0
    ) as response:
        for line in response.iter_lines():
            job = parser.feed(line)
            if job is not None:
                on_update(job)
                if job.get("status") in SERVER_FINAL:
                    return True
    return False


async def updates(
    transport: Transport,
    job_id: str,
    *,
    timeout: float | None,
    poll_interval: float | None = None,
    current: str | None = None,
) -> AsyncIterator[dict[str, Any]]:
    """Each new description of the job until it is final (then the iterator ends);
    :class:`JobTimeoutError` after ``timeout`` seconds. The asyncio twin of :func:`wait_final`."""
    if current in SERVER_FINAL:
        return
    deadline = None if timeout is None else time.monotonic() + timeout
    use_stream = poll_interval is None
    sleep = 0.05
    while True:
        left = None if deadline is None else deadline - time.monotonic()
        if left is not None and left <= 0:
            raise JobTimeoutError(f"job {job_id} is not finished after {timeout:g} s", job_id=job_id)
        if use_stream:
            try:
                seconds = _cap(left, STREAM_SECONDS)
                parser = EventParser()
                async with transport.async_stream(
                    f"/jobs/{job_id}/events", params={"timeout": f"{seconds:.3f}"}, timeout=seconds + 30.0
                ) as response:
                    async for line in response.aiter_lines():
                        job = parser.feed(line)
                        if job is not None:
                            yield job
                            if job.get("status") in SERVER_FINAL:
                                return
                continue
            except ApiError as exc:
                if exc.status_code not in (404, 405):
                    raise
                use_stream = False
            except ConnectionFailedError:
                use_stream = False
        params = {"wait": f"{_cap(left, LONG_POLL_SECONDS):.3f}"} if poll_interval is None else None
        job = await asyncio.to_thread(transport.request, "GET", f"/jobs/{job_id}", params=params)
        yield job
        if job.get("status") in SERVER_FINAL:
            return
        pause = poll_interval if poll_interval is not None else sleep
        if deadline is not None:
            pause = min(pause, max(0.0, deadline - time.monotonic()))
        await asyncio.sleep(pause)
        sleep = min(2.0, sleep * 2)
