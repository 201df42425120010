"""Group commit: many concurrent small write transactions share one commit (one fsync).

Every accepted job must be durable before its id is returned, and on SQLite a durable commit is an
fsync of the WAL (milliseconds). Concurrent submitters therefore queue their work here; whoever
gets the lock first becomes the *leader*, runs every queued piece of work in one transaction, each
inside its own savepoint (so one submitter's failure, e.g. a duplicate idempotency key, rolls back
only its own rows), commits once, and hands each follower its own result or exception.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from sqlalchemy import Connection

from qumulus.store.db import Database

T = TypeVar("T")

#: Most pieces of work one leader commits together.
MAX_GROUP = 64


@dataclass
class _Work(Generic[T]):
    fn: Callable[[Connection], T]
    done: bool = False
    result: Any = None
    error: BaseException | None = None
    event: threading.Event = field(default_factory=threading.Event)


class GroupCommitter:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._queue: list[_Work[Any]] = []
        self._queue_lock = threading.Lock()
        self._leader = threading.Lock()
        #: Transactions committed and pieces of work they carried (for benchmarks and tests).
        self.commits = 0
        self.items = 0

    def run(self, fn: Callable[[Connection], T]) -> T:
        """Run ``fn(connection)`` in a durable transaction shared with other concurrent callers."""
        work: _Work[T] = _Work(fn)
        with self._queue_lock:
            self._queue.append(work)
        with self._leader:
            if not work.done:
                with self._queue_lock:
                    group, self._queue = self._queue[:MAX_GROUP], self._queue[MAX_GROUP:]
                self._commit(group)
        work.event.wait()
        if work.error is not None:
            raise work.error
        return work.result

    def _commit(self, group: list[_Work[Any]]) -> None:
        try:
            with self.db.begin() as conn:
                if len(group) == 1:  # alone: its failure rolls back only its own work anyway
                    group[0].result = group[0].fn(conn)
                else:
                    for work in group:
                        try:
                            with conn.begin_nested():
                                work.result = work.fn(conn)
                        except Exception as exc:  # this submitter's own failure; the others go on
                            work.error = exc
        except Exception as exc:  # the commit itself failed: nobody's work is durable
            for work in group:
                if work.error is None:
                    work.error, work.result = exc, None
        else:
            self.commits += 1
            self.items += len(group)
        finally:
            for work in group:
                work.done = True
                work.event.set()
