"""Worker threads: claim executions, run them on simulator processes, complete them.

One loop per thread: wait for a wake-up (or the poll interval), claim a batch, send small circuits
to a simulator process as one call and large ones as calls of their own, and complete each group as
soon as it finishes (the last completion also claims the next batch). A heartbeat thread keeps the
leases of running work alive; if this process dies, the leases expire and the reaper gives the work
to someone else.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from qumulus.backends.catalog import CATALOG, emulation_target
from qumulus.notifications.outbox import Outbox
from qumulus.runtime import queue, reaping
from qumulus.runtime.characterizations import CharacterizationCache
from qumulus.runtime.completion import RateBook, complete
from qumulus.runtime.executor import Aborted, BrokenProcessPool, LocalExecutor, unsendable
from qumulus.runtime.queue import Claimed
from qumulus.runtime.tasks import Outcome, Task
from qumulus.runtime.wakeup import LocalWaker
from qumulus.scheduling.lanes import SMALL_CIRCUIT_QUBITS, is_long, long_lanes
from qumulus.store.db import Database

if TYPE_CHECKING:
    from sqlalchemy import Connection

log = logging.getLogger("qumulus.worker")

#: The backends a simulator runs (the ideal simulator and the emulated QPUs); anything else is
#: driver-served (runtime.forwarding).
SIMULATED = frozenset(spec.name for spec in CATALOG)


def owner_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class WorkerPool:
    """``threads`` worker loops sharing one executor, a waker and a heartbeat."""

    def __init__(
        self,
        db: Database,
        executor: LocalExecutor,
        waker: LocalWaker,
        *,
        data_dir: Path,
        threads: int = 2,
        backends: Sequence[str] | None = None,
        claim_batch: int = 32,
        lease_seconds: float = 60.0,
        max_attempts: int = 3,
        inline_limit: int = 4096,
        max_emulation_seconds: float = 0.0,
        poll_seconds: float = 1.0,
        on_finished: Callable[[list[tuple[str, str]]], None] | None = None,
        outbox: Outbox | None = None,
    ) -> None:
        self.db = db
        self.executor = executor
        self.waker = waker
        self.data_dir = data_dir
        self.results_dir = data_dir / "results"
        self.results_dir.mkdir(parents=True, exist_ok=True)
        self._results_prefix = os.path.join(self.results_dir, "")  # a string join per task, not a Path
        self.backends = list(backends) if backends is not None else None
        self.claim_batch = claim_batch
        self.lease_seconds = lease_seconds
        #: ``Settings.max_attempts``: the cap the reaper applies too (runtime/reaping.py).
        self.max_attempts = max_attempts
        self.inline_limit = inline_limit
        #: The emulator's wall-time limit: a run predicted over it shares trajectories (budget mode).
        self.max_emulation_seconds = max_emulation_seconds
        self.poll_seconds = poll_seconds
        self.on_finished = on_finished
        self.outbox = outbox
        self.owner = owner_name()
        self.rates = RateBook()
        self.characterizations = CharacterizationCache(db)
        self._stop = threading.Event()
        self._running: set[str] = set()
        #: Threads now running a batch of small circuits only (they claim again within milliseconds).
        self._small_active = 0
        self._running_lock = threading.Lock()
        self._check_leases = threading.Event()
        #: Long lanes (scheduling/lanes.py): a thread holds one while its batch has long work; a
        #: thread that cannot get one claims short work only, so short work always has a slot.
        self.long_lanes = long_lanes(min(threads, getattr(executor, "processes", threads)))
        self._long = threading.BoundedSemaphore(self.long_lanes)
        self._lane = threading.local()
        self._threads = [
            threading.Thread(target=self._loop, name=f"qumulus-worker-{i}", daemon=True)
            for i in range(threads)
        ]
        self._threads.append(threading.Thread(target=self._heartbeat, name="qumulus-heartbeat", daemon=True))

    # lifecycle -------------------------------------------------------------------------------

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop claiming; stop the simulator processes (a long simulation is abandoned, its
        execution goes back to the queue for the next start); wait for the threads."""
        self._stop.set()
        self._check_leases.set()
        self.waker.notify(len(self._threads))
        self.executor.shutdown()
        for thread in self._threads:
            thread.join(timeout)

    # loops -------------------------------------------------------------------------------------

    def _loop(self) -> None:
        ahead: list[Claimed] = []
        while not self._stop.is_set():
            if not ahead:
                self.waker.clear()
                if self._small_active:
                    # Another thread is finishing a batch of small circuits and will claim what is
                    # queued in the same transaction; two threads racing for it would only add
                    # empty claims (measured: 1 thread 242 jobs/s vs 2 racing threads 202).
                    self.waker.wait(self.poll_seconds)
                    continue
            try:
                worked, ahead = self.run_once(ahead)
            except Exception:  # the loop must survive database hiccups
                log.exception("worker iteration failed")
                worked, ahead = False, []
            if not ahead:
                self._drop_lane()  # the next claim takes one again if it can
            if not worked:
                self.waker.wait(self.poll_seconds)

    def run_once(self, ahead: list[Claimed] | None = None) -> tuple[bool, list[Claimed]]:
        """Run one batch (``ahead``, or a fresh claim). Returns whether there was work, and the next
        batch, claimed in the same transaction that completed this one (one write instead of two)."""
        claimed = ahead or self._claim()
        if not claimed:
            return False, []
        by_id = {c.execution_id: c for c in claimed}
        with self._running_lock:
            self._running.update(by_id)
        try:
            return True, self._execute(claimed, by_id)
        finally:
            with self._running_lock:
                self._running.difference_update(by_id)

    def _claim(self) -> list[Claimed]:
        # A lock-free look first (one read on SQLite's own driver): most wake-ups of an idle pool
        # find nothing, and they should not take the write lock to learn it.
        if not queue.has_queued(self.db, backends=self.backends):
            self._drop_lane()
            return []
        with self.db.begin(durable=False) as conn:  # Core: no ORM session on the hot path
            return self._claim_in(conn)

    def _claim_in(self, session: Connection) -> list[Claimed]:
        """Claim a batch: any work while this thread holds (or can take) a long lane, else short
        work only. A lane not needed by what was claimed is given back at once."""
        held = getattr(self._lane, "held", False) or self._long.acquire(blocking=False)
        self._lane.held = held
        claimed = queue.claim(
            session,
            owner=self.owner,
            backends=self.backends,
            limit=self.claim_batch,
            lease_seconds=self.lease_seconds,
            postgres=self.db.is_postgres,
            short_only=not held,
        )
        if held and not any(_is_long(item) for item in claimed):
            self._drop_lane()
        return claimed

    def _drop_lane(self) -> None:
        if getattr(self._lane, "held", False):
            self._lane.held = False
            self._long.release()

    def _execute(
        self,
        claimed: list[Claimed],
        by_id: dict[str, Claimed],
        *,
        claim_next: bool = True,
        collect: list[tuple[list[tuple[str, str]], list[Outcome]]] | None = None,
        siblings_together: bool = False,
    ) -> list[Claimed]:
        """Run a claimed batch; returns the next batch if the last completion claimed one
        (``claim_next``). ``collect`` receives each completion's finished jobs and outcomes.
        ``siblings_together``: long circuits of one parent go to the simulator in one call and
        complete in one transaction (a workload evaluation needs them all before it goes on)."""
        if any(item.backend not in SIMULATED for item in claimed):
            claimed = self._hand_back_foreign(claimed)
            if not claimed:
                return []
        small: list[Task] = []
        groups: list[list[Task]] = []
        broken: list[Outcome] = []
        families: dict[str, list[Task]] = {}
        for item in claimed:
            try:
                task = self._task(item)
            except Exception as exc:  # a row no task can be made of fails alone, not its batch
                log.exception("execution %s: cannot prepare its task", item.execution_id)
                broken.append(unsendable(item.execution_id, exc))
                continue
            # Emulated (noisy) runs take 0.1 s to minutes: never batched with tiny ideal jobs.
            if task.qubits <= SMALL_CIRCUIT_QUBITS and task.characterization is None:
                small.append(task)
            elif siblings_together and item.parent_id is not None:
                family = families.get(item.parent_id)
                if family is None:
                    family = families[item.parent_id] = []
                    groups.append(family)
                family.append(task)
            else:
                groups.append([task])
        if small:
            groups.insert(0, small)
        if broken:
            ahead = self._complete(by_id, broken, claim_next=claim_next and not groups, collect=collect)
            if not groups:
                return ahead
        # Other threads leave the next claim to this one only if it makes one (see _loop).
        only_small = bool(small) and len(groups) == 1 and claim_next
        if only_small:
            with self._running_lock:
                self._small_active += 1
        try:
            return self._run_groups(groups, by_id, claim_next=claim_next, collect=collect)
        finally:
            if only_small:
                with self._running_lock:
                    self._small_active -= 1

    def _run_groups(
        self,
        groups: list[list[Task]],
        by_id: dict[str, Claimed],
        *,
        claim_next: bool = True,
        collect: list[tuple[list[tuple[str, str]], list[Outcome]]] | None = None,
    ) -> list[Claimed]:
        ahead: list[Claimed] = []
        for n, tasks in enumerate(groups):
            last = n == len(groups) - 1
            if self._stop.is_set():
                break  # shutting down: what is left stays claimed and is requeued at the next start
            outcomes = self._run_isolated(tasks, by_id)
            if outcomes:
                next_claim = claim_next and last and not self._stop.is_set()
                ahead = self._complete(by_id, outcomes, claim_next=next_claim, collect=collect)
        return ahead

    def _run_isolated(self, tasks: list[Task], by_id: dict[str, Claimed]) -> list[Outcome]:
        """Run a group; if its process dies under it, run each task alone, so that the task that
        kills the process is retried (or failed, out of attempts) and its batch-mates complete."""
        try:
            return self.executor.run(tasks)
        except Aborted:
            return []  # canceled while running: the cancel already finished these executions
        except BrokenProcessPool:
            if self._stopping():
                # We are stopping (SIGTERM, Ctrl-C) and stopped the simulator ourselves, or the
                # signal reached it first: nothing died; the work goes back to the queue.
                log.info("stopping: %d interrupted execution(s) go back to the queue", len(tasks))
                self._handle_crash(tasks, by_id)
                return []
            log.warning("a simulator process died; it has been replaced")
            if len(tasks) == 1:
                self._handle_crash(tasks, by_id)
                return []
        outcomes: list[Outcome] = []
        for task in tasks:  # one per call: only the culprit dies again
            if self._stop.is_set():
                break
            outcomes += self._run_isolated([task], by_id)
        return outcomes

    #: How long a worker whose simulator process vanished waits for its own stop before calling it
    #: a crash: a signal sent to the whole process group (a terminal's Ctrl-C, systemd's stop)
    #: can end the simulator a moment before this process's handler stops the pool.
    STOP_GRACE_SECONDS = 1.0

    def _stopping(self) -> bool:
        return self._stop.wait(self.STOP_GRACE_SECONDS)

    def _hand_back_foreign(self, claimed: list[Claimed]) -> list[Claimed]:
        """Put back executions of a backend no simulator runs (a driver-served backend declared after
        this pool started claiming every backend), and claim only simulated backends from now on."""
        foreign = [item for item in claimed if item.backend not in SIMULATED]
        with self.db.write(durable=False) as session:
            for item in foreign:
                queue.requeue(session, execution_id=item.execution_id, owner=self.owner, attempt=item.attempt)
        self.backends = [b for b in SIMULATED if self.backends is None or b in self.backends]
        log.info("handed back %d execution(s) of driver-served backends; claiming %s only",
                 len(foreign), ", ".join(self.backends))  # fmt: skip
        return [item for item in claimed if item.backend in SIMULATED]

    def _task(self, item: Claimed) -> Task:
        qubits = _declared_qubits(item.input)
        emulated = emulation_target(item.backend, item.noise)
        snapshot = self.characterizations.get(emulated) if emulated else None
        return Task(
            execution_id=item.execution_id,
            job_id=item.job_id,
            # An OpenQASM job stores its program as ``{"data", "qubits"}``; everything else is IonQ JSON.
            job_type="ionq.qasm3.v1" if "data" in item.input else "ionq.circuit.v1",
            input=item.input,
            shots=item.shots,
            noise=item.noise,
            result_path=f"{self._results_prefix}{item.job_id}.npz",
            inline_limit=self.inline_limit,
            max_emulation_seconds=self.max_emulation_seconds,
            qubits=qubits,
            settings=item.settings,
            characterization=snapshot.data if snapshot else None,
            characterization_id=snapshot.id if snapshot else None,
            device_qubits=snapshot.qubits if snapshot else 0,
        )

    def _complete(
        self,
        by_id: dict[str, Claimed],
        outcomes: list[Outcome],
        *,
        claim_next: bool = False,
        collect: list[tuple[list[tuple[str, str]], list[Outcome]]] | None = None,
    ) -> list[Claimed]:
        ahead: list[Claimed] = []
        with self.db.begin(durable=False) as conn:  # Core: no ORM session on the hot path
            finished = complete(
                conn,
                owner=self.owner,
                claimed=by_id,
                outcomes=outcomes,
                data_dir=self.data_dir,
                rates=self.rates,
                outbox=self.outbox,
            )
            if claim_next:
                ahead = self._claim_in(conn)
        if collect is not None:
            collect.append((finished, outcomes))
        if finished and self.on_finished is not None:
            self.on_finished(finished)
        return ahead

    def _handle_crash(self, tasks: list[Task], by_id: dict[str, Claimed]) -> None:
        """The pool died under these tasks: retry them, failing those that keep killing it."""
        failed: list[Outcome] = []
        with self.db.write(durable=False) as session:
            for task in tasks:
                item = by_id[task.execution_id]
                if reaping.exhausted(item.attempt, self.max_attempts) and not self._stop.is_set():
                    why = (
                        "the simulator process died running this circuit (out of memory, or an engine crash)"
                    )
                    failed.append(
                        Outcome(
                            task.execution_id,
                            ok=False,
                            seconds=0.0,
                            failure=reaping.failure(item.attempt, why),
                        )
                    )
                else:
                    queue.requeue(
                        session, execution_id=item.execution_id, owner=self.owner, attempt=item.attempt
                    )
        if failed:
            self._complete(by_id, failed)
        self.waker.notify()

    # claimed by a caller, run in the caller's thread ----------------------------------------------

    def claim_in(self, conn: Connection, limit: int) -> CallerBatch:
        """Claim up to ``limit`` executions in the caller's write transaction, for the caller to run
        with :meth:`run_claimed` as soon as it commits.

        For the workload runner, which has just queued an evaluation's circuits in that transaction:
        they start at once instead of after a worker thread wakes and claims them in a transaction of
        its own. It is this pool's claim (its owner, backends, leases and fair-share order, so what
        is claimed may be other work queued ahead of them), and long work only while a long lane is
        free (held until :meth:`run_claimed` ends, as a worker thread holds one)."""
        lane = self._long.acquire(blocking=False)
        try:
            claimed = queue.claim(
                conn,
                owner=self.owner,
                backends=self.backends,
                limit=limit,
                lease_seconds=self.lease_seconds,
                postgres=self.db.is_postgres,
                short_only=not lane,
            )
        except BaseException:
            if lane:
                self._long.release()
            raise
        if lane and not any(_is_long(item) for item in claimed):
            self._long.release()
            lane = False
        return CallerBatch(claimed, self._long if lane else None)

    def run_claimed(self, batch: CallerBatch) -> dict[str, Outcome]:
        """Run a batch from :meth:`claim_in` (committed) in this thread, on this pool's executor,
        leases renewed by its heartbeat and completed as a worker completes (no next claim: worker
        threads claim what else is queued; the long circuits of one parent in one simulator call).
        Returns the outcomes whose completion applied, by job id: a job canceled meanwhile has none."""
        by_id = {c.execution_id: c for c in batch.claimed}
        collect: list[tuple[list[tuple[str, str]], list[Outcome]]] = []
        with self._running_lock:
            self._running.update(by_id)
        try:
            if by_id:
                self._execute(batch.claimed, by_id, claim_next=False, collect=collect, siblings_together=True)
        finally:
            with self._running_lock:
                self._running.difference_update(by_id)
            batch.release()
        done: dict[str, Outcome] = {}
        for finished, outcomes in collect:
            final = {job_id for job_id, _ in finished}
            for outcome in outcomes:
                item = by_id.get(outcome.execution_id)
                if item is not None and item.job_id in final:
                    done[item.job_id] = outcome
        return done

    def check_leases(self) -> None:
        """Look at once for running work whose lease is gone (a cancel, say) and stop it."""
        self._check_leases.set()

    def _heartbeat(self) -> None:
        """Renew the leases of running work; stop simulations whose lease is no longer ours.

        A lease is lost when the job was canceled (or reaped and given to another worker): its
        simulator process is then killed, so a canceled 30-qubit job does not hold a core for minutes.
        Runs every lease/3 seconds, and at once after :meth:`check_leases`.
        """
        interval = max(0.5, self.lease_seconds / 3)
        while not self._stop.is_set():
            self._check_leases.wait(interval)
            self._check_leases.clear()
            if self._stop.is_set():
                return
            with self._running_lock:
                ids = list(self._running)
            if not ids:
                continue
            try:
                with self.db.write(durable=False) as session:
                    queue.heartbeat(
                        session, owner=self.owner, execution_ids=ids, lease_seconds=self.lease_seconds
                    )
                    lost = queue.not_held(session, owner=self.owner, execution_ids=ids)
                if lost:
                    self.executor.abort(lost)
            except Exception:
                log.exception("heartbeat failed")


class CallerBatch:
    """Executions claimed by :meth:`WorkerPool.claim_in`, and the long lane held for them, if any."""

    def __init__(self, claimed: list[Claimed], lane: threading.BoundedSemaphore | None) -> None:
        self.claimed = claimed
        self._lane = lane

    def release(self) -> None:
        """Give the long lane back (once): after the run, or when the claim's transaction failed."""
        lane, self._lane = self._lane, None
        if lane is not None:
            lane.release()


def _is_long(item: Claimed) -> bool:
    """The size class of a claimed execution (scheduling/lanes.py)."""
    return is_long(_declared_qubits(item.input), emulation_target(item.backend, item.noise) is not None)


def _declared_qubits(payload: dict[str, object]) -> int:
    qubits = payload.get("qubits")
    return qubits if isinstance(qubits, int) else 0
