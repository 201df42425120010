"""Writing notifications: one outbox row per notification, in the transaction that finished the job.

Called from the completion transaction (``runtime/completion.complete``) and from cancel
(``services/jobs``). It must cost next to nothing there, since completion runs for every tiny job:

* which projects have webhooks is cached (re-read at most every ``ttl`` seconds; changes made in
  this process invalidate it at once, changes made by another process are seen within ``ttl``);
* a job of a project without webhooks writes nothing unless it failed and failure emails are on;
* the submitter's address and opt-out are read only for failed jobs (rare).

Rows are delivered later by :mod:`.notifier`; writing them here means a crash cannot lose one that
belongs to a committed completion, and cannot send one for a completion that rolled back.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select

from qumulus.store.models import NotificationOutbox, ProjectWebhook, User, new_id
from qumulus.timeutil import utcnow

EVENTS = ("job.completed", "job.failed", "job.canceled")

_WEBHOOKS = select(ProjectWebhook.id, ProjectWebhook.project_id, ProjectWebhook.events).where(
    ProjectWebhook.active.is_(True)
)
_RECIPIENTS = select(User.id, User.email, User.notify_on_failure).where(
    User.id.in_(bindparam("ids", expanding=True))
)


@dataclass(frozen=True, slots=True)
class JobEvent:
    """A top-level job reached a final status."""

    job_id: str
    project_id: str
    submitter_id: str | None
    status: str  # completed | failed | canceled

    @property
    def name(self) -> str:
        return f"job.{self.status}"


def job_events(finished: Iterable[tuple[str, str]], claimed: Iterable[Any]) -> list[JobEvent]:
    """The events of a completion: its finished top-level jobs (a multi-circuit job notifies once,
    as a whole, never per circuit). ``claimed`` are the completed executions (``runtime.queue.Claimed``)."""
    top: dict[str, tuple[str, str | None]] = {}
    for item in claimed:
        owner = item.parent_id or item.job_id
        top[owner] = (item.project_id, item.submitter_id)
    events = []
    for job_id, status in finished:
        if job_id in top and isinstance(status, str):
            project_id, submitter_id = top[job_id]
            events.append(JobEvent(job_id, project_id, submitter_id, status))
    return events


class Outbox:
    """Turns job events into outbox rows; wakes the notifier after writing some."""

    def __init__(self, *, email_enabled: bool, ttl: float = 2.0) -> None:
        self.email_enabled = email_enabled
        self.ttl = ttl
        self.wake = threading.Event()
        self._hooks: dict[str, list[tuple[str, frozenset[str]]]] = {}
        self._loaded = -1e9
        self._lock = threading.Lock()

    def invalidate(self) -> None:
        """Call after creating, changing or deleting a webhook."""
        with self._lock:
            self._loaded = -1e9

    def _webhooks(self, conn: Connection) -> dict[str, list[tuple[str, frozenset[str]]]]:
        with self._lock:
            if time.monotonic() - self._loaded < self.ttl:
                return self._hooks
        hooks: dict[str, list[tuple[str, frozenset[str]]]] = {}
        for row in conn.execute(_WEBHOOKS):
            hooks.setdefault(row.project_id, []).append((row.id, frozenset(row.events or ())))
        with self._lock:
            self._hooks, self._loaded = hooks, time.monotonic()
        return hooks

    def record(self, conn: Connection, events: Iterable[JobEvent]) -> int:
        """Insert the outbox rows for ``events`` on ``conn`` (the caller's transaction)."""
        events = [e for e in events if e.name in EVENTS]
        if not events:
            return 0
        hooks = self._webhooks(conn)
        now = utcnow()
        rows: list[dict[str, object]] = []
        for event in events:
            for webhook_id, wanted in hooks.get(event.project_id, ()):
                if event.name in wanted:
                    rows.append(_row("webhook", event, webhook_id, now))
        failed = [e for e in events if e.status == "failed" and e.submitter_id]
        if self.email_enabled and failed:
            users = {
                u.id: u for u in conn.execute(_RECIPIENTS, {"ids": sorted({e.submitter_id for e in failed})})
            }
            for event in failed:
                user = users.get(event.submitter_id)
                if user is not None and user.notify_on_failure and user.email:
                    rows.append(_row("email", event, user.email, now))
        if rows:
            conn.execute(insert(NotificationOutbox), rows)
            self.wake.set()
        return len(rows)


def _row(channel: str, event: JobEvent, target: str, now: object) -> dict[str, object]:
    return {
        "id": new_id(),
        "channel": channel,
        "event": event.name,
        "job_id": event.job_id,
        "project_id": event.project_id,
        "target": target,
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }
