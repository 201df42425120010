"""Executors run simulation tasks away from the server's threads.

``LocalExecutor`` is a process pool inside the server process: a job can be killed, and a simulator
crash (segfault, out-of-memory kill) breaks the pool, not the server; the pool is then rebuilt and
the affected executions are retried or failed by the worker.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from qumulus.runtime.tasks import Outcome, Task, run_tasks, warm_up

__all__ = ["BrokenProcessPool", "LocalExecutor"]


class LocalExecutor:
    def __init__(self, processes: int = 0, *, warm: bool = True) -> None:
        self.processes = processes or os.cpu_count() or 1
        self.warm = warm
        self._lock = threading.Lock()
        self._pool = self._new_pool()

    def _new_pool(self) -> ProcessPoolExecutor:
        # spawn, not fork: the server process has threads (uvicorn, workers) that fork would copy
        # in whatever state they are in.
        return ProcessPoolExecutor(
            max_workers=self.processes,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=warm_up,
            initargs=(self.warm,),
        )

    def submit(self, tasks: list[Task]) -> Future[list[Outcome]]:
        with self._lock:
            try:
                return self._pool.submit(run_tasks, tasks)
            except (BrokenProcessPool, RuntimeError):
                self._pool = self._new_pool()
                return self._pool.submit(run_tasks, tasks)

    def prestart(self, timeout: float = 120.0) -> None:
        """Start (and, with ``warm``, warm up) every pool process now, not at the first job.

        ProcessPoolExecutor spawns lazily; without this the first job after ``qumulus serve``
        would pay for spawning and importing the engines (seconds).
        """
        futures = [self.submit([]) for _ in range(self.processes)]
        for future in futures:
            future.result(timeout=timeout)

    def reset(self) -> None:
        """Replace a broken pool (called after a BrokenProcessPool)."""
        with self._lock:
            old = self._pool
            self._pool = self._new_pool()
        old.shutdown(wait=False, cancel_futures=True)

    def shutdown(self) -> None:
        with self._lock:
            self._pool.shutdown(wait=False, cancel_futures=True)
