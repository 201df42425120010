"""The snapshot's session fields: each backend's current session and its queued executions.

The policy (``scheduling/policy.py``) runs a backend's *current session* back to back: the active
(``started``) session that most recently started a job on that backend. Loading this must not tax
the claim path when nobody uses sessions, so:

* the list of started sessions is cached per database for :data:`TTL_S` seconds (one small query a
  second at most; a session started or ended within the TTL is seen a moment late, which only
  delays its head start);
* only when a candidate's backend has a started session do two more queries run: the session with
  the newest job start per backend (``jobs.session_id`` is indexed), and the session id of the
  candidate executions (at most the claim window, by primary key).
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Sequence

from sqlalchemy import Connection, func, select

from qumulus.scheduling.policy import Candidate
from qumulus.store.models import Execution, Job
from qumulus.store.models import Session as JobSession

TTL_S = 1.0

_CACHE: dict[str, tuple[float, dict[str, list[str]]]] = {}
_LOCK = threading.Lock()


def _started(conn: Connection) -> dict[str, list[str]]:
    """backend -> ids of its started sessions (cached for :data:`TTL_S`)."""
    key = str(conn.engine.url)
    now = time.monotonic()
    with _LOCK:
        hit = _CACHE.get(key)
    if hit is not None and now - hit[0] < TTL_S:
        return hit[1]
    found: dict[str, list[str]] = {}
    for session_id, backend in conn.execute(
        select(JobSession.id, JobSession.backend).where(JobSession.status == "started")
    ):
        found.setdefault(backend, []).append(session_id)
    with _LOCK:
        _CACHE[key] = (now, found)
    return found


def invalidate() -> None:
    """Forget the cached list (tests; a process that just started or ended a session)."""
    with _LOCK:
        _CACHE.clear()


def attach(conn: Connection, candidates: Sequence[Candidate]) -> tuple[list[Candidate], dict[str, str]]:
    """``(candidates with session_id set where it matters, backend -> current session)``."""
    started = _started(conn)
    backends = {c.backend for c in candidates} & set(started)
    if not backends:
        return list(candidates), {}
    current: dict[str, str] = {}
    for backend in backends:
        ids = started[backend]
        latest = conn.execute(
            select(Job.session_id)
            .where(Job.session_id.in_(ids), Job.started_at.is_not(None))
            .group_by(Job.session_id)
            .order_by(func.max(Job.started_at).desc())
            .limit(1)
        ).scalar()
        if latest is not None:
            current[backend] = latest
    if not current:
        return list(candidates), {}
    wanted = [c.id for c in candidates if c.backend in current]
    of = dict(
        conn.execute(
            select(Execution.id, Job.session_id)
            .join(Job, Job.id == Execution.job_id)
            .where(Execution.id.in_(wanted), Job.session_id.in_(list(current.values())))
        ).all()
    )
    return [dataclasses.replace(c, session_id=of[c.id]) if c.id in of else c for c in candidates], current
