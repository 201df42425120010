"""Workers for driver-served backends: release jobs to the provider within the outstanding limit,
follow them there, complete them here.

Local policy decides *when*: a job for a driver-served backend is admitted like any other (contract,
budget, allocation, session), queued, and claimed in fair-share order by :func:`queue.claim` — but
only while fewer than the backend's ``max_outstanding`` executions are at the provider. So one group
flooding the broker fills the local queue, not the provider's, and every release goes to whoever
fair share says is next.

Per execution (a thread each; at most ``max_outstanding`` per backend):

1. submit at most once (:func:`qumulus.drivers.forward.submit_once`): an execution that an earlier
   attempt submitted carries its provider job id and is re-attached; the id of a new submission is
   committed (fenced on the lease) before anything else;
2. follow it (:func:`qumulus.drivers.forward.follow`; the driver's push where it has one), mirroring
   queued/running into the local job;
3. complete it with the provider's results, usage and cost through the same fenced transaction as a
   simulation (:func:`qumulus.runtime.completion.complete`): ledger row, budget settlement, fair
   share, parent roll-up, notifications; the provider's artifacts (compiled circuit, an OpenQASM
   job's per-shot registers) are kept with the job in that transaction (:func:`keep_artifacts`;
   a multi-circuit parent gathers its children's compilations, :func:`gather_compilations`).

Transient provider failures are retried forever with backoff (a job waits out an outage). A lost
lease (the job was canceled here) stops the thread and forwards the cancel. If this process dies,
the leases expire (or ``serve`` requeues them at start); the executions keep their provider job id,
are claimed again first, and re-attach: the provider never runs a job twice.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select, update

from qumulus.accounting.budget import CENT_FRACTION
from qumulus.domain import provider_engine
from qumulus.drivers import Driver, Failure, JobState, ProviderJob, Rejected, UnknownJob
from qumulus.drivers.backoff import Backoff, PollSchedule
from qumulus.drivers.config import BackendDecl
from qumulus.drivers.fleet import Fleet
from qumulus.drivers.forward import Retry, follow, submit_once
from qumulus.drivers.outcome import Settled, failed, rejected, settle
from qumulus.notifications.outbox import Outbox
from qumulus.runtime import queue
from qumulus.runtime.completion import RateBook, complete
from qumulus.runtime.queue import Claimed
from qumulus.runtime.tasks import Outcome
from qumulus.runtime.worker import owner_name
from qumulus.store.db import Database, core
from qumulus.store.models import Backend, Job
from qumulus.wire.jobs import NATIVE_ARTIFACT, NATIVE_FORMAT, held_artifacts, local_artifact_id

log = logging.getLogger("qumulus.forwarding")


def token(execution_id: str) -> str:
    """The idempotency token of an execution: the same for every attempt of it."""
    return f"qumulus-{execution_id}"


def keep_artifacts(conn: Connection, job_id: str, artifacts: Mapping[str, Any]) -> dict[str, str]:
    """Keep a provider's artifacts with the local job, as a local job keeps its own: bodies in
    ``jobs.compiled`` by format (a deferred column: no hot read loads them; the provider's
    ``ionq.native.v1`` replaces the compilation made at submission, since it is what ran), and
    ``{format: local id}`` in ``stats["artifacts"]``, from which the job's ``results`` and
    ``output.compilation`` point at ``GET /v0.4/jobs/{id}/artifacts/{local id}`` here. Returns that
    map (formats that cannot be a local id are left out)."""
    kept = {fmt: body for fmt, body in artifacts.items() if local_artifact_id(fmt) is not None}
    if not kept:
        return {}
    table = Job.__table__
    row = conn.execute(select(table.c.compiled, table.c.stats).where(table.c.id == job_id)).one_or_none()
    if row is None:
        return {}
    held = {fmt: str(local_artifact_id(fmt)) for fmt in kept}
    conn.execute(
        update(table)
        .where(table.c.id == job_id)
        .values(compiled={**(row.compiled or {}), **kept}, stats={**(row.stats or {}), "artifacts": held})
    )
    return held


def gather_compilations(conn: Connection, parent_id: str) -> bool:
    """A multi-circuit parent that just completed (in this transaction: the roll-up locked it and
    saw every child final, so every child's artifacts are committed or are this transaction's)
    serves its children's provider compilations as one ``ionq.native.v1`` list in circuit order,
    as a local multi-circuit job does. Only when every child has one; returns whether it did."""
    table = Job.__table__
    children = conn.execute(
        select(table.c.compiled, table.c.stats)
        .where(table.c.parent_id == parent_id)
        .order_by(table.c.child_index)
    ).all()
    natives = [
        (row.compiled or {}).get(NATIVE_FORMAT) if NATIVE_FORMAT in held_artifacts(row.stats) else None
        for row in children
    ]
    if not natives or any(native is None for native in natives):
        return False
    row = conn.execute(select(table.c.compiled, table.c.stats).where(table.c.id == parent_id)).one()
    stats = dict(row.stats or {})
    stats["artifacts"] = {**held_artifacts(stats), NATIVE_FORMAT: NATIVE_ARTIFACT}
    conn.execute(
        update(table)
        .where(table.c.id == parent_id)
        .values(compiled={**(row.compiled or {}), NATIVE_FORMAT: natives}, stats=stats)
    )
    return True


@dataclass
class _Flight:
    """One execution on its way to, or at, the provider; followed by its own thread."""

    item: Claimed
    stop: threading.Event = field(default_factory=threading.Event)
    provider_id: str | None = None


class _LeaseLost(Exception):
    """The execution was canceled (or re-leased) while its submission was under way."""


class DriverPool:
    """A dispatcher thread per driver-served backend, a thread per execution in flight, and a
    heartbeat that keeps their leases, notices cancels and forwards them."""

    def __init__(
        self,
        db: Database,
        fleet: Fleet,
        *,
        data_dir: Path,
        lease_seconds: float = 60.0,
        poll_seconds: float = 0.25,
        on_finished: Callable[[list[tuple[str, str]]], None] | None = None,
        outbox: Outbox | None = None,
    ) -> None:
        self.db = db
        self.fleet = fleet
        self.data_dir = data_dir
        self.lease_seconds = lease_seconds
        self.poll_seconds = poll_seconds
        self.on_finished = on_finished
        self.outbox = outbox
        self.owner = owner_name()
        self.rates = RateBook()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._check = threading.Event()
        self._lock = threading.Lock()
        self._flights: dict[str, _Flight] = {}
        self._dispatchers: dict[str, threading.Thread] = {}
        self._heartbeat_thread = threading.Thread(
            target=self._heartbeat, name="qumulus-driver-heartbeat", daemon=True
        )

    # lifecycle -------------------------------------------------------------------------------

    def start(self) -> None:
        self._heartbeat_thread.start()
        self.refresh()

    def refresh(self) -> None:
        """Start a dispatcher for every declared backend that has none yet (new declarations)."""
        for name in self.fleet.names:
            if name not in self._dispatchers and not self._stop.is_set():
                thread = threading.Thread(
                    target=self._dispatch, args=(name,), name=f"qumulus-driver-{name}", daemon=True
                )
                self._dispatchers[name] = thread
                thread.start()

    def notify(self) -> None:
        """Work may be waiting: look now rather than at the next poll."""
        self._wake.set()

    def check_leases(self) -> None:
        """Jobs were canceled: look at once for flights whose lease is gone (forward the cancel)."""
        self._check.set()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop dispatching and following. Nothing is canceled at the provider: the executions stay
        running until their lease expires (``serve`` requeues them at its next start) and whoever
        claims them next re-attaches."""
        self._stop.set()
        self._wake.set()
        self._check.set()
        with self._lock:
            flights = list(self._flights.values())
        for flight in flights:
            flight.stop.set()
        for thread in [self._heartbeat_thread, *self._dispatchers.values()]:
            if thread.is_alive():
                thread.join(timeout)

    @property
    def in_flight(self) -> int:
        with self._lock:
            return len(self._flights)

    # dispatch --------------------------------------------------------------------------------

    def _dispatch(self, backend: str) -> None:
        while not self._stop.is_set():
            if backend not in self.fleet.decls:
                return  # no longer declared
            try:
                released = self.release(backend)
            except Exception:  # the loop must survive database hiccups
                log.exception("backend %s: releasing work failed", backend)
                released = 0
            if not released:
                self._wake.wait(self.poll_seconds)
                self._wake.clear()

    def release(self, backend: str) -> int:
        """Claim what may go to the provider now and start following it; returns how many.

        Re-attachments first (they are at the provider already and count against the limit), then
        new work in fair-share order up to ``max_outstanding``. Counting and claiming share one
        transaction, and on PostgreSQL the backend's row is locked first, so workers in several
        processes together never exceed the limit.
        """
        decl = self.fleet.decls.get(backend)
        driver = self.fleet.get(backend)
        if decl is None or driver is None or self._stop.is_set():
            return 0  # no driver built here (the reason is the backend's status): its jobs wait
        if not queue.has_queued(self.db, backends=[backend]):
            return 0
        with self.db.connect() as conn:  # a look without the write lock: usually the limit is full
            if queue.outstanding(conn, backend) >= decl.max_outstanding and not queue.reattachable(
                conn, backend
            ):
                return 0
        with self.db.begin(durable=False) as conn:
            if self.db.is_postgres:
                conn.execute(select(Backend.name).where(Backend.name == backend).with_for_update())
            claimed = queue.claim_reattach(
                conn, owner=self.owner, backend=backend, lease_seconds=self.lease_seconds
            )
            free = decl.max_outstanding - queue.outstanding(conn, backend)  # re-attached ones included
            if free > 0:
                claimed += queue.claim(
                    conn,
                    owner=self.owner,
                    backends=[backend],
                    limit=free,
                    lease_seconds=self.lease_seconds,
                    postgres=self.db.is_postgres,
                )
        for item in claimed:
            self._launch(item, decl, driver)
        return len(claimed)

    def _launch(self, item: Claimed, decl: BackendDecl, driver: Driver) -> None:
        flight = _Flight(item, provider_id=item.provider_job_id)
        with self._lock:
            self._flights[item.execution_id] = flight
        thread = threading.Thread(
            target=self._fly,
            args=(flight, decl, driver),
            name=f"qumulus-flight-{item.execution_id[:8]}",
            daemon=True,
        )
        thread.start()

    # one execution -----------------------------------------------------------------------------

    def _fly(self, flight: _Flight, decl: BackendDecl, driver: Driver) -> None:
        try:
            self._forward(flight, decl, driver)
        except _LeaseLost:
            pass  # canceled while being submitted: the cancel was forwarded
        except Exception:
            log.exception(
                "execution %s: forwarding failed; it is re-attached when its lease expires",
                flight.item.execution_id,
            )
        finally:
            with self._lock:
                self._flights.pop(flight.item.execution_id, None)
            self._wake.set()  # a slot is free

    def _forward(self, flight: _Flight, decl: BackendDecl, driver: Driver) -> None:
        item = flight.item
        timing = decl.timing
        retry = Retry(stop=flight.stop, backoff=Backoff(initial=timing.retry_initial, cap=timing.retry_cap))
        work = ProviderJob(
            token=token(item.execution_id),
            type=item.job_type,
            input=item.input,
            shots=item.shots,
            name=item.name,
            settings=item.settings,
            noise=item.noise,
            tags={"qumulus_job": item.job_id},
        )
        try:
            provider_id = submit_once(
                driver,
                work,
                known_id=item.provider_job_id,
                record=lambda pid: self._record(flight, pid),
                retry=retry,
                earlier_attempts=item.attempt > 1,
            )
        except Rejected as exc:
            self._finish(flight, rejected(exc, decl.billing), provider_status=None)
            return
        if provider_id is None:  # stopped: whoever holds the execution next re-attaches, unless ...
            self._cancel_unrecorded(item, driver, work.token)
            return
        flight.provider_id = provider_id
        schedule = PollSchedule(first=timing.poll_first, cap=timing.poll_cap)
        try:
            state = follow(
                driver,
                provider_id,
                retry=retry,
                schedule=schedule,
                on_change=lambda s: self._progress(flight, s),
            )
        except UnknownJob:
            lost = Failure(
                "QuantumComputerError", f"provider: it no longer knows job {provider_id} (deleted there?)"
            )
            self._finish(flight, failed(lost), provider_status="failed")
            return
        if state is None:
            return  # stopped: the lease is gone (the heartbeat forwarded the cancel) or shutting down
        self._finish(flight, settle(state, decl.billing), provider_status=state.status)

    def _cancel_unrecorded(self, item: Claimed, driver: Driver, job_token: str) -> None:
        """... it was canceled while its submission was retried: a submission whose answer was
        lost (a timeout) may have reached the provider all the same; find it there and cancel it."""
        with self.db.connect() as conn:
            if not queue.canceled(conn, [item.execution_id]):
                return
        try:
            found = driver.find(job_token)
        except Exception:  # the provider cannot be asked: nothing more to do for a job never recorded
            return
        if found is not None:
            with self.db.begin(durable=True) as conn:
                queue.note_provider_job(conn, execution_id=item.execution_id, provider_job_id=found)
            self._cancel_upstream(item.backend, item.execution_id, found)

    def _record(self, flight: _Flight, provider_id: str) -> None:
        """Commit the provider's job id, fenced on the lease, before the job is followed."""
        item = flight.item
        with self.db.begin(durable=True) as conn:
            held = queue.record_provider_job(
                conn,
                execution_id=item.execution_id,
                owner=self.owner,
                attempt=item.attempt,
                provider_job_id=provider_id,
            )
        if not held:
            with self.db.begin(durable=True) as conn:
                canceled = queue.canceled(conn, [item.execution_id])
                if canceled:  # keep the id, so that a cancel that fails now is retried
                    queue.note_provider_job(conn, execution_id=item.execution_id, provider_job_id=provider_id)
            if canceled:  # canceled while it was being submitted: it must not run at the provider
                self._cancel_upstream(item.backend, item.execution_id, provider_id)
            # (re-leased instead: its next holder finds the same provider job by its token)
            raise _LeaseLost(item.execution_id)

    def _progress(self, flight: _Flight, state: JobState) -> None:
        item = flight.item
        with self.db.begin(durable=False) as conn:
            queue.provider_progress(
                conn,
                execution_id=item.execution_id,
                job_id=item.job_id,
                owner=self.owner,
                attempt=item.attempt,
                status=state.status,
            )

    def _finish(self, flight: _Flight, settled: Settled, *, provider_status: str | None) -> None:
        item = flight.item
        decl = self.fleet.decls.get(item.backend)
        outcome = Outcome(
            execution_id=item.execution_id,
            ok=settled.ok,
            seconds=settled.seconds,
            qubits=settled.qubits,
            engine=provider_engine(decl.driver if decl else "?", sampled=settled.shots is not None),
            indices=settled.indices,
            values=settled.values,
            failure=settled.failure,
            shots=settled.shots,
            variant_shots=[len(settled.shots)] if settled.shots else None,
            cost=settled.cost.quantize(CENT_FRACTION) if settled.cost is not None else None,
        )
        with self.db.begin(durable=False) as conn:
            finished = complete(
                conn,
                owner=self.owner,
                claimed={item.execution_id: item},
                outcomes=[outcome],
                data_dir=self.data_dir,
                rates=self.rates,
                outbox=self.outbox,
            )
            if settled.artifacts and (item.job_id, "completed") in finished:
                keep_artifacts(conn, item.job_id, settled.artifacts)
            if item.parent_id and (item.parent_id, "completed") in finished:
                gather_compilations(conn, item.parent_id)
            if provider_status is not None:
                queue.provider_final(conn, execution_id=item.execution_id, status=provider_status)
        if finished and self.on_finished is not None:
            self.on_finished(finished)

    # leases and cancels ----------------------------------------------------------------------

    def _heartbeat(self) -> None:
        """Renew the leases of flights; stop those whose lease is gone and forward their cancel;
        forward cancels nobody is following (canceled here after a crash, before re-attachment)."""
        interval = max(0.5, min(self.lease_seconds / 3, 5.0))
        while not self._stop.is_set():
            self._check.wait(interval)
            self._check.clear()
            if self._stop.is_set():
                return
            try:
                self._beat()
            except Exception:
                log.exception("driver heartbeat failed")

    def _beat(self) -> None:
        with self._lock:
            flights = dict(self._flights)
        if flights:
            with self.db.write(durable=False) as session:
                ids = list(flights)
                queue.heartbeat(
                    session, owner=self.owner, execution_ids=ids, lease_seconds=self.lease_seconds
                )
                lost = queue.not_held(session, owner=self.owner, execution_ids=ids)
            with self.db.connect() as conn:
                canceled = queue.canceled(conn, list(lost)) if lost else set()
            for execution_id in lost:
                flight = flights[execution_id]
                flight.stop.set()  # canceled, or re-leased to another worker (which re-attaches)
                if execution_id in canceled and flight.provider_id is not None:
                    self._cancel_upstream(flight.item.backend, execution_id, flight.provider_id)
        names = self.fleet.names
        if names:
            with self.db.connect() as conn:
                orphans = queue.canceled_at_provider(conn, names)
            for row in orphans:
                self._cancel_upstream(row.backend, row.id, row.provider_job_id)

    def _cancel_upstream(self, backend: str, execution_id: str, provider_id: str) -> None:
        driver = self.fleet.get(backend)
        if driver is None:
            return
        try:
            driver.cancel(provider_id)
        except Exception as exc:  # Transient: the next heartbeat tries again
            log.warning("cancel of %s at the provider failed (retried later): %s", provider_id, exc)
            return
        with self.db.begin(durable=False) as conn:
            queue.provider_final(core(conn), execution_id=execution_id, status="canceled")
