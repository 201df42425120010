"""Properties of select_next over random queues (hypothesis, fixed derandomised seed)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from qumulus.scheduling.policy import Allocation, Candidate, Running, Snapshot, Window, select_next

ORGS = ("A", "B", "C")
BACKENDS = ("qpu.x", "qpu.y")


@st.composite
def snapshots(draw: st.DrawFn) -> tuple[Snapshot, int]:
    now = 1000.0
    n_jobs = draw(st.integers(0, 25))
    candidates = []
    for i in range(n_jobs):
        org = draw(st.sampled_from(ORGS))
        candidates.append(
            Candidate(
                id=f"j{i}",
                organization_id=org,
                project_id=f"{org}{draw(st.integers(0, 2))}",
                backend=draw(st.sampled_from(BACKENDS)),
                submitted_at=draw(st.floats(0, now)),
                priority=draw(st.integers(0, 10)),
                tier=draw(st.sampled_from((0, 0, 0, 1))),
                estimate_seconds=draw(st.floats(0.1, 100)),
            )
        )
    windows = [
        Window(
            draw(st.sampled_from(ORGS)),
            draw(st.sampled_from(BACKENDS)),
            start,
            start + draw(st.floats(1, 500)),
        )
        for start in draw(st.lists(st.floats(now - 300, now + 300), max_size=2))
    ]
    allocations = {
        (b, o): Allocation(draw(st.floats(0, 300)), draw(st.floats(0, 300)))
        for b, o in draw(st.lists(st.tuples(st.sampled_from(BACKENDS), st.sampled_from(ORGS)), max_size=3))
    }
    running = [
        Running(o, f"{o}0", b, draw(st.floats(0, 100)))
        for o, b in draw(st.lists(st.tuples(st.sampled_from(ORGS), st.sampled_from(BACKENDS)), max_size=3))
    ]
    usage = {(b, o): draw(st.floats(0, 1e4)) for b in BACKENDS for o in ORGS}
    shares = {(b, o): draw(st.floats(0.001, 1000)) for b in BACKENDS for o in ORGS}
    snap = Snapshot(
        now=now,
        candidates=candidates,
        org_usage=usage,
        org_share=shares,
        reservations=windows,
        allocations=allocations,
        running=running,
        starvation_seconds=draw(st.sampled_from((None, 600.0))),
    )
    return snap, draw(st.integers(1, 30))


def _blocked_by_reservation(c: Candidate, snap: Snapshot) -> bool:
    for w in snap.reservations:
        if w.backend != c.backend or w.organization_id == c.organization_id or w.ends_at <= snap.now:
            continue
        if w.starts_at <= snap.now or w.starts_at < snap.now + c.estimate_seconds:
            return True
    return False


@settings(max_examples=400, derandomize=True, deadline=None)
@given(snapshots())
def test_only_queued_eligible_jobs_are_chosen_each_at_most_once(case: tuple[Snapshot, int]) -> None:
    snap, n = case
    chosen = select_next(snap, n)
    assert len(chosen) <= n
    assert len({c.id for c in chosen}) == len(chosen)
    assert {c.id for c in chosen} <= {c.id for c in snap.candidates}


@settings(max_examples=400, derandomize=True, deadline=None)
@given(snapshots())
def test_reservations_are_respected(case: tuple[Snapshot, int]) -> None:
    snap, n = case
    assert not any(_blocked_by_reservation(c, snap) for c in select_next(snap, n))


@settings(max_examples=400, derandomize=True, deadline=None)
@given(snapshots())
def test_hard_allocations_are_never_exceeded_running_work_included(case: tuple[Snapshot, int]) -> None:
    snap, n = case
    for (backend, org), limit in snap.allocations.items():
        running = sum(r.seconds for r in snap.running if (r.backend, r.organization_id) == (backend, org))
        picked = sum(
            c.estimate_seconds
            for c in select_next(snap, n)
            if (c.backend, c.organization_id) == (backend, org)
        )
        if picked:
            assert limit.used_seconds + running + picked <= limit.limit_seconds + 1e-9


@settings(max_examples=300, derandomize=True, deadline=None)
@given(snapshots())
def test_work_conserving_an_eligible_job_is_never_left_idle(case: tuple[Snapshot, int]) -> None:
    """If nothing is blocked by reservations or allocations, a claim of n takes min(n, queued)."""
    snap, n = case
    free = Snapshot(
        now=snap.now, candidates=snap.candidates, org_usage=snap.org_usage, org_share=snap.org_share
    )
    assert len(select_next(free, n)) == min(n, len(snap.candidates))


@settings(max_examples=300, derandomize=True, deadline=None)
@given(snapshots())
def test_fifo_inside_a_project_for_equal_tier_and_priority(case: tuple[Snapshot, int]) -> None:
    snap, n = case
    order = [c for c in select_next(snap, n)]
    for i, earlier in enumerate(order):
        for later in order[i + 1 :]:
            same = (earlier.backend, earlier.project_id, earlier.tier, earlier.priority) == (
                later.backend,
                later.project_id,
                later.tier,
                later.priority,
            )
            starve = snap.starvation_seconds
            if same and starve is None:
                assert earlier.submitted_at <= later.submitted_at
