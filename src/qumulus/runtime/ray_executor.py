"""``--executor ray``: simulation batches run as Ray tasks, on a Ray cluster or a local Ray.

Same interface as :class:`~qumulus.runtime.executor.LocalExecutor` (``run``, ``prestart``,
``shutdown``), so the :class:`~qumulus.runtime.worker.WorkerPool` is unchanged: it claims from the
database, sends a batch here, and completes it with the fenced statement.

Ray is the executor, never the system of record. Its own retries are off (``max_retries=0``): if a
Ray worker or node dies under a task, Ray must not silently run it again, because the database lease
owns retries and the attempt counter fences completions. Any Ray failure becomes
:class:`BrokenProcessPool`, the signal the worker pool already turns into a fenced requeue. If the
``qumulus worker`` process itself dies, Ray's ownership model fate-shares its tasks and the lease
expires, so the reaper requeues the work.

Large results are written by the task to ``Task.result_path``: on a multi-machine cluster that path
must be on storage every Ray node and every API process share (see docs/distributed.md).
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any

from qumulus.runtime.executor import Aborted, BrokenProcessPool
from qumulus.runtime.tasks import Outcome, Task, run_tasks

__all__ = ["RayExecutor"]


def _simulate(tasks: list[Task]) -> list[Outcome]:
    return run_tasks(tasks)


class RayExecutor:
    """Up to ``slots`` batches in flight on Ray at once (one per worker thread)."""

    def __init__(self, slots: int = 1, *, address: str | None = None, cpus_per_task: float = 1.0) -> None:
        try:
            import ray
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise RuntimeError("--executor ray needs Ray: pip install 'qumulus[ray]'") from exc
        self._ray = ray
        self._started_ray = False
        if not ray.is_initialized():
            # address None starts a local Ray (for a laptop or a test); "auto" or "ray://..." joins a
            # cluster started with ``ray start``.
            ray.init(address=address, include_dashboard=False, log_to_driver=False, configure_logging=False)
            self._started_ray = True
        self._remote = ray.remote(max_retries=0, num_cpus=cpus_per_task)(_simulate)
        self._slots = threading.BoundedSemaphore(max(1, slots))
        self._lock = threading.Lock()
        #: Ray object ref -> the execution ids of the batch it runs.
        self._in_flight: dict[Any, frozenset[str]] = {}
        self._aborted: set[Any] = set()
        self._closed = threading.Event()

    def prestart(self, timeout: float = 120.0) -> None:
        """Run an empty batch so the first job does not pay for Ray starting a worker process."""
        self._ray.get(self._remote.remote([]), timeout=timeout)

    def run(self, tasks: list[Task]) -> list[Outcome]:
        """Run a batch on Ray (blocking). Raises :class:`BrokenProcessPool` if Ray lost it."""
        if self._closed.is_set():
            raise RuntimeError("executor is shut down")
        with self._slots:
            ref = self._remote.remote(tasks)
            with self._lock:
                self._in_flight[ref] = frozenset(t.execution_id for t in tasks)
            try:
                return self._ray.get(ref)
            except Exception as exc:
                with self._lock:
                    aborted = ref in self._aborted
                if aborted:
                    raise Aborted("simulation stopped: its executions were canceled") from None
                # RayError: a worker or node died, or the task was cancelled by shutdown(); after
                # shutdown Ray itself may be gone. Either way the lease, not Ray, retries the batch.
                if isinstance(exc, self._ray.exceptions.RayError) or self._closed.is_set():
                    raise BrokenProcessPool(f"Ray task failed: {type(exc).__name__}: {exc}") from None
                raise
            finally:
                with self._lock:
                    self._in_flight.pop(ref, None)
                    self._aborted.discard(ref)

    def abort(self, execution_ids: set[str]) -> int:
        """Cancel the tasks whose whole batch is in ``execution_ids`` (canceled, or lease lost)."""
        with self._lock:
            doomed = [ref for ref, ids in self._in_flight.items() if ids and ids <= execution_ids]
            self._aborted.update(doomed)
        for ref in doomed:
            with contextlib.suppress(Exception):  # finished meanwhile
                self._ray.cancel(ref, force=True)
        return len(doomed)

    def shutdown(self) -> None:
        """Cancel what is in flight (its leases go back to the queue) and leave Ray."""
        if self._closed.is_set():
            return
        self._closed.set()
        with self._lock:
            refs = list(self._in_flight)
        for ref in refs:
            with contextlib.suppress(Exception):  # already finished, or Ray is gone
                self._ray.cancel(ref, force=True)
        if self._started_ray:
            self._ray.shutdown()
