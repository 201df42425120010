"""A job for ``asyncio``: ``await job.result()``, ``async for status in job.watch()``.

Why: a notebook or service that waits on many jobs should not hold a thread per job. The wait reads
the same push channel as the blocking calls (``GET /jobs/{id}/events``, Server-Sent Events; long-polls
where a server has none) on the event loop, so ``asyncio.gather(*(j.result() for j in jobs))`` waits
on every job at once. The short calls around it (one GET, the result download) reuse the blocking
client in a worker thread, with its retries.

Get one with ``job.aio`` (any :class:`~qumulus.client.Job`) or ``await backend.run_async(...)``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Generator
from typing import Any

from qumulus.client.events import updates
from qumulus.client.status import JOB_FINAL_STATES, SERVER_FINAL, JobStatus, from_server


class AsyncJob:
    """Wraps a blocking job handle (``job``); ``job.aio`` makes one."""

    def __init__(self, job: Any) -> None:
        self.job = job

    def __repr__(self) -> str:
        return f"<AsyncJob {self.job_id()}>"

    def job_id(self) -> str:
        return str(self.job.job_id())

    async def status(self) -> JobStatus:
        """The current status (one request)."""
        return await asyncio.to_thread(self.job.status)  # type: ignore[no-any-return]

    async def watch(
        self, timeout: float | None = None, wait: float | None = None
    ) -> AsyncIterator[JobStatus]:
        """The status now, then each change as the server pushes it; ends after a final status.
        ``timeout``: :class:`JobTimeoutError` after that many seconds; ``wait`` forces polling at
        that interval instead of the push channel."""
        data = self.job.data
        last = from_server(data["status"])
        yield last
        async for update in updates(
            self.job.transport, self.job_id(), timeout=timeout, poll_interval=wait, current=data["status"]
        ):
            self.job.update_from(update)
            status = from_server(update["status"])
            if status != last:
                last = status
                yield status

    async def wait_for_final_state(
        self, timeout: float | None = None, wait: float | None = None
    ) -> JobStatus:
        """Wait for DONE, ERROR or CANCELLED, and return it."""
        status = from_server(self.job.data["status"])
        async for status in self.watch(timeout=timeout, wait=wait):  # noqa: B007 - the last one counts
            pass
        assert status in JOB_FINAL_STATES
        return status

    async def result(self, timeout: float | None = None, wait: float | None = None) -> Any:
        """Wait (see :meth:`watch`), then the :class:`~qumulus.client.Result`; raises as the
        blocking ``result()`` does (``JobFailureError``, ``JobCancelledError``, ``JobTimeoutError``)."""
        if self.job.data.get("status") not in SERVER_FINAL:
            await self.wait_for_final_state(timeout=timeout, wait=wait)
        return await asyncio.to_thread(self.job.result)

    async def cancel(self) -> bool:
        return await asyncio.to_thread(self.job.cancel)  # type: ignore[no-any-return]

    def __await__(self) -> Generator[Any, None, Any]:
        """``await job`` is ``await job.result()``."""
        return self.result().__await__()
