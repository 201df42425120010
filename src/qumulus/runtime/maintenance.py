"""Periodic maintenance (``qumulus scheduler``): reap expired leases, and whatever else must run
somewhere but only once at a time (recalibration, budget roll-over, ...).

Several schedulers may run for availability. Each round takes ``pg_try_advisory_xact_lock`` in the
transaction that does the work, so at most one acts at a time and a scheduler that dies mid-round
releases the lock with its connection: no leader election, no stale leader. Every task must be
idempotent (a round may act on what the previous round, on another scheduler, already saw). On
SQLite there is one writer at a time anyway, and the round just runs.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence

from sqlalchemy import Connection, text

from qumulus.config import Settings
from qumulus.notifications.outbox import Outbox
from qumulus.runtime import reaping
from qumulus.store.db import Database, core

log = logging.getLogger("qumulus.scheduler")

#: The advisory lock key every scheduler round takes ("qumu" + 2).
ROUND_LOCK = 0x7175_6D75_0002

#: A maintenance task: runs inside the round's transaction; returns whether it queued work
#: (the workers are then woken).
Task = Callable[[Connection], bool]


def reaper(max_attempts: int, outbox: Outbox | None = None) -> Task:
    """The reaping task: requeue executions whose worker stopped heartbeating (killed, frozen,
    partitioned) while they have attempts left, fail those out of attempts
    (:func:`qumulus.runtime.reaping.reap`)."""

    def reap_expired(conn: Connection) -> bool:
        reaped = reaping.reap(conn, max_attempts=max_attempts, outbox=outbox)
        if reaped.requeued:
            log.warning("requeued %d execution(s) whose lease expired", len(reaped.requeued))
        return bool(reaped.requeued)

    return reap_expired


_TRY_LOCK = text("SELECT pg_try_advisory_xact_lock(:key)")
_LOCK_TIMEOUT = text("SET LOCAL lock_timeout = '5s'")

DEFAULT_TASKS: tuple[Task, ...] = (reaper(Settings.max_attempts),)


def run_round(db: Database, tasks: Sequence[Task] = DEFAULT_TASKS) -> bool | None:
    """One round under the lock. Returns None if another scheduler holds it, else whether any
    task queued work."""
    with db.write(durable=False) as session:
        conn = core(session)
        if db.is_postgres:
            if not conn.scalar(_TRY_LOCK, {"key": ROUND_LOCK}):
                return None  # another scheduler is in its round
            # A frozen worker may hold row locks in an open transaction: fail this round (the next
            # one retries) rather than wait on it with the round lock held.
            conn.execute(_LOCK_TIMEOUT)
        queued = False
        for task in tasks:
            queued = task(conn) or queued
        return queued


class Scheduler:
    """Runs :func:`run_round` every ``interval`` seconds on a thread until :meth:`stop`."""

    def __init__(
        self,
        db: Database,
        *,
        interval: float = 5.0,
        tasks: Sequence[Task] | None = None,
        on_queued: Callable[[], None] | None = None,
        max_attempts: int = Settings.max_attempts,
        outbox: Outbox | None = None,
    ) -> None:
        self.db = db
        self.interval = interval
        self.tasks = list(tasks) if tasks is not None else [reaper(max_attempts, outbox)]
        self.on_queued = on_queued
        self.rounds_acted = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="qumulus-scheduler", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                queued = run_round(self.db, self.tasks)
            except Exception:  # a database hiccup must not end maintenance
                log.exception("maintenance round failed")
                continue
            if queued is not None:
                self.rounds_acted += 1
            if queued and self.on_queued is not None:
                self.on_queued()
