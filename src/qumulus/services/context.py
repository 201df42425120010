"""What every use case receives: the parts of the running platform that rules need.

A service function takes a :class:`Context` as its first argument instead of reaching for globals.
The composition root, :class:`qumulus.platform.Platform`, is a ``Context`` that also starts and stops
the job runtime (workers, simulator processes, notifier, timers); services never import it, so they
run the same under ``qumulus serve``, ``qumulus api``, the admin CLI and tests.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from sqlalchemy import select

from qumulus.accounting.contracts import Terms
from qumulus.config import Settings
from qumulus.notifications.outbox import Outbox
from qumulus.runtime.completions import CompletionHub
from qumulus.runtime.wakeup import LocalWaker
from qumulus.store.db import Database
from qumulus.store.group_commit import GroupCommitter
from qumulus.store.models import Backend


class Context:
    """Settings, the database and the per-process caches and signals services share."""

    def __init__(self, settings: Settings, db: Database, secret: bytes) -> None:
        self.settings = settings
        self.db = db
        #: The HMAC key API keys are stored under.
        self.secret = secret
        #: Wakes this process's workers when work is queued (``waker.notify(n)``).
        self.waker = LocalWaker()
        #: Wakes this process's workload runner when a workload job is submitted.
        self.workloads_waker = LocalWaker()
        self.backends = BackendCache(db)
        #: Job completions as futures, for requests that wait on a job (POST's wait, ``?wait=``, SSE).
        self.completions = CompletionHub()
        #: Group commit of submissions (one fsync for many concurrent inserts, SQLite).
        self.committer = GroupCommitter(db)
        #: Contract terms and budgets as admission reads them (``services/billing/charging``).
        self.admission = AdmissionCache()
        #: Job events → notification rows, written in the completion and cancel transactions.
        self.outbox = Outbox(email_enabled=bool(settings.smtp_host))

    @property
    def data_dir(self) -> Path:
        return self.settings.data_dir

    def work_canceled(self) -> None:
        """Jobs were canceled: let workers stop simulating them now. Nothing runs work in a bare
        context; the platform tells its workers (and, distributed, those of other processes)."""


class BackendCache:
    """Backend rows by name, re-read at most every ``ttl`` seconds (every submission needs one).

    Services that change a backend call :meth:`invalidate`; other processes see it within ``ttl``.
    """

    def __init__(self, db: Database, ttl: float = 2.0) -> None:
        self.db = db
        self.ttl = ttl
        self._rows: dict[str, Backend] = {}
        self._loaded = -1e9
        self._lock = threading.Lock()

    def get(self, name: str) -> Backend | None:
        with self._lock:
            if time.monotonic() - self._loaded > self.ttl:
                with self.db.read() as session:
                    self._rows = {b.name: b for b in session.scalars(select(Backend))}
                self._loaded = time.monotonic()
            return self._rows.get(name)

    def invalidate(self) -> None:
        with self._lock:
            self._loaded = -1e9


class AdmissionCache:
    """Contract terms per organization and the latest budget row per project, re-read at most every
    ``ttl`` seconds: admission reads them for every submission, and reading them each time was
    most of a tiny job's event-loop time. A change through this process's services clears the
    cache at once (:meth:`clear`); through another process it is seen within ``ttl``. The budget
    hold itself is decided inside the insert transaction against committed rows, so a stale cache
    can only delay noticing a new budget, never overspend one it knows."""

    def __init__(self, ttl: float = 2.0) -> None:
        self.ttl = ttl
        self._terms: dict[str, tuple[float, list[Terms]]] = {}
        self._budgets: dict[str, tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def terms(self, organization_id: str, load: Any) -> list[Terms]:
        return self._get(self._terms, organization_id, load)

    def latest_budget(self, project_id: str, load: Any) -> Any:
        return self._get(self._budgets, project_id, load)

    def clear(self) -> None:
        with self._lock:
            self._terms.clear()
            self._budgets.clear()

    def _get(self, table: dict[str, tuple[float, Any]], key: str, load: Any) -> Any:
        now = time.monotonic()
        with self._lock:
            hit = table.get(key)
        if hit is not None and now - hit[0] < self.ttl:
            return hit[1]
        value = load()
        with self._lock:
            table[key] = (now, value)
        return value
