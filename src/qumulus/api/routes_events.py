"""``GET /v0.4/jobs/{id}/events``: a job's status changes pushed as Server-Sent Events.

Each change is one ``event: status`` whose data is the job in its ``GET /jobs/{id}`` shape; the
stream ends after a final status (``completed``, ``failed``, ``canceled``) or after ``timeout``
seconds (an ``event: timeout``, so the client reconnects; proxies dislike endless responses).

Why it costs nothing while it waits: the stream lives on the event loop and awaits the
:class:`~qumulus.runtime.completions.CompletionHub` future of the job, which a worker resolves the
moment it commits the completion, so the final event leaves within milliseconds. Non-final changes
(``ready`` → ``started``) are not published by the hub; the stream re-reads the row every
``RECHECK_SECONDS`` to see them, which also covers servers whose workers run in other processes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import StreamingResponse

from qumulus.api.deps import platform_of, principal
from qumulus.auth.principal import Principal
from qumulus.errors import InvalidRequest
from qumulus.platform import Platform
from qumulus.services import jobs
from qumulus.wire import jobs as wire

DEFAULT_TIMEOUT = 60.0
MAX_TIMEOUT = 300.0
#: How often a waiting stream re-reads its job (non-final changes, other-process workers).
RECHECK_SECONDS = 1.0
#: A comment line this often keeps proxies and the client's read timeout happy.
KEEPALIVE_SECONDS = 15.0


def build() -> APIRouter:
    router = APIRouter(prefix="/v0.4")

    @router.get("/jobs/{job_id}/events")
    async def job_events(job_id: str, request: Request) -> StreamingResponse:
        who = await principal(request)
        timeout = _timeout(request.query_params.get("timeout"))
        platform = platform_of(request)
        hub = platform.completions
        waiter = hub.expect(job_id)  # before the first read: a completion in between is not missed
        try:
            first = await _read(platform, who, job_id)  # 404 / 401 as JSON, before the stream starts
        except BaseException:
            hub.forget(job_id, waiter)
            raise
        return StreamingResponse(
            _stream(platform, who, job_id, first, waiter, timeout),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    return router


async def _stream(
    platform: Platform,
    who: Principal,
    job_id: str,
    view: jobs.JobView,
    waiter: asyncio.Future[str | None],
    timeout: float,
) -> AsyncIterator[str]:
    hub = platform.completions
    deadline = time.monotonic() + timeout
    last_sent = time.monotonic()
    try:
        status = view.job.status
        yield _event("status", wire.job_v04(view))
        while status not in jobs.TERMINAL:
            left = deadline - time.monotonic()
            if left <= 0:
                yield _event("timeout", {"id": job_id, "status": status})
                return
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.shield(waiter), min(RECHECK_SECONDS, left))
            view = await _read(platform, who, job_id)
            if view.job.status != status:
                status = view.job.status
                last_sent = time.monotonic()
                yield _event("status", wire.job_v04(view))
            elif time.monotonic() - last_sent >= KEEPALIVE_SECONDS:
                last_sent = time.monotonic()
                yield ": keep-alive\n\n"
    finally:
        hub.forget(job_id, waiter)


async def _read(platform: Platform, who: Principal, job_id: str) -> jobs.JobView:
    if platform.db.is_sqlite:  # a WAL read never waits for a lock (see routes_jobs._read_job)
        return jobs.get_job(platform, who, job_id)
    return await run_in_threadpool(jobs.get_job, platform, who, job_id)


def _event(kind: str, data: dict[str, Any]) -> str:
    return f"event: {kind}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


def _timeout(raw: str | None) -> float:
    if raw is None or raw == "":
        return DEFAULT_TIMEOUT
    try:
        value = float(raw)
    except ValueError:
        raise InvalidRequest(
            f"timeout: must be a number of seconds, got {raw[:40]!r}", field="timeout"
        ) from None
    if not 0.0 < value <= MAX_TIMEOUT:  # also refuses NaN
        raise InvalidRequest(
            f"timeout: must be more than 0 and at most {MAX_TIMEOUT:g} seconds", field="timeout"
        )
    return value
