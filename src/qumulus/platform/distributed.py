"""Distributed mode: the same platform, with wake-ups and completions crossing process boundaries.

Only three things differ from embedded mode (DESIGN §1): the database URL (PostgreSQL), the wake-up
mechanism (LISTEN/NOTIFY here, see ``runtime.pgnotify``) and the executor. This module switches the
second on for a :class:`Platform` and opens platforms safely when several processes start at once.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import psycopg

from qumulus.config import Settings
from qumulus.platform import Platform, simulated_backends
from qumulus.runtime.pgnotify import (
    CANCEL_CHANNEL,
    DONE_CHANNEL,
    WORK_CHANNEL,
    PgListener,
    PgNotifier,
    libpq_url,
    parse_done,
)
from qumulus.runtime.wakeup import LocalWaker

#: ``pg_advisory_lock`` key serialising migrations and seeding of processes that start together.
STARTUP_LOCK = 0x7175_6D75_0001


class NotifyingWaker(LocalWaker):
    """Wakes this process's workers and, through NOTIFY, workers in every other process."""

    def __init__(self, notifier: PgNotifier) -> None:
        super().__init__()
        self.notifier = notifier

    def notify(self, count: int = 1) -> None:
        super().notify(count)
        self.notifier.work()

    def wake_local(self) -> None:
        """A notification from elsewhere: wake only this process's workers (no echo)."""
        super().notify()


class Bus:
    """The notifier and listener of one process; closed by :meth:`Platform.stop`."""

    def __init__(self, notifier: PgNotifier, listener: PgListener) -> None:
        self.notifier = notifier
        self.listener = listener

    def publish_cancel(self) -> None:
        self.notifier.cancel()

    def publish_done(self, finished: list[tuple[str, str]]) -> None:
        self.notifier.done(finished)

    def close(self) -> None:
        self.listener.stop()
        self.notifier.close()


def enable_notifications(platform: Platform, *, work: bool = True, done: bool = True) -> Bus:
    """Use LISTEN/NOTIFY for this platform (PostgreSQL only).

    ``work``: listen for submissions (a process with workers). ``done``: listen for completions (a
    process serving the API). Every process sends both kinds where it has something to say.
    """
    if not platform.db.is_postgres:
        raise ValueError("LISTEN/NOTIFY needs PostgreSQL (QUMULUS_DATABASE_URL=postgresql://...)")
    notifier = PgNotifier(platform.settings.database_url)
    waker = NotifyingWaker(notifier)
    platform.waker = waker
    handlers = {}
    if work:
        handlers[WORK_CHANNEL] = lambda _payload: (waker.wake_local(), platform.workloads_waker.notify())
        handlers[CANCEL_CHANNEL] = lambda _payload: _check_leases(platform)
    if done:
        handlers[DONE_CHANNEL] = lambda payload: platform.completions.publish(parse_done(payload))
    listener = PgListener(
        platform.settings.database_url, handlers, on_connect=waker.wake_local if work else None
    )
    listener.start()
    bus = Bus(notifier, listener)
    platform.bus = bus
    return bus


def _check_leases(platform: Platform) -> None:
    if platform.workers is not None:
        platform.workers.check_leases()
    if platform.drivers is not None:
        platform.drivers.check_leases()


@contextlib.contextmanager
def startup_lock(url: str) -> Iterator[None]:
    """Hold a session advisory lock while migrating and seeding (several processes may start at once)."""
    if not url.startswith("postgres"):
        yield
        return
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (STARTUP_LOCK,))
        try:
            yield
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (STARTUP_LOCK,))


def open_platform(settings: Settings) -> Platform:
    """A platform whose migrations and seeding cannot race another process starting beside it."""
    with startup_lock(settings.database_url):
        return Platform(settings)


def start_worker(
    platform: Platform,
    *,
    backends: list[str] | None,
    slots: int,
    executor: str = "local",
    ray_address: str | None = None,
    lease_seconds: float = 30.0,
    poll_seconds: float = 1.0,
) -> None:
    """Start a worker pool (no HTTP): the same :class:`WorkerPool` as embedded mode, fed by a local
    process pool or by Ray, woken by NOTIFY on PostgreSQL, announcing completions by NOTIFY."""
    from qumulus.circuits.qiskit_home import preload

    preload()  # worker threads may compile: qiskit imported on the main thread first (see there)
    from qumulus.backends.catalog import resolve_backend_name
    from qumulus.runtime.executor import LocalExecutor
    from qumulus.runtime.worker import WorkerPool

    if platform.db.is_postgres and platform.bus is None:
        enable_notifications(platform, work=True, done=False)
    names = [resolve_backend_name(b) for b in backends] if backends else None
    # Driver-served backends among them are forwarded to their providers, not simulated.
    served = platform.start_drivers(names, lease_seconds=lease_seconds)
    if names is not None:
        names = [n for n in names if n not in served]
        if not names:
            return  # a worker for driver-served backends only: no simulator processes
    elif served:
        names = simulated_backends()
    if executor == "local":
        pool_executor: object = LocalExecutor(slots, warm=platform.settings.warm_engines)
    elif executor == "ray":
        from qumulus.runtime.ray_executor import RayExecutor

        pool_executor = RayExecutor(slots, address=ray_address)
    else:
        raise ValueError(f"--executor must be local or ray, not {executor!r}")
    if platform.settings.warm_engines or executor == "ray":
        pool_executor.prestart()  # type: ignore[attr-defined]
    bus = platform.bus

    def finished(done: list[tuple[str, str]]) -> None:
        platform.completions.publish(done)
        if bus is not None:
            bus.publish_done(done)

    platform.executor = pool_executor
    platform.workers = WorkerPool(
        platform.db,
        pool_executor,  # type: ignore[arg-type]
        platform.waker,
        data_dir=platform.data_dir,
        threads=slots,
        backends=names,
        claim_batch=platform.settings.claim_batch,
        lease_seconds=lease_seconds,
        max_attempts=platform.settings.max_attempts,  # the same cap as `qumulus serve`
        inline_limit=platform.settings.inline_result_entries,
        max_emulation_seconds=platform.settings.max_emulation_seconds,
        poll_seconds=poll_seconds,
        on_finished=finished,
        outbox=platform.outbox,  # failure e-mails and webhooks: rows written with the completion
    )
    platform.workers.start()
    # The loops of workload jobs on these backends: claimed with a lease like executions; their
    # circuits go through the queue to these (or any) workers, on this executor (local or Ray).
    platform.start_workloads(owner=platform.workers.owner, backends=names, lease_seconds=lease_seconds)


def release_leases(platform: Platform) -> int:
    """After a graceful stop: put back what this worker still held, so nobody waits for its lease."""
    from qumulus.runtime import queue

    if platform.workload_runner is not None:
        platform.workload_runner.stop(release=True)
        platform.workload_runner = None
    owners = [pool.owner for pool in (platform.workers, platform.drivers) if pool is not None]
    if not owners:
        return 0
    with platform.db.write(durable=False) as session:
        # Executions at a provider go back to the queue with their provider job id: whoever claims
        # them next re-attaches.
        # A graceful stop gives the attempt back (runtime/queue.release).
        return sum(len(queue.release(session, owner=owner)) for owner in owners)
