"""The notifier thread: deliver due outbox rows, retry failures with back-off, mark what was sent.

Runs beside the workers (started and stopped with the runtime), never inside a request or a
completion. Delivery is at least once: a row is claimed by pushing its next attempt a lease into
the future (so another notifier, in this process or another, skips it), then delivered, then
marked. A crash between sending and marking sends it again; receivers de-duplicate on the
``X-Qumulus-Delivery`` id (the outbox row id).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, bindparam, select, update

from qumulus.config import Settings
from qumulus.notifications import backoff, email, guard, webhook
from qumulus.notifications.outbox import Outbox
from qumulus.notifications.payload import job_payload
from qumulus.store.db import Database
from qumulus.store.models import NotificationOutbox, ProjectWebhook
from qumulus.timeutil import utcnow

log = logging.getLogger("qumulus.notifier")

#: How long a claimed row is hidden from other notifiers while it is being delivered.
LEASE_SECONDS = 120.0
_O = NotificationOutbox
_DUE = (
    select(_O.id, _O.channel, _O.event, _O.job_id, _O.target, _O.attempts, _O.next_attempt_at)
    .where(_O.status == "pending", _O.next_attempt_at <= bindparam("now"))
    .order_by(_O.next_attempt_at)
    .limit(bindparam("limit"))
)
_CLAIM = (
    update(_O)
    .where(and_(_O.id == bindparam("row_id"), _O.status == "pending", _O.attempts == bindparam("seen")))
    .values(attempts=_O.attempts + 1, next_attempt_at=bindparam("lease_until"))
)


class Notifier:
    def __init__(
        self,
        db: Database,
        settings: Settings,
        outbox: Outbox,
        *,
        load_job: Callable[[str], dict[str, Any] | None] | None = None,
        poll_seconds: float = 1.0,
        batch: int = 50,
        resolve: guard.Resolver = guard.system_resolver,
        max_attempts: int = backoff.MAX_ATTEMPTS,
    ) -> None:
        self.db = db
        self.settings = settings
        self.outbox = outbox
        #: A job as its notification shows it (default: its v0.4 JSON, read at delivery time).
        self.load_job = load_job or (lambda job_id: job_payload(db, job_id))
        self.poll_seconds = poll_seconds
        self.batch = batch
        self.resolve = resolve
        self.max_attempts = max_attempts
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="qumulus-notifier", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self.outbox.wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                busy = self.run_once() >= self.batch
            except Exception:  # the loop must survive database hiccups
                log.exception("notifier iteration failed")
                busy = False
            if not busy:
                self.outbox.wake.wait(self.poll_seconds)
                self.outbox.wake.clear()

    def run_once(self) -> int:
        """Claim and deliver the rows that are due; returns how many were claimed."""
        now = utcnow()
        with self.db.connect() as conn:  # a lock-free look first: usually there is nothing due
            due = list(conn.execute(_DUE, {"now": now, "limit": self.batch}))
        if not due:
            return 0
        lease_until = now + timedelta(seconds=LEASE_SECONDS)
        mine = []
        with self.db.begin(durable=False) as conn:
            for row in due:
                claimed = conn.execute(
                    _CLAIM, {"row_id": row.id, "seen": row.attempts, "lease_until": lease_until}
                )
                if claimed.rowcount == 1:
                    mine.append(row)
        outcomes = [(row, self._deliver(row)) for row in mine]
        done = utcnow()
        with self.db.begin(durable=False) as conn:
            for row, error in outcomes:
                conn.execute(
                    update(_O)
                    .where(_O.id == row.id)
                    .values(**_after(row.attempts + 1, error, done, self.max_attempts))
                )
        return len(mine)

    def _deliver(self, row: Any) -> str | None:
        """Deliver one row; returns None on success, else why it failed."""
        try:
            job = self.load_job(row.job_id)
            if job is None:
                return "gone: the job no longer exists"
            if row.channel == "email":
                message = email.compose(job, sender=self.settings.smtp_from, recipient=row.target)
                email.send(self.settings, message)
                return None
            with self.db.connect() as conn:
                hook = conn.execute(
                    select(ProjectWebhook.url, ProjectWebhook.secret, ProjectWebhook.active).where(
                        ProjectWebhook.id == row.target
                    )
                ).first()
            if hook is None or not hook.active:
                return "gone: the webhook was deleted or disabled"
            webhook.deliver(
                hook.url,
                hook.secret,
                webhook.payload(row.event, row.id, job),
                event=row.event,
                delivery_id=row.id,
                allow_private=self.settings.webhook_allow_private,
                resolve=self.resolve,
            )
            return None
        except Exception as exc:
            log.warning("notification %s (%s %s) failed: %s", row.id, row.channel, row.event, exc)
            return f"{type(exc).__name__}: {exc}"[:2000]


def _after(attempts: int, error: str | None, now: Any, max_attempts: int) -> dict[str, Any]:
    """The row's new state after an attempt (pure)."""
    if error is None:
        return {"status": "delivered", "delivered_at": now, "last_error": None}
    if error.startswith("gone:"):
        return {"status": "dead", "last_error": error}
    delay = backoff.next_delay(attempts, max_attempts=max_attempts)
    if delay is None:
        return {"status": "dead", "last_error": error}
    return {"next_attempt_at": now + timedelta(seconds=delay), "last_error": error}
