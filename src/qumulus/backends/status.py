"""The backend status lifecycle, as pure rules (no I/O): which statuses exist, which start jobs,
and what a backend's status is at a moment given its scheduled maintenance windows.

Statuses follow the usual status-page vocabulary:

=================  ==============  =====================================================
status             starts jobs?    meaning
=================  ==============  =====================================================
``operational``    yes             normal service
``degraded``       yes             runs, but slower or noisier than its characterization
``partial_outage`` yes             runs with reduced capacity (some work may be delayed)
``major_outage``   **no**          cannot run jobs; they stay queued and start afterwards
``maintenance``    **no**          planned work; queued jobs start when it ends
``retired``        **no** (new)    refuses new jobs; jobs already queued still drain
=================  ==============  =====================================================

Why partial outage still starts jobs: for a QPU it means part of the machine's capacity is down,
not that it cannot run a circuit; holding every job would turn a partial outage into a total one.
Why retired still drains its queue: the jobs were accepted while it was in service, and refusing
to run them would strand them; new submissions are refused (400 naming the backend).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

STATUSES = ("operational", "degraded", "partial_outage", "major_outage", "maintenance", "retired")
#: Statuses in which a backend starts no job (queued jobs wait; running ones finish).
HOLDS_JOBS = frozenset({"major_outage", "maintenance"})
#: Statuses a scheduled maintenance window does not override (worse, or final).
OVERRIDES_WINDOW = frozenset({"major_outage", "retired"})


@dataclass(frozen=True, slots=True)
class Planned:
    """A scheduled maintenance window."""

    id: str
    backend: str
    starts_at: datetime
    ends_at: datetime
    message: str = ""


@dataclass(frozen=True, slots=True)
class Effective:
    """A backend's status at a moment: stored status, or ``maintenance`` inside a window."""

    status: str
    message: str
    #: The window that put it in maintenance, if one did.
    window: Planned | None = None


def check_status(value: object) -> str:
    """The status named by ``value``, or ValueError listing the valid ones."""
    if not isinstance(value, str) or value not in STATUSES:
        raise ValueError(f"one of {', '.join(STATUSES)}")
    return value


def effective(stored: str, message: str, windows: Iterable[Planned], now: datetime) -> Effective:
    """The status in force at ``now``: a running maintenance window wins over a milder status."""
    if stored not in OVERRIDES_WINDOW:
        for w in windows:
            if w.starts_at <= now < w.ends_at:
                return Effective("maintenance", w.message or message, w)
    return Effective(stored, message)


def starts_jobs(status: str) -> bool:
    """Whether a backend in ``status`` may start queued work (retired drains; see the module doc)."""
    return status not in HOLDS_JOBS
