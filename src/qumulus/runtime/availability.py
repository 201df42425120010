"""Which backends may start work now, for the claim: cached, so the hot path pays nothing.

The claim (:func:`qumulus.runtime.fairshare.snapshot`) adds these *closures* to the reservation
windows it hands to :func:`qumulus.scheduling.policy.select_next`. A closure is a policy
``Window`` that belongs to no organization (``""``), so the existing reservation gate holds every
organization's work on that backend:

* a backend whose stored status holds jobs (``major_outage``, ``maintenance``;
  :data:`qumulus.backends.status.HOLDS_JOBS`) is closed from −∞ to +∞;
* a scheduled maintenance window closes its backend from its start to its end, and — as before a
  reservation — the backend *drains* before it: work predicted to run into the window waits.

Running work is never interrupted. The two small reads are cached per database for
:data:`TTL_S` seconds; :mod:`qumulus.services.backends.status` calls :func:`invalidate` after a
change (other processes see it within the TTL).
"""

from __future__ import annotations

import threading
import time
from datetime import datetime

from sqlalchemy import Connection, select

from qumulus.backends.status import HOLDS_JOBS
from qumulus.scheduling.policy import Window
from qumulus.store.models import Backend, MaintenanceWindow

#: Seconds a loaded set of closures is reused between claims.
TTL_S = 1.0
#: The organization id of a closure: no organization's work starts inside it.
NOBODY = ""

_CACHE: dict[str, tuple[float, list[Window]]] = {}
_LOCK = threading.Lock()


def invalidate() -> None:
    """Forget cached closures (after a status change or a new maintenance window)."""
    with _LOCK:
        _CACHE.clear()


def closures(conn: Connection, now: datetime) -> list[Window]:
    """The backends closed now or later (as policy windows), re-read every :data:`TTL_S` s."""
    key = str(conn.engine.url)
    tick = time.monotonic()
    with _LOCK:
        hit = _CACHE.get(key)
    if hit is not None and tick - hit[0] < TTL_S:
        return hit[1]
    loaded = _load(conn, now)
    with _LOCK:
        _CACHE[key] = (tick, loaded)
    return loaded


def _load(conn: Connection, now: datetime) -> list[Window]:
    out = [
        Window(NOBODY, name, float("-inf"), float("inf"))
        for name in conn.scalars(select(Backend.name).where(Backend.status.in_(sorted(HOLDS_JOBS))))
    ]
    planned = select(MaintenanceWindow.backend, MaintenanceWindow.starts_at, MaintenanceWindow.ends_at).where(
        MaintenanceWindow.status == "scheduled", MaintenanceWindow.ends_at > now
    )
    out.extend(
        Window(NOBODY, r.backend, r.starts_at.timestamp(), r.ends_at.timestamp())
        for r in conn.execute(planned)
    )
    return out
