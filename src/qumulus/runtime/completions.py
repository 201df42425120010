"""Telling waiting requests that their job finished, the moment a worker commits it.

``POST /jobs`` waits here (briefly, without holding a thread) so that a tiny job is already
``completed`` when the client's first ``GET`` arrives: qiskit otherwise sleeps 5 s before its second
look, and pennylane polls 100 times a second. The same hub can serve a push channel later.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterable


class CompletionHub:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiters: dict[str, list[tuple[asyncio.AbstractEventLoop, asyncio.Future[str]]]] = {}

    def expect(self, job_id: str) -> asyncio.Future[str]:
        """Register interest before submitting, so a completion cannot slip past unseen."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[str] = loop.create_future()
        with self._lock:
            self._waiters.setdefault(job_id, []).append((loop, future))
        return future

    async def wait(self, job_id: str, future: asyncio.Future[str], timeout: float) -> str | None:
        """The final status, or None if the job is still running after ``timeout`` seconds."""
        try:
            if timeout <= 0:
                return None
            return await asyncio.wait_for(asyncio.shield(future), timeout)
        except TimeoutError:
            return None
        finally:
            self.forget(job_id, future)

    def forget(self, job_id: str, future: asyncio.Future[str]) -> None:
        with self._lock:
            waiters = self._waiters.get(job_id, [])
            self._waiters[job_id] = [w for w in waiters if w[1] is not future]
            if not self._waiters[job_id]:
                del self._waiters[job_id]

    def publish(self, finished: Iterable[tuple[str, str]]) -> None:
        """Called from worker threads with ``(job id, final status)`` pairs after their commit."""
        with self._lock:
            ready = [(self._waiters.pop(job_id, []), status) for job_id, status in finished]
        for waiters, status in ready:
            for loop, future in waiters:
                loop.call_soon_threadsafe(_resolve, future, status)


def _resolve(future: asyncio.Future[str], status: str) -> None:
    if not future.done():
        future.set_result(status)
