"""What fair-share usage a completed execution adds, where shares come from, and run-time estimates.

Pure functions used by the completion hook (:mod:`qumulus.runtime.fairshare`) and by the
simulation in ``bench/fairness.py``, so the bench measures the code that runs in production.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from qumulus.accounting.pricing import pattern_matches, specificity
from qumulus.scheduling.policy import DEFAULT_SHARE, Window

#: Predicted run time of an execution on a backend with no history yet, seconds.
DEFAULT_ESTIMATE_S = 1.0


@dataclass(frozen=True, slots=True)
class Usage:
    """One completed execution's usage, as the fair-share accounting sees it."""

    organization_id: str
    project_id: str
    backend: str
    seconds: float
    started_at: float
    finished_at: float


@dataclass(frozen=True, slots=True)
class Charge:
    """Seconds to add to one fair-share accumulator: ``kind`` is ``org``, ``project`` or ``backend``."""

    kind: str
    entity_id: str
    backend: str
    seconds: float
    count: float


def reserved(usage: Usage, windows: Iterable[Window]) -> bool:
    """Whether the execution started inside its own organization's reservation on that backend.

    Such usage is billed (the ledger row is written as usual) but not counted against fair share:
    otherwise an organization would pay its reservation back by being starved after the window.
    """
    return any(
        w.organization_id == usage.organization_id
        and w.backend == usage.backend
        and w.starts_at <= usage.started_at < w.ends_at
        for w in windows
    )


def charges(usages: Iterable[Usage], windows: Sequence[Window] = ()) -> list[Charge]:
    """Accumulator increments for a batch, merged per accumulator.

    Every execution feeds its backend's run-time history (for :func:`estimate`); only unreserved
    usage is charged to its organization and project.
    """
    merged: dict[tuple[str, str, str], list[float]] = {}

    def add(kind: str, entity: str, backend: str, seconds: float) -> None:
        slot = merged.setdefault((kind, entity, backend), [0.0, 0.0])
        slot[0] += seconds
        slot[1] += 1.0

    for u in usages:
        seconds = max(0.0, u.seconds)
        add("backend", u.backend, u.backend, seconds)
        if not reserved(u, windows):
            add("org", u.organization_id, u.backend, seconds)
            add("project", u.project_id, u.backend, seconds)
    return [Charge(k, e, b, s, c) for (k, e, b), (s, c) in sorted(merged.items())]


def estimate(decayed_seconds: float, decayed_count: float, default: float = DEFAULT_ESTIMATE_S) -> float:
    """Predicted run time on a backend: the decayed mean of its recent executions.

    Deliberately simple: one number per backend, recent history weighing most (the same forward
    decay as usage). It sizes provisional usage and decides draining before a reservation; a
    backend with no history uses ``default``.
    """
    if decayed_count <= 1e-9:
        return default
    return decayed_seconds / decayed_count


@dataclass(frozen=True, slots=True)
class ShareTerm:
    """A contract's share on a backend or class pattern (``qpu.*``, ``simulator``, ``*``)."""

    backend_pattern: str
    share: float


def org_share(terms: Iterable[ShareTerm], backend: str) -> float:
    """An organization's share on ``backend``: the most specific contract that covers it.

    Without a contract the organization has :data:`DEFAULT_SHARE` (simulators may be free).
    """
    live = [t for t in terms if pattern_matches(t.backend_pattern, backend)]
    if not live:
        return DEFAULT_SHARE
    return max(live, key=lambda t: specificity(t.backend_pattern)).share
