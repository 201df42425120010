"""Telling waiting requests that their job finished, the moment a worker commits it.

``POST /jobs`` waits here (briefly, without holding a thread) so that a tiny job is already
``completed`` when the client's first ``GET`` arrives: qiskit otherwise sleeps 5 s before its second
look, and pennylane polls 100 times a second. The same hub can serve a push channel later.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterable


class CompletionHub:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiters: dict[str, list[tuple[asyncio.AbstractEventLoop, asyncio.Future[str | None]]]] = {}
        #: Plain callbacks told of every completion (the workload runner waits on its circuits so).
        self._listeners: list[Callable[[list[tuple[str, str]]], None]] = []

    def listen(self, callback: Callable[[list[tuple[str, str]]], None]) -> None:
        """Call ``callback(finished)`` from the publishing thread after each batch (keep it cheap)."""
        self._listeners.append(callback)

    def expect(self, job_id: str) -> asyncio.Future[str | None]:
        """Register interest before submitting, so a completion cannot slip past unseen."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[str | None] = loop.create_future()
        with self._lock:
            self._waiters.setdefault(job_id, []).append((loop, future))
        return future

    async def wait(self, job_id: str, future: asyncio.Future[str | None], timeout: float) -> str | None:
        """The final status, or None if the job is still running after ``timeout`` seconds."""
        if timeout <= 0:
            self.forget(job_id, future)
            return None
        # A timer that settles the future with None: cheaper than wait_for + shield (a task and two
        # futures per request), which showed in the tiny-job CPU profile.
        timer = asyncio.get_running_loop().call_later(timeout, _resolve, future, None)
        try:
            return await future
        finally:
            timer.cancel()
            self.forget(job_id, future)

    def forget(self, job_id: str, future: asyncio.Future[str | None]) -> None:
        with self._lock:
            waiters = self._waiters.get(job_id, [])
            self._waiters[job_id] = [w for w in waiters if w[1] is not future]
            if not self._waiters[job_id]:
                del self._waiters[job_id]

    def publish(self, finished: Iterable[tuple[str, str]]) -> None:
        """Called from worker threads with ``(job id, final status)`` pairs after their commit."""
        by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[str | None], str]]] = {}
        if self._listeners:
            finished = list(finished)
            for listener in self._listeners:
                listener(finished)
        with self._lock:
            for job_id, status in finished:
                for loop, future in self._waiters.pop(job_id, []):
                    by_loop.setdefault(loop, []).append((future, status))
        for loop, settled in by_loop.items():  # one wake-up per loop and batch, not per job
            loop.call_soon_threadsafe(_resolve_all, settled)


def _resolve(future: asyncio.Future[str | None], status: str | None) -> None:
    if not future.done():
        future.set_result(status)


def _resolve_all(settled: list[tuple[asyncio.Future[str | None], str]]) -> None:
    for future, status in settled:
        _resolve(future, status)
