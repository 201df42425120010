"""Which queued executions start next: ``select_next(snapshot, n)``, a pure function.

Rules, in order (DESIGN §4; ``reference/architecture.md`` §2.2):

1. **Reservation gate.** Inside an approved window on a backend only the reserving organization's
   work starts there. Before a window the backend drains: another organization's execution is held
   back when its predicted duration would run into the window.
2. **Hard allocation limits.** An organization whose period usage plus running work plus this
   execution's prediction would pass its contract allocation on the backend stays queued.
3. **Priority tier** (set by platform administrators only): a higher tier goes first.
   **Anti-starvation**: an execution waiting longer than ``starvation_seconds`` is promoted above
   the non-starved work of its tier, oldest first, so no wait grows without bound.
4. **Least-served organization** on the backend: smallest ``(decayed usage + provisional) ÷ share``;
   ties go to the organization with the oldest head execution.
5. **Least-served project** inside it, by the same measure with project shares.
6. The execution's own **priority** inside its project, then **FIFO**.

**Sessions run back to back.** Inside the winning tier (and below starved work), a queued execution
of the backend's *current session* (``Snapshot.sessions``: the active session that most recently
started a job on that backend) goes before everything else, so a session's iterative jobs do not
each wait behind the whole queue. Rules 1 and 2 still apply to it; its usage is charged as usual,
so the organization pays for the head start in later fair-share decisions.

Running work counts as provisional usage (its predicted seconds), and every pick of a batch adds
its own prediction before the next pick, so one claim of N executions spreads them as N successive
decisions would, and concurrent workers do not all pile onto the same least-served project.

Shares are relative weights: only ratios between siblings matter (an organization's contract share
against the other organizations on the backend, a project's share against its organization's
other projects), so they need not sum to one.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

#: Highest priority tier an administrator may set; tier 0 is everyone's default.
MAX_TIER = 9
#: Range of a job's own priority (reorders its own project's jobs only).
MAX_OWN_PRIORITY = 10
#: ``Execution.priority`` stores ``tier * TIER_SPAN + own priority``: one indexed integer column.
TIER_SPAN = 100
#: Share used for an organization or project that has none configured.
DEFAULT_SHARE = 1.0

Key = tuple[str, str]  # (backend, organization or project id)


def encode_priority(tier: int, own: int = 0) -> int:
    """The stored ``Execution.priority`` for a tier and an own priority (both clamped)."""
    return max(0, min(MAX_TIER, tier)) * TIER_SPAN + max(0, min(MAX_OWN_PRIORITY, own))


def decode_priority(stored: int) -> tuple[int, int]:
    """``(tier, own priority)`` of a stored ``Execution.priority``."""
    tier, own = divmod(max(0, stored), TIER_SPAN)
    return min(tier, MAX_TIER), own


@dataclass(frozen=True, slots=True)
class Candidate:
    """A queued execution as the policy sees it. Times are seconds (any common origin)."""

    id: str
    organization_id: str
    project_id: str
    backend: str
    submitted_at: float
    priority: int = 0
    tier: int = 0
    #: Predicted run time, seconds: provisional usage once picked, and what draining compares.
    estimate_seconds: float = 1.0
    #: The session its job belongs to, if any (only loaded when the backend has a current session).
    session_id: str | None = None


@dataclass(frozen=True, slots=True)
class Window:
    """An approved reservation: ``organization_id`` alone may start work on ``backend`` in it.

    With ``organization_id == ""`` it is a *closure* (maintenance, outage): nobody starts work there
    (``runtime/availability.py``), and the backend drains before it like before a reservation."""

    organization_id: str
    backend: str
    starts_at: float
    ends_at: float


@dataclass(frozen=True, slots=True)
class Allocation:
    """A hard limit: seconds an organization may use on a backend this period, and used so far."""

    limit_seconds: float
    used_seconds: float


@dataclass(frozen=True, slots=True)
class Running:
    """Work already running, as provisional usage of its organization and project."""

    organization_id: str
    project_id: str
    backend: str
    seconds: float


@dataclass
class Snapshot:
    """Everything :func:`select_next` needs, loaded in one go by the caller.

    Usage maps hold *decayed* seconds at ``now``, keyed by ``(backend, id)``; share maps default to
    :data:`DEFAULT_SHARE`; allocations are keyed ``(backend, organization)``.
    """

    now: float
    candidates: Sequence[Candidate]
    org_usage: Mapping[Key, float] = field(default_factory=dict)
    project_usage: Mapping[Key, float] = field(default_factory=dict)
    org_share: Mapping[Key, float] = field(default_factory=dict)
    project_share: Mapping[str, float] = field(default_factory=dict)
    running: Sequence[Running] = ()
    reservations: Sequence[Window] = ()
    allocations: Mapping[Key, Allocation] = field(default_factory=dict)
    #: Waiting longer than this promotes an execution (None: never).
    starvation_seconds: float | None = None
    #: backend -> its current session (the active one that most recently started a job there).
    sessions: Mapping[str, str] = field(default_factory=dict)


def gate(candidate: Candidate, now: float, windows: Iterable[Window]) -> bool:
    """Rule 1: whether the reservations on its backend let ``candidate`` start at ``now``."""
    for w in windows:
        if w.backend != candidate.backend or w.organization_id == candidate.organization_id:
            continue
        if w.starts_at <= now < w.ends_at:
            return False  # inside another organization's window
        if now < w.starts_at < now + candidate.estimate_seconds:
            return False  # would still run when the window opens: the backend drains
    return True


def within_allocation(candidate: Candidate, allocation: Allocation | None, provisional: float) -> bool:
    """Rule 2: whether starting ``candidate`` keeps its organization inside its hard allocation."""
    if allocation is None:
        return True
    return allocation.used_seconds + provisional + candidate.estimate_seconds <= allocation.limit_seconds


def _score(usage: float, share: float) -> float:
    if share <= 0:
        return float("inf") if usage > 0 else 1e300  # a zero share runs only when nobody else waits
    return usage / share


def select_next(snapshot: Snapshot, n: int = 1) -> list[Candidate]:
    """Up to ``n`` candidates in the order they should start (see the module docstring)."""
    now = snapshot.now
    starve = snapshot.starvation_seconds
    windows = [w for w in snapshot.reservations if w.ends_at > now]

    def starved(c: Candidate) -> bool:
        return starve is not None and now - c.submitted_at > starve

    current = snapshot.sessions

    def in_session(c: Candidate) -> bool:
        return c.session_id is not None and current.get(c.backend) == c.session_id

    # Rule 1 does not depend on what this call picks: filter once, then queue per project.
    queues: dict[Key, list[tuple[tuple[int, int, int, int, float, str], Candidate]]] = defaultdict(list)
    for c in snapshot.candidates:
        if gate(c, now, windows):
            order = (-c.tier, -int(starved(c)), -int(in_session(c)), -c.priority, c.submitted_at, c.id)
            queues[(c.backend, c.project_id)].append((order, c))
    for items in queues.values():
        heapq.heapify(items)

    org_extra: dict[Key, float] = defaultdict(float)
    project_extra: dict[Key, float] = defaultdict(float)
    for r in snapshot.running:
        org_extra[(r.backend, r.organization_id)] += r.seconds
        project_extra[(r.backend, r.project_id)] += r.seconds

    chosen: list[Candidate] = []
    while len(chosen) < n and queues:
        heads: list[Candidate] = []
        for key in list(queues):
            items = queues[key]
            while items:  # rule 2: drop heads the allocation no longer admits (it only tightens)
                c = items[0][1]
                org = (c.backend, c.organization_id)
                if within_allocation(c, snapshot.allocations.get(org), org_extra[org]):
                    heads.append(c)
                    break
                heapq.heappop(items)
            if not items:
                del queues[key]
        if not heads:
            break
        pick = _choose(snapshot, heads, starved, org_extra, project_extra, in_session)
        heapq.heappop(queues[(pick.backend, pick.project_id)])
        if not queues[(pick.backend, pick.project_id)]:
            del queues[(pick.backend, pick.project_id)]
        org_extra[(pick.backend, pick.organization_id)] += pick.estimate_seconds
        project_extra[(pick.backend, pick.project_id)] += pick.estimate_seconds
        chosen.append(pick)
    return chosen


def _choose(
    snapshot: Snapshot,
    heads: list[Candidate],
    starved: Callable[[Candidate], bool],
    org_extra: Mapping[Key, float],
    project_extra: Mapping[Key, float],
    in_session: Callable[[Candidate], bool] = lambda c: False,
) -> Candidate:
    """Rules 3–6 among the head execution of every project (sessions first, see module docstring)."""
    top = max((h.tier, starved(h)) for h in heads)
    group = [h for h in heads if (h.tier, starved(h)) == top]
    if top[1]:
        return min(group, key=lambda h: (h.submitted_at, h.id))  # starved: oldest first
    session_heads = [h for h in group if in_session(h)]
    if session_heads:
        return min(session_heads, key=lambda h: (-h.priority, h.submitted_at, h.id))  # back to back

    def org_key(h: Candidate) -> tuple[float, float]:
        org = (h.backend, h.organization_id)
        usage = snapshot.org_usage.get(org, 0.0) + org_extra.get(org, 0.0)
        return _score(usage, snapshot.org_share.get(org, DEFAULT_SHARE)), h.submitted_at

    best_org = min(group, key=org_key)
    org = (best_org.backend, best_org.organization_id)
    inside = [h for h in group if (h.backend, h.organization_id) == org]

    def project_key(h: Candidate) -> tuple[float, int, float, str]:
        project = (h.backend, h.project_id)
        usage = snapshot.project_usage.get(project, 0.0) + project_extra.get(project, 0.0)
        share = snapshot.project_share.get(h.project_id, DEFAULT_SHARE)
        return _score(usage, share), -h.priority, h.submitted_at, h.id

    return min(inside, key=project_key)


def jain(values: Sequence[float]) -> float:
    """Jain's fairness index ``(Σx)² / (n·Σx²)``: 1 when all equal, 1/n when one takes all."""
    total = sum(values)
    squares = sum(v * v for v in values)
    return 1.0 if squares == 0 else total * total / (len(values) * squares)
