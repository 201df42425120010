"""The composition root: builds the running platform from its settings and starts its runtime.

:class:`Platform` is a :class:`~qumulus.services.context.Context` (what every use case receives) that
also owns the moving parts: the simulator process pool and worker threads, the notifier, the
maintenance and recalibration timers, and (distributed mode, :mod:`qumulus.platform.distributed`) the
LISTEN/NOTIFY bus. Entry points (``qumulus serve``, ``api``, ``worker``, the admin CLI, tests) build
one; nothing below this package imports it.
"""

from __future__ import annotations

import logging
import os
import secrets
from typing import Any

from qumulus.config import Settings
from qumulus.notifications.notifier import Notifier
from qumulus.platform.bootstrap import seed_backends
from qumulus.services.context import Context
from qumulus.store.db import Database


def load_secret(settings: Settings) -> bytes:
    """The HMAC key for API keys: ``QUMULUS_SECRET_KEY``, else a file made once in the data dir."""
    if settings.secret_key:
        return settings.secret_key.encode()
    path = settings.data_dir / "secret-key"
    if not path.exists():
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
    return path.read_text().strip().encode()


class Platform(Context):
    def __init__(self, settings: Settings, *, migrate: bool = True) -> None:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        if migrate:
            from qumulus.store.migrate import upgrade

            upgrade(settings.database_url)
        db = Database(settings.database_url, synchronous=settings.sqlite_synchronous)
        super().__init__(settings, db, load_secret(settings))
        self.workers: Any = None
        self.executor: Any = None
        self.notifier: Notifier | None = None
        #: Periodic recalibration of the emulated QPUs (``QUMULUS_RECALIBRATE_SECONDS``), if on.
        self.recalibrator: Any = None
        #: LISTEN/NOTIFY between processes (distributed mode), see ``platform.distributed``.
        self.bus: Any = None
        #: Periodic maintenance (lease reaping) in embedded mode; ``qumulus scheduler`` elsewhere.
        self.maintenance: Any = None
        #: Driver-served backends (docs/drivers.md): the built drivers, the pool that forwards jobs
        #: to them, and the thread that mirrors their devices; None where no driver runs.
        self.fleet: Any = None
        self.drivers: Any = None
        self.mirror: Any = None
        #: The loops of quantum-function and optimization jobs (services/workloads/runner.py).
        self.workload_runner: Any = None
        with self.db.write() as session:
            seed_backends(session)
            if settings.backends_file is not None:
                sync_backends_file(session, settings.backends_file)

    @property
    def hears_completions(self) -> bool:
        """Whether job completions reach :attr:`completions`: from workers in this process, or
        (distributed mode) as notifications from workers elsewhere. Requests only wait if so."""
        return self.workers is not None or self.bus is not None

    def start_runtime(self) -> None:
        """Start the process pool and worker threads (embedded mode)."""
        from qumulus.circuits.qiskit_home import preload

        preload()  # worker threads may compile: qiskit must be imported on the main thread first
        from qumulus.runtime.executor import LocalExecutor
        from qumulus.runtime.worker import WorkerPool

        if self.workers is not None:
            return
        # Embedded mode owns the database: anything left running by a previous process is orphaned.
        with self.db.write() as session:
            _requeue_orphans(session, self.settings.max_attempts, self.outbox)
        self.executor = LocalExecutor(self.settings.pool_processes, warm=self.settings.warm_engines)
        if self.settings.warm_engines:
            self.executor.prestart()  # the first job should not pay for spawning and imports
        served = self.start_drivers()
        self.workers = WorkerPool(
            self.db,
            self.executor,
            self.waker,
            data_dir=self.data_dir,
            threads=self.settings.worker_threads,
            # Simulators never take a driver-served backend's work (None: every backend, the
            # cheapest claim, when there is no driver-served one).
            backends=simulated_backends() if served else None,
            claim_batch=self.settings.claim_batch,
            lease_seconds=self.settings.lease_seconds,
            max_attempts=self.settings.max_attempts,
            inline_limit=self.settings.inline_result_entries,
            max_emulation_seconds=self.settings.max_emulation_seconds,
            on_finished=self.completions.publish,
            outbox=self.outbox,
        )
        self.workers.start()
        self.start_workloads(owner=self.workers.owner, lease_seconds=self.settings.lease_seconds)
        self.start_notifier()
        from qumulus.runtime.maintenance import Scheduler

        self.maintenance = Scheduler(
            self.db, on_queued=self.waker.notify, max_attempts=self.settings.max_attempts, outbox=self.outbox
        )
        self.maintenance.start()
        if self.settings.recalibrate_seconds > 0 and self.recalibrator is None:
            from qumulus.services.backends.calibration import Recalibrator

            self.recalibrator = Recalibrator(self, self.settings.recalibrate_seconds)
            self.recalibrator.start()

    def start_drivers(
        self, backends: list[str] | None = None, *, lease_seconds: float | None = None
    ) -> list[str]:
        """Start forwarding the driver-served backends (``backends``: only those) and mirroring
        their devices; returns the backends served. Declarations made later (admin API) are
        picked up by the mirror's periodic reload."""
        from qumulus.drivers.fleet import Fleet
        from qumulus.runtime.forwarding import DriverPool
        from qumulus.services.backends import drivers as declared
        from qumulus.services.backends.mirror import Mirror

        if self.drivers is not None:
            return self.fleet.names
        with self.db.read() as session:
            decls = [d for d in declared.load(session) if backends is None or d.name in backends]
        if not decls and backends is not None:
            return []
        self.fleet = Fleet(decls)
        self.drivers = DriverPool(
            self.db,
            self.fleet,
            data_dir=self.data_dir,
            lease_seconds=lease_seconds or self.settings.lease_seconds,
            on_finished=self._finished,
            outbox=self.outbox,
        )
        self.drivers.start()
        pool = self.drivers

        def changed() -> None:
            pool.refresh()  # a dispatcher for a newly declared backend
            pool.notify()

        self.mirror = Mirror(self, self.fleet, on_change=changed, only=backends)
        self.mirror.start()
        return self.fleet.names

    def start_workloads(
        self, *, owner: str, backends: list[str] | None = None, lease_seconds: float = 30.0
    ) -> None:
        """Run workload loops in this process (claimed with a lease, like executions)."""
        from qumulus.services.workloads import WorkloadRunner

        if self.workload_runner is not None or self.settings.workload_slots <= 0:
            return
        self.workload_runner = WorkloadRunner(
            self,
            owner=f"{owner}:workloads",
            backends=backends,
            slots=self.settings.workload_slots,
            lease_seconds=lease_seconds,
            on_finished=self._finished,
            pool=self.workers,
        )
        self.workload_runner.start()

    def _finished(self, done: list[tuple[str, str]]) -> None:
        self.completions.publish(done)
        if self.bus is not None:
            self.bus.publish_done(done)

    def start_notifier(self) -> None:
        """Deliver the notification outbox in a background thread (started with the runtime)."""
        if self.notifier is None:
            self.notifier = Notifier(self.db, self.settings, self.outbox)
            self.notifier.start()

    def work_canceled(self) -> None:
        """Jobs were canceled: let this process's workers stop any simulation of them now.

        (Workers in other processes notice by NOTIFY in distributed mode, else at their next
        heartbeat.)"""
        if self.workers is not None:
            self.workers.check_leases()
        if self.drivers is not None:  # forward the cancel to the provider now
            self.drivers.check_leases()
        if self.bus is not None:  # distributed mode: workers elsewhere hear it by NOTIFY
            self.bus.publish_cancel()

    def _release(self, owner: str) -> None:
        """A graceful stop puts back what this process's workers held, attempts given back (a stop
        is not a failed attempt; the next start runs it again)."""
        from qumulus.runtime import queue

        try:
            with self.db.write(durable=False) as session:
                queue.release(session, owner=owner)
        except Exception:  # the database may be what is failing: the next start reaps instead
            logging.getLogger("qumulus").exception("could not release leases at stop")

    def stop(self) -> None:
        if self.workload_runner is not None:
            self.workload_runner.stop()
            self.workload_runner = None
        if self.maintenance is not None:
            self.maintenance.stop()
            self.maintenance = None
        if self.recalibrator is not None:
            self.recalibrator.stop()
            self.recalibrator = None
        if self.notifier is not None:
            self.notifier.stop()
            self.notifier = None
        if self.mirror is not None:
            self.mirror.stop()
            self.mirror = None
        if self.drivers is not None:
            self.drivers.stop()
            self.drivers = None
        if self.fleet is not None:
            self.fleet.close()
            self.fleet = None
        if self.workers is not None:
            self.workers.stop()
            self._release(self.workers.owner)
            self.workers = None
        if self.executor is not None:
            self.executor.shutdown()
            self.executor = None
        if self.bus is not None:
            self.bus.close()
            self.bus = None
        self.committer.close()
        self.db.dispose()


def simulated_backends() -> list[str]:
    """The backends this platform simulates (the ideal simulator and the emulated QPUs)."""
    from qumulus.backends.catalog import CATALOG

    return [spec.name for spec in CATALOG]


def sync_backends_file(session: Any, path: Any) -> None:
    """Write the backends file's declarations (docs/drivers.md); a bad file stops the start with
    its error (naming the backend and field), rather than start without the site's backends."""
    from qumulus.drivers.config import load_backends
    from qumulus.services.backends.drivers import sync_file

    sync_file(session, load_backends(path))


def _requeue_orphans(session, max_attempts: int, outbox) -> None:  # type: ignore[no-untyped-def]
    """Work left running by a previous process (it died): requeued while it has attempts left,
    failed once it has none (runtime/reaping.py), as the maintenance round would."""
    from sqlalchemy import select, update

    from qumulus.runtime import reaping
    from qumulus.store.models import Execution, Workload

    owners = set(session.scalars(select(Execution.lease_owner).where(Execution.state == "running")))
    for owner in owners:
        if owner:
            reaping.reap(session, max_attempts=max_attempts, owner=owner, outbox=outbox)
    # Workload loops of a previous process resume at once (from their recorded progress).
    session.execute(
        update(Workload)
        .where(Workload.state == "running")
        .values(state="queued", lease_owner=None, lease_expires_at=None)
    )
