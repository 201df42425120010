"""The workload runner: the loop of ``quantum-function`` and ``optimization`` jobs, next to the queue.

A workload is one more kind of work a worker claims with a lease (the ``workloads`` table: claim =
one fenced UPDATE with ``attempt + 1``; the lease is renewed while the loop runs; an expired lease is
claimed again by any runner). Each evaluation of the quantum function becomes ordinary child jobs of
the workload job, one ``ionq.circuit.v1`` circuit per measurement group, inserted with their
executions in one transaction, so everything a circuit job gets applies to them: the fair-share
queue, the budget hold (per evaluation, see :mod:`.submission`), the session's limits, the
simulator processes or Ray (whatever executor the workers of that backend use), the ledger row
and the settlement at completion, and cancellation. Where the loop's process has a worker pool for
the backend, that transaction ends with the pool's own fair-share claim and the loop runs what it
claimed at once, in its thread, reading the distributions from the outcomes in hand
(``WorkerPool.claim_in``/``run_claimed``: no worker wake-up, no claim transaction, no result
read). What it did not claim, the workers run: the loop then waits (woken by the completion hub of
its process when the last circuit is done, polling the database otherwise). It computes the energy
from the distributions and records a ``workload_progress`` row, committed with the next evaluation's circuits
(the optimizer's step in between takes microseconds; one transaction fewer per evaluation) or with
the end of the loop.

**Resuming.** A runner that dies leaves its lease to expire. The next runner replays the loop from
the start with the recorded evaluations: every optimizer here is deterministic given the values it
sees (SPSA's generator is seeded from the job id), so it asks for the same parameters again and
gets the recorded values back without running a circuit, until it reaches the first evaluation
with no record: from there on it runs circuits (reusing an evaluation's circuits already queued by
the dead runner). The progress continues from the last recorded iteration; nothing is paid twice.

**Durability.** The loop's writes (its circuits, its progress rows, its end) commit like the
queue's bookkeeping (``synchronous=NORMAL`` on SQLite, docs/architecture.md "Durability"): a power
loss can drop only the latest of them, and a resumed loop redoes exactly what was dropped (an
evaluation's circuits and their hold are one transaction). The workload job itself was accepted
with a durable commit.

**Cancel** marks the workload job and its active circuits canceled (``services.jobs.lifecycle``);
the loop sees it at its next look (it looks every 50 ms while it waits) and stops at once.
"""

from __future__ import annotations

import contextlib
import logging
import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update

from qumulus.auth.principal import Principal
from qumulus.backends.catalog import BY_NAME, emulation_target
from qumulus.circuits.ionq_json import to_native_json, to_qis_json
from qumulus.circuits.model import CircuitBatch
from qumulus.domain import ACTIVE, TERMINAL
from qumulus.errors import QumulusError
from qumulus.notifications.outbox import JobEvent
from qumulus.services.billing import charging
from qumulus.services.context import Context
from qumulus.services.jobs.results import load_row
from qumulus.services.workloads.submission import first_params, parse_workload
from qumulus.store.models import Execution, Job, Project, Result, Workload, WorkloadProgress, new_id
from qumulus.timeutil import utcnow
from qumulus.workloads import Evaluation, HamiltonianEnergy, OptimizationSpec, optimizers

log = logging.getLogger("qumulus.workloads")

#: Most evaluations one workload makes, whatever its optimizer asks (gradient methods by finite
#: differences can ask for many); past it the loop ends with the best value found.
MAX_EVALUATIONS = 2000
#: How often a waiting loop looks at its circuits and its own job (seconds), when not woken sooner.
LOOK_SECONDS = 0.05


# Built once (as the queue's statements are, runtime/queue.py): the loop runs them per evaluation.
_FENCE = (
    update(Workload)
    .where(
        Workload.job_id == bindparam("w_id"),
        Workload.attempt == bindparam("w_attempt"),
        Workload.lease_owner == bindparam("w_owner"),
    )
    .values(lease_expires_at=bindparam("w_expires"), updated_at=bindparam("w_now"))
)
_STATUS = select(Job.status).where(Job.id == bindparam("j_id"))
_EXISTING = (
    select(Job.id, Job.status)
    .where(
        Job.parent_id == bindparam("p_id"),
        Job.child_index >= bindparam("lo"),
        Job.child_index < bindparam("hi"),
    )
    .order_by(Job.child_index)
)
_LOOK = select(Job.id, Job.status, Job.failure).where(Job.id.in_(bindparam("ids", expanding=True)))
_RESULTS = select(Result.job_id, Result.qubits, Result.probabilities, Result.path).where(
    Result.job_id.in_(bindparam("ids", expanding=True))
)
_ADD_PROGRESS = insert(WorkloadProgress.__table__)
_ADD_JOBS = insert(Job.__table__)
_ADD_EXECUTIONS = insert(Execution.__table__)
_COUNT = update(Workload).where(Workload.job_id == bindparam("w_id")).values(evaluations=bindparam("w_n"))
_COUNT_BEST = (
    update(Workload)
    .where(Workload.job_id == bindparam("w_id"))
    .values(evaluations=bindparam("w_n"), best_value=bindparam("w_value"), best_params=bindparam("w_params"))
)


class _Canceled(Exception):
    pass


class _LostLease(Exception):
    pass


class _Failed(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class _Watch:
    """An evaluation's circuits being waited for: the loop is woken when the last one finishes (or
    one fails), not at every circuit (a woken loop reads the database, on a CPU the next circuit's
    completion needs)."""

    def __init__(self, child_ids: list[str]) -> None:
        self.event = threading.Event()
        self._pending = set(child_ids)
        self._lock = threading.Lock()

    def finished(self, job_id: str, status: str) -> None:
        with self._lock:
            self._pending.discard(job_id)
            last = not self._pending
        if last or status != "completed":
            self.event.set()

    def narrow(self, still: set[str]) -> None:
        """Only ``still`` (what the loop's last look found unfinished) is waited for: circuits that
        finished before the watch was set are not announced again. Nothing left: wake now."""
        with self._lock:
            self._pending &= still
            empty = not self._pending
        if empty:
            self.event.set()


@dataclass
class _Claim:
    job_id: str
    attempt: int


class WorkloadRunner:
    """Claims workloads (of ``backends``, or any) and runs each loop in a thread of its own."""

    def __init__(
        self,
        ctx: Context,
        *,
        owner: str,
        backends: Sequence[str] | None = None,
        slots: int = 8,
        lease_seconds: float = 30.0,
        poll_seconds: float = 0.5,
        on_finished: Callable[[list[tuple[str, str]]], None] | None = None,
        pool: Any | None = None,
    ) -> None:
        self.ctx = ctx
        #: The worker pool of this process (``runtime.worker.WorkerPool``), if it has one: an
        #: evaluation's circuits are claimed from the queue in the transaction that queues them and
        #: run at once by the loop's thread on that pool (see ``_Loop._queue_in_transaction``).
        self.pool = pool
        self.owner = owner
        self.backends = list(backends) if backends is not None else None
        self.slots = slots
        self.lease_seconds = lease_seconds
        self.poll_seconds = poll_seconds
        self.on_finished = on_finished
        self._stop = threading.Event()
        #: Set by a test to make loops end as if the process had died (no clean-up, lease kept).
        self.crash = threading.Event()
        self._threads: dict[str, threading.Thread] = {}
        self._lock = threading.Lock()
        self._watch: dict[str, _Watch] = {}
        self._dispatcher: threading.Thread | None = None
        ctx.completions.listen(self._finished)

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> None:
        self._dispatcher = threading.Thread(target=self._dispatch, name="workload-runner", daemon=True)
        self._dispatcher.start()

    def stop(self, *, release: bool = True) -> None:
        """Stop claiming and stop every loop at its next look; ``release`` puts their workloads
        back in the queue at once (else they wait for their leases to expire)."""
        self._stop.set()
        self.ctx.workloads_waker.notify()
        if self._dispatcher is not None:
            self._dispatcher.join(timeout=10)
        for thread in list(self._threads.values()):
            thread.join(timeout=10)
        if release:
            with self.ctx.db.write(durable=False) as session:
                session.execute(
                    update(Workload)
                    .where(Workload.lease_owner == self.owner, Workload.state == "running")
                    .values(state="queued", lease_owner=None, lease_expires_at=None)
                )

    def running(self) -> list[str]:
        with self._lock:
            return [job_id for job_id, t in self._threads.items() if t.is_alive()]

    def _finished(self, done: list[tuple[str, str]]) -> None:
        if not self._watch:
            return
        for job_id, status in done:
            watch = self._watch.get(job_id)
            if watch is not None:
                watch.finished(job_id, status)

    # -- claiming --------------------------------------------------------------------------------
    def _dispatch(self) -> None:
        waker = self.ctx.workloads_waker
        while not self._stop.is_set() and not self.crash.is_set():
            waker.clear()
            try:
                claimed = self._claim() if len(self.running()) < self.slots else None
            except Exception:  # a database hiccup must not end the runner
                log.exception("workload claim failed")
                claimed = None
            if claimed is not None:
                thread = threading.Thread(
                    target=self._run, args=(claimed,), name=f"workload-{claimed.job_id[:8]}", daemon=True
                )
                with self._lock:
                    self._threads = {k: t for k, t in self._threads.items() if t.is_alive()}
                    self._threads[claimed.job_id] = thread
                thread.start()
                continue
            waker.wait(self.poll_seconds)

    def _claim(self) -> _Claim | None:
        now = utcnow()
        stmt = (
            select(Workload.job_id, Workload.attempt)
            .where(
                (Workload.state == "queued")
                | ((Workload.state == "running") & (Workload.lease_expires_at < now))
            )
            .order_by(Workload.created_at)
            .limit(1)
        )
        if self.backends is not None:
            stmt = stmt.where(Workload.backend.in_(self.backends))
        with self.ctx.db.write(durable=False) as session:
            if session.get_bind().dialect.name == "postgresql":
                stmt = stmt.with_for_update(skip_locked=True)
            row = session.execute(stmt).first()
            if row is None:
                return None
            taken = session.execute(
                update(Workload)
                .where(Workload.job_id == row.job_id, Workload.attempt == row.attempt)
                .values(
                    state="running",
                    attempt=row.attempt + 1,
                    lease_owner=self.owner,
                    lease_expires_at=_after(self.lease_seconds),
                    updated_at=now,
                )
            )
            if taken.rowcount != 1:
                return None
        return _Claim(row.job_id, row.attempt + 1)

    # -- one loop --------------------------------------------------------------------------------
    def _run(self, claim: _Claim) -> None:
        try:
            _Loop(self, claim).run()
        except _LostLease:
            log.info("workload %s: lease lost, another runner has it", claim.job_id)
        except Exception:
            log.exception("workload %s: runner error", claim.job_id)


def _after(seconds: float) -> Any:
    from datetime import timedelta

    return utcnow() + timedelta(seconds=seconds)


class _Loop:
    """One claimed workload, from its recorded progress to its end."""

    def __init__(self, runner: WorkloadRunner, claim: _Claim) -> None:
        self.runner = runner
        self.ctx = runner.ctx
        self.claim = claim
        self.job_id = claim.job_id
        self._renewed = time.monotonic()
        #: What the loop claimed in its transaction, until that transaction has committed.
        self._claiming: Any = None
        #: The last evaluation's progress row, written by the next transaction (see evaluate).
        self._pending: tuple[int, list[float], Evaluation, str | None] | None = None

    # fenced writes: every change the loop makes checks that the lease is still its own
    def _fence(self, session: Any) -> None:
        took = session.execute(
            _FENCE,
            {"w_id": self.job_id, "w_attempt": self.claim.attempt, "w_owner": self.runner.owner,
             "w_expires": _after(self.runner.lease_seconds), "w_now": utcnow()},
        )  # fmt: skip
        if took.rowcount != 1:
            raise _LostLease()
        self._renewed = time.monotonic()

    def _check_alive(self) -> None:
        if self.runner.crash.is_set():
            raise _LostLease()  # a simulated crash: walk away, touching nothing
        if self.runner._stop.is_set():
            raise _LostLease()
        if time.monotonic() - self._renewed > self.runner.lease_seconds / 3:
            with self.ctx.db.begin(durable=False) as conn:
                self._fence(conn)

    def run(self) -> None:
        with self.ctx.db.read() as session:
            job = session.get(Job, self.job_id)
            if job is None:
                return
            payload = job.input
            org = session.scalar(select(Project.organization_id).where(Project.id == job.project_id))
            self.job = job
            session.expunge(job)
        if job.status in TERMINAL:
            self._close(None)
            return
        self.principal = Principal(
            organization_id=org or "", project_id=job.project_id, user_id=job.submitter_id,
            api_key_id=job.api_key_id,
        )  # fmt: skip
        self.backend = self.ctx.backends.get(job.backend)
        self.emulated = emulation_target(job.backend, job.noise)
        # On an emulated QPU the circuits go as native gates from templates compiled once per
        # measurement group (workloads/ansatz.NativeTemplates): no transpiler run per circuit, in
        # the emulator or in the estimate of its hold. Gate lists for the ideal simulator as sent.
        device = BY_NAME.get(self.emulated) if self.emulated is not None and job.backend in BY_NAME else None
        self.native_2q = device.native_2q if device is not None else None
        spec = parse_workload(job.type, payload)
        self.function: HamiltonianEnergy = spec.function
        self.groups = len(self.function.groups)
        with self.ctx.db.write(durable=False) as session:
            self._fence(session)
            session.execute(
                update(Job)
                .where(Job.id == self.job_id, Job.status.in_(("submitted", "ready")))
                .values(status="started", started_at=utcnow())
            )
            self.recorded = list(
                session.execute(
                    select(WorkloadProgress.iteration, WorkloadProgress.params, WorkloadProgress.value,
                           WorkloadProgress.variance)
                    .where(WorkloadProgress.workload_id == self.job_id)
                    .order_by(WorkloadProgress.iteration)
                )
            )  # fmt: skip
        self.count = 0
        self.best: tuple[float, list[float]] | None = None
        for row in self.recorded:
            if row.value is not None and (self.best is None or row.value < self.best[0]):
                self.best = (row.value, list(row.params))
        try:
            if isinstance(spec, OptimizationSpec):
                result = self._optimize(spec)
            else:
                evaluation = self.evaluate(first_params(spec))
                result = {"value": evaluation.value, "variance": evaluation.variance}
        except _Canceled:
            self._close(None)
            return
        except _Failed as failed:
            self._finish("failed", self._partial(), {"code": failed.code, "message": failed.message})
            return
        except (_LostLease, KeyboardInterrupt):
            raise
        except QumulusError as exc:
            self._finish("failed", self._partial(), {"code": "InvalidInput", "message": str(exc)})
            return
        except Exception as exc:
            log.exception("workload %s failed", self.job_id)
            self._finish(
                "failed",
                self._partial(),
                {"code": "InternalError", "message": f"{type(exc).__name__}: {exc}"},
            )
            return
        self._finish("completed", result, None)

    def _partial(self) -> dict[str, Any] | None:
        if self.best is None:
            return None
        return {"solution": {"minimum_value": self.best[0], "optimal_parameters": self.best[1]}}

    def _optimize(self, spec: OptimizationSpec) -> dict[str, Any]:
        options = dict(spec.options)
        if spec.method == "SPSA":
            options.setdefault("seed", int(self.job_id.replace("-", "")[:8], 16))
        with contextlib.suppress(optimizers.Stop):  # the evaluation cap: the best so far is the answer
            optimizers.minimize(
                lambda x: self.evaluate(x).value, spec.initial_params, spec.method,
                maxiter=spec.maxiter, options=options,
            )  # fmt: skip
        assert self.best is not None
        return {"solution": {"minimum_value": self.best[0], "optimal_parameters": self.best[1]}}

    # -- one evaluation --------------------------------------------------------------------------
    def evaluate(self, params: list[float]) -> Evaluation:
        self._check_alive()
        params = [float(p) for p in params]
        iteration = self.count + 1
        if iteration <= len(self.recorded):
            row = self.recorded[iteration - 1]
            if len(row.params) == len(params) and all(
                math.isclose(a, b, rel_tol=0, abs_tol=1e-12) for a, b in zip(row.params, params, strict=True)
            ):
                self.count = iteration
                return Evaluation(row.value, row.variance)
            # The replay diverged (it should not): forget the records from here on and run.
            log.warning("workload %s: replay diverged at iteration %d", self.job_id, iteration)
            with self.ctx.db.write(durable=False) as session:
                self._fence(session)
                session.execute(
                    WorkloadProgress.__table__.delete().where(
                        WorkloadProgress.workload_id == self.job_id, WorkloadProgress.iteration >= iteration
                    )
                )
            self.recorded = self.recorded[: iteration - 1]
        if iteration > MAX_EVALUATIONS:
            raise optimizers.Stop()
        circuits = self.function.circuits(params, native_2q=self.native_2q)
        child_ids, batch = self._queue(iteration, circuits) if circuits else ([], None)
        distributions = self._run(batch, child_ids) if batch is not None else None
        if distributions is None:
            distributions = self._wait(child_ids) if child_ids else []
        evaluation = self.function.evaluate(distributions, self.job.shots)
        # Written with the next evaluation's circuits (or the end), one transaction fewer per
        # evaluation: the optimizer's step in between takes microseconds.
        if self.best is None or evaluation.value < self.best[0]:
            self.best = (evaluation.value, params)
        self._pending = (iteration, params, evaluation, child_ids[0] if child_ids else None)
        if not child_ids:
            with self.ctx.db.begin(durable=False) as conn:
                self._fence(conn)
                self._flush(conn)
            self._pending = None
        self.count = iteration
        return evaluation

    def _queue(self, iteration: int, circuits: list[Any]) -> tuple[list[str], Any]:
        pool = self.runner.pool
        if pool is not None and pool.backends is not None and self.job.backend not in pool.backends:
            pool = None  # a backend this process's workers do not run (a driver-served one)
        ids, batch = self._queue_in_transaction(iteration, circuits, pool)
        self._pending = None  # committed with them (kept for the end if that transaction failed)
        claimed = {c.job_id for c in batch.claimed} if batch is not None else set()
        waiting = sum(1 for i in ids if i not in claimed)
        if waiting:
            self.ctx.waker.notify(waiting)  # what the loop did not claim is for the workers
        if batch is not None and not batch.claimed:
            batch.release()
            batch = None
        return ids, batch

    def _run(self, batch: Any, child_ids: list[str]) -> list[dict[int, float]] | None:
        """Run what the loop claimed with its circuits, in this thread; their distributions, read
        from the outcomes in hand, when every circuit completed so. ``None``: wait for them (some
        were not among the claimed, or failed, or were canceled, or the run broke)."""
        try:
            done = self.runner.pool.run_claimed(batch)
        except Exception:  # the claimed executions are reaped and retried; the loop waits for them
            log.exception("workload %s: running its circuits failed", self.job_id)
            return None
        out = []
        for child in child_ids:
            outcome = done.get(child)
            if outcome is None or not outcome.ok or outcome.values is None or outcome.indices is None:
                return None
            out.append({int(i): float(p) for i, p in zip(outcome.indices, outcome.values, strict=True)})
        return out

    def _queue_in_transaction(self, iteration: int, circuits: list[Any], pool: Any) -> tuple[list[str], Any]:
        """Insert the evaluation's circuit jobs and executions (with their budget hold) in one
        transaction, and claim them there for this loop to run (with this process's worker pool,
        if it has one); reuse them if a runner before this one already queued them."""
        first = (iteration - 1) * self.groups
        try:
            return self._insert(iteration, circuits, pool, first)
        except BaseException:
            if self._claiming is not None:  # claimed in a transaction that did not commit
                self._claiming.release()
            raise
        finally:
            self._claiming = None

    def _insert(self, iteration: int, circuits: list[Any], pool: Any, first: int) -> tuple[list[str], Any]:
        batch: Any = None  # what pool.claim_in claims (runtime.worker.CallerBatch)
        with self.ctx.db.begin(durable=False) as conn:
            self._fence(conn)
            self._flush(conn)
            status = conn.scalar(_STATUS, {"j_id": self.job_id})
            if status not in ACTIVE:
                raise _Canceled()
            existing = conn.execute(
                _EXISTING, {"p_id": self.job_id, "lo": first, "hi": first + self.groups}
            ).all()
            if len(existing) == self.groups and all(r.status not in ("failed", "canceled") for r in existing):
                return [r.id for r in existing], None
            if self.job.session_id is not None:
                from qumulus.services.jobs.sessions import admit

                try:
                    admit(conn, self.principal, self.job.session_id, self.job.backend)
                except QumulusError as exc:
                    raise _Failed("SystemCancel", f"evaluation {iteration}: {exc}") from None
            planned = CircuitBatch(tuple(circuits), multi=True)
            try:
                charge = charging.plan(conn, self.principal, self.backend, planned, self.job.shots,
                                       emulated=self.emulated, cache=self.ctx.admission)  # fmt: skip
                hold = charging.apply(conn, self.principal, charge)
            except QumulusError as exc:
                if exc.status_code == 402:
                    raise _Failed(
                        "QuotaExhaustedError",
                        f"budget exhausted before evaluation {iteration} "
                        f"({iteration - 1} evaluations done; the best value so far is kept): {exc}",
                    ) from None
                raise _Failed("BillingError", f"evaluation {iteration}: {exc}") from None
            now = utcnow()
            job = self.job
            amounts = hold.amounts if hold is not None and hold.amounts else [None] * len(circuits)
            seconds = hold.seconds if hold is not None else [None] * len(circuits)
            rows = []
            for g, circuit in enumerate(circuits):
                body = to_native_json(circuit) if circuit.gateset == "native" else to_qis_json(circuit)
                rows.append(
                    {
                        "id": new_id(), "project_id": job.project_id, "submitter_id": job.submitter_id,
                        "api_key_id": job.api_key_id, "backend": job.backend, "type": "ionq.circuit.v1",
                        "name": f"{job.name or job.type} {iteration}.{g}"[:1000], "shots": job.shots,
                        "metadata": {}, "input": {"gateset": circuit.gateset, "qubits": circuit.qubits,
                                                  "circuit": body["circuit"]},
                        "settings": job.settings or {}, "noise": job.noise, "dry_run": False,
                        "status": "ready", "stats": {"qubits": circuit.qubits, "circuits": 1,
                                                     "gate_counts": circuit.gate_counts(),
                                                     "workload_iteration": iteration},
                        "submitted_at": now, "ready_at": now, "parent_id": self.job_id,
                        "child_index": first + g, "session_id": job.session_id, "tags": [],
                        "budget_id": hold.budget_id if hold is not None else None,
                        "budget_hold": amounts[g], "estimated_seconds": seconds[g],
                    }
                )  # fmt: skip
            conn.execute(_ADD_JOBS, rows)
            conn.execute(
                _ADD_EXECUTIONS,
                [{"id": new_id(), "job_id": r["id"], "backend": job.backend, "project_id": job.project_id,
                  "organization_id": self.principal.organization_id, "state": "queued", "created_at": now}
                 for r in rows],
            )  # fmt: skip
            if pool is not None:
                batch = self._claiming = pool.claim_in(conn, len(rows))
        return [r["id"] for r in rows], batch

    def _wait(self, child_ids: list[str]) -> list[dict[int, float]]:
        """Wait for the circuits; their distributions in order. Cancel is seen within a look."""
        pending_watch = _Watch(child_ids)
        event = pending_watch.event
        watch = self.runner._watch
        for child in child_ids:
            watch[child] = pending_watch
        try:
            pending = set(child_ids)
            statuses: dict[str, str] = {}
            while True:
                self._check_alive()
                with self.ctx.db.connect() as conn:
                    rows = conn.execute(_LOOK, {"ids": [self.job_id, *pending]}).all()
                for row in rows:
                    if row.id == self.job_id:
                        if row.status not in ACTIVE:
                            raise _Canceled()
                        continue
                    if row.status in TERMINAL:
                        pending.discard(row.id)
                        statuses[row.id] = row.status
                        if row.status == "failed":
                            failure = row.failure or {}
                            raise _Failed(
                                failure.get("code", "SimulationError"),
                                f"evaluation {self.count + 1}: circuit job {row.id} failed: "
                                f"{failure.get('message') or failure.get('error') or 'unknown error'}",
                            )
                        if row.status == "canceled":
                            raise _Failed(
                                "SystemCancel", f"circuit job {row.id} of the workload was canceled"
                            )
                if not pending:
                    break
                pending_watch.narrow(pending)
                event.wait(LOOK_SECONDS)
                event.clear()
        finally:
            for child in child_ids:
                watch.pop(child, None)
        with self.ctx.db.connect() as conn:
            found = {r.job_id: r for r in conn.execute(_RESULTS, {"ids": child_ids})}
        out = []
        for child in child_ids:
            dist = load_row(self.ctx, found[child])
            if dist.indices is None:
                out.append({i: float(p) for i, p in enumerate(dist.values) if p > 0})
            else:
                out.append({int(i): float(p) for i, p in zip(dist.indices, dist.values, strict=True)})
        return out

    def _flush(self, session: Any) -> None:
        """Write the progress row of the evaluation that finished last, if not written yet (the
        caller forgets it once its transaction has committed)."""
        pending = self._pending
        if pending is None:
            return
        iteration, params, evaluation, first_child = pending
        session.execute(
            _ADD_PROGRESS,
            [{"id": new_id(), "workload_id": self.job_id, "iteration": iteration, "job_id": first_child,
              "status": "completed", "value": evaluation.value, "variance": evaluation.variance,
              "params": params, "finished_at": utcnow()}],
        )  # fmt: skip
        if self.best is not None and self.best[1] is params:
            session.execute(
                _COUNT_BEST,
                {"w_id": self.job_id, "w_n": iteration, "w_value": evaluation.value, "w_params": params},
            )
        else:
            session.execute(_COUNT, {"w_id": self.job_id, "w_n": iteration})

    # -- the end ---------------------------------------------------------------------------------
    def _finish(self, status: str, result: dict[str, Any] | None, failure: dict[str, str] | None) -> None:
        now = utcnow()
        with self.ctx.db.write(durable=False) as session:
            self._fence(session)
            self._flush(session)
            totals = session.execute(
                select(
                    func.sum(func.coalesce(Job.execution_duration_ms, 0)),
                    func.sum(func.coalesce(Job.usage_seconds, 0.0)),
                    func.sum(func.coalesce(Job.cost, 0)),
                ).where(Job.parent_id == self.job_id)
            ).one()
            values: dict[str, Any] = {
                "status": status, "completed_at": now, "execution_duration_ms": int(totals[0] or 0),
                "usage_seconds": float(totals[1] or 0.0), "cost": Decimal(totals[2] or 0),
            }  # fmt: skip
            if failure is not None:
                values["failure"] = failure
            changed = session.execute(
                update(Job).where(Job.id == self.job_id, Job.status.in_(ACTIVE)).values(**values)
            ).rowcount
            session.execute(
                update(Workload)
                .where(Workload.job_id == self.job_id)
                .values(state="done", result=result, lease_owner=None, lease_expires_at=None, updated_at=now)
            )
            if changed:
                self.ctx.outbox.record(
                    session.connection(),
                    [JobEvent(self.job_id, self.job.project_id, self.job.submitter_id, status)],
                )
        if changed and self.runner.on_finished is not None:
            self.runner.on_finished([(self.job_id, status)])

    def _close(self, result: dict[str, Any] | None) -> None:
        """The job ended without the loop (canceled or deleted): the workload is done."""
        with self.ctx.db.write(durable=False) as session:
            self._fence(session)
            self._flush(session)
            totals = session.execute(
                select(
                    func.sum(func.coalesce(Job.usage_seconds, 0.0)), func.sum(func.coalesce(Job.cost, 0))
                ).where(Job.parent_id == self.job_id)
            ).one()
            session.execute(
                update(Job)
                .where(Job.id == self.job_id)
                .values(usage_seconds=float(totals[0] or 0.0), cost=Decimal(totals[1] or 0))
            )
            session.execute(
                update(Workload)
                .where(Workload.job_id == self.job_id)
                .values(state="done", result=result or self._partial_or_none(), lease_owner=None,
                        lease_expires_at=None, updated_at=utcnow())
            )  # fmt: skip

    def _partial_or_none(self) -> dict[str, Any] | None:
        return self._partial() if hasattr(self, "best") else None
