"""Executors run simulation tasks away from the server's threads.

``LocalExecutor`` is a pool of simulator processes inside the server process, one per core by
default. A worker thread checks a process out, sends it a batch over a pipe and blocks on the answer:
one pickle each way and no intermediary threads (``concurrent.futures.ProcessPoolExecutor`` adds a
manager and a feeder thread per call, whose GIL hand-offs were a visible share of a tiny job's
cost). A process can be killed, and a simulator crash (segfault, out-of-memory kill) costs only that
process: it is replaced and the worker learns of it as :class:`BrokenProcessPool`.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import pickle
import queue
import threading
from multiprocessing.connection import Connection
from typing import Any

from qumulus.runtime.tasks import Outcome, Task, run_tasks, warm_up

__all__ = ["Aborted", "BrokenProcessPool", "LocalExecutor", "unsendable"]


class BrokenProcessPool(RuntimeError):
    """The simulator process died while running a batch (it has been replaced)."""


class Aborted(BrokenProcessPool):
    """The batch was stopped on purpose (its executions were canceled); the process was replaced."""


#: The failure code of an execution whose task cannot cross to a simulator process (or whose
#: outcome cannot come back): its input is stored but unusable. Only that execution fails.
UNSENDABLE = "InvalidInput"


def unsendable(execution_id: str, exc: BaseException) -> Outcome:
    """The failed outcome of a task that cannot be sent, received or prepared."""
    return Outcome(
        execution_id,
        ok=False,
        seconds=0.0,
        failure={
            "code": UNSENDABLE,
            "message": f"the job's stored input cannot be run: {type(exc).__name__}: {str(exc)[:200]}",
        },
    )


def _pack(tasks: list[Task]) -> tuple[list[tuple[str, bytes]], list[Outcome]]:
    """Pickle each task on its own: a task that cannot be pickled (a ``RecursionError`` on a deep
    structure, an unpicklable value) fails alone instead of taking the whole batch's send with it."""
    packed: list[tuple[str, bytes]] = []
    failed: list[Outcome] = []
    for task in tasks:
        try:
            packed.append((task.execution_id, pickle.dumps(task, pickle.HIGHEST_PROTOCOL)))
        except Exception as exc:  # RecursionError, PicklingError, TypeError, ...
            failed.append(unsendable(task.execution_id, exc))
    return packed, failed


def _unpack_and_run(packed: list[tuple[str, bytes]]) -> list[Outcome]:
    """In the simulator process: unpickle each task on its own (one that cannot be read fails alone)
    and run the rest as one batch."""
    tasks: list[Task] = []
    failed: list[Outcome] = []
    for execution_id, blob in packed:
        try:
            tasks.append(pickle.loads(blob))
        except Exception as exc:
            failed.append(unsendable(execution_id, exc))
    return run_tasks(tasks) + failed if tasks else failed


def _serve(conn: Connection, warm: bool) -> None:
    """The simulator process: warm up, say so, then run batches until the pipe closes."""
    warm_up(warm)
    conn.send(("ready", os.getpid()))
    while True:
        try:
            packed = conn.recv()
        except (EOFError, OSError):
            return
        outcomes = _unpack_and_run(packed)
        try:
            conn.send(outcomes)
        except (EOFError, OSError):
            return
        except Exception:  # an outcome that cannot be pickled back: send each alone, or its failure
            conn.send([_sendable(outcome) for outcome in outcomes])


def _sendable(outcome: Outcome) -> Outcome:
    try:
        pickle.dumps(outcome, pickle.HIGHEST_PROTOCOL)
        return outcome
    except Exception as exc:
        return unsendable(outcome.execution_id, exc)


class _Slot:
    def __init__(self, context: Any, warm: bool) -> None:
        self.context = context
        self.warm = warm
        self.ready = False
        #: Execution ids of the batch this process is running now (empty when idle).
        self.running: frozenset[str] = frozenset()
        self.aborted = False
        self.start()

    def start(self) -> None:
        # spawn, not fork: the server process has threads (uvicorn, workers) that fork would copy
        # in whatever state they are in.
        parent, child = self.context.Pipe()
        self.process = self.context.Process(target=_serve, args=(child, self.warm), daemon=True)
        self.process.start()
        child.close()
        self.conn: Connection = parent
        self.ready = False

    def wait_ready(self, timeout: float | None = None) -> None:
        if self.ready:
            return
        if timeout is not None and not self.conn.poll(timeout):
            raise TimeoutError("simulator process did not start in time")
        self.conn.recv()
        self.ready = True

    def run(self, tasks: list[Task]) -> list[Outcome]:
        self.wait_ready()
        packed, failed = _pack(tasks)
        if not packed:
            return failed
        self.aborted = False
        self.running = frozenset(execution_id for execution_id, _ in packed)
        try:
            self.conn.send(packed)
            return self.conn.recv() + failed
        finally:
            self.running = frozenset()

    def restart(self) -> None:
        self.stop()
        self.start()

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self.conn.close()
        process = self.process
        if process.pid is None:
            return  # being replaced by another thread (a restart racing a shutdown): not started yet
        if process.is_alive():
            process.terminate()
        process.join(5)


class LocalExecutor:
    def __init__(self, processes: int = 0, *, warm: bool = True) -> None:
        self.processes = processes or os.cpu_count() or 1
        self.warm = warm
        self._context = multiprocessing.get_context("spawn")
        self._slots = [_Slot(self._context, warm) for _ in range(self.processes)]
        self._free: queue.Queue[_Slot] = queue.Queue()
        for slot in self._slots:
            self._free.put(slot)
        self._closed = threading.Event()

    def prestart(self, timeout: float = 120.0) -> None:
        """Wait until every process has started (and, with ``warm``, imported its engines).

        Without it the first job after ``qumulus serve`` pays for spawning and importing (seconds).
        """
        for slot in self._slots:
            slot.wait_ready(timeout)

    def run(self, tasks: list[Task]) -> list[Outcome]:
        """Run a batch on a free process (blocking). Raises :class:`BrokenProcessPool` if it died."""
        if self._closed.is_set():
            raise RuntimeError("executor is shut down")
        slot = self._free.get()
        try:
            return slot.run(tasks)
        except (EOFError, OSError) as exc:
            if not self._closed.is_set():  # shutting down: do not start a replacement
                slot.restart()
            if slot.aborted:
                raise Aborted("simulation stopped: its executions were canceled") from None
            raise BrokenProcessPool(f"simulator process died: {exc!r}") from None
        finally:
            self._free.put(slot)

    def abort(self, execution_ids: set[str]) -> int:
        """Kill the processes whose whole running batch is in ``execution_ids``; returns how many.

        A batch that also holds other work is left to finish (small batches take milliseconds).
        """
        killed = 0
        for slot in self._slots:
            running = slot.running
            if running and running <= execution_ids and slot.process.is_alive():
                slot.aborted = True
                slot.process.kill()
                killed += 1
        return killed

    def pids(self) -> list[int]:
        return [slot.process.pid for slot in self._slots if slot.process.pid is not None]

    def shutdown(self) -> None:
        if self._closed.is_set():
            return
        self._closed.set()
        for slot in self._slots:
            slot.stop()
