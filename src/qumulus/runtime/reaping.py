"""Reaping with an attempt cap: the one place that decides whether lost work runs again.

An execution whose lease was lost (its worker died, froze, or its simulator process was killed) is
requeued while it has attempts left (``Settings.max_attempts``, ``QUMULUS_MAX_ATTEMPTS``, 3 by
default) and failed with ``AttemptsExhausted`` once it has none: a job that kills whatever runs it
(a poisoned input, an out-of-memory simulation) must end, not cycle through the queue every lease
forever. The embedded server's start-up, the maintenance round (embedded and ``qumulus scheduler``)
and the worker's own crash handling (``runtime/worker.py``) all decide with :func:`exhausted`.

Executions already at a provider (driver-served backends) are always requeued: they are re-attached
and followed, never run again, so a retry costs nothing and failing them would lose a real result.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import Connection

from qumulus.notifications.outbox import Outbox
from qumulus.runtime import queue
from qumulus.runtime.completion import complete
from qumulus.runtime.tasks import Outcome
from qumulus.store.db import core
from qumulus.timeutil import utcnow

log = logging.getLogger("qumulus.reaper")

#: The failure code of a job whose execution ran out of attempts.
EXHAUSTED = "AttemptsExhausted"


def exhausted(attempt: int, max_attempts: int) -> bool:
    """Whether an execution that has been claimed ``attempt`` times may not run again."""
    return max_attempts > 0 and attempt >= max_attempts


def failure(attempt: int, why: str) -> dict[str, str]:
    """The job's failure when its execution is out of attempts."""
    return {
        "code": EXHAUSTED,
        "message": f"gave up after {attempt} attempt(s): {why} (QUMULUS_MAX_ATTEMPTS)",
    }


@dataclass
class Reaped:
    requeued: list[str] = field(default_factory=list)
    #: ``(job id, final status)`` of the jobs that ended (failed children and their parents).
    finished: list[tuple[str, str]] = field(default_factory=list)


def reap(
    conn: Connection,
    *,
    max_attempts: int,
    owner: str | None = None,
    now: datetime | None = None,
    outbox: Outbox | None = None,
) -> Reaped:
    """Requeue lost executions (expired leases, or all of ``owner``'s) that have attempts left; fail
    those that have none, through the same fenced completion as a worker's (job status, hold
    released, parent roll-up, failure notifications), in the caller's transaction."""
    conn = core(conn)
    now = now or utcnow()
    rows = queue.lost(conn, now=now, owner=owner)
    done = [r for r in rows if r.provider_job_id is None and exhausted(r.attempt, max_attempts)]
    again = [r for r in rows if r not in done]
    queue.requeue_all(conn, again)
    out = Reaped(requeued=[r.id for r in again])
    by_owner: dict[str, list[str]] = defaultdict(list)
    for r in done:
        by_owner[r.lease_owner].append(r.id)
    for lease_owner, ids in by_owner.items():
        claimed = {c.execution_id: c for c in queue.claimed_rows(conn, ids, started_at=now)}
        why = "its lease expired each time (the worker or its simulator process died)"
        outcomes = [
            Outcome(eid, ok=False, seconds=0.0, failure=failure(c.attempt, why)) for eid, c in claimed.items()
        ]
        out.finished += complete(
            conn, owner=lease_owner, claimed=claimed, outcomes=outcomes, data_dir=Path("."), outbox=outbox
        )
    if done:
        log.warning("failed %d execution(s) out of attempts", len(done))
    return out
