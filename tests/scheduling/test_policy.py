"""select_next, one rule at a time: what a tenant would notice about who runs first."""

from __future__ import annotations

from qumulus.scheduling.policy import (
    Allocation,
    Candidate,
    Running,
    Snapshot,
    Window,
    decode_priority,
    encode_priority,
    jain,
    select_next,
)

B = "qpu.aria-1"


def job(i: str, org: str, project: str, t: float, **kw: object) -> Candidate:
    return Candidate(i, org, project, B, submitted_at=t, **kw)  # type: ignore[arg-type]


def ids(snapshot: Snapshot, n: int = 1) -> list[str]:
    return [c.id for c in select_next(snapshot, n)]


def test_the_least_served_organization_goes_first_even_with_a_younger_job() -> None:
    snap = Snapshot(
        now=100,
        candidates=[job("a1", "A", "a", 1), job("b1", "B", "b", 50)],
        org_usage={(B, "A"): 500.0, (B, "B"): 100.0},
    )
    assert ids(snap) == ["b1"]


def test_usage_is_divided_by_share() -> None:
    # A used 4x what B used but has 10x the share: A is the less served.
    snap = Snapshot(
        now=100,
        candidates=[job("a1", "A", "a", 1), job("b1", "B", "b", 2)],
        org_usage={(B, "A"): 400.0, (B, "B"): 100.0},
        org_share={(B, "A"): 10.0, (B, "B"): 1.0},
    )
    assert ids(snap) == ["a1"]


def test_an_organization_without_usage_beats_one_that_has_used_the_backend() -> None:
    snap = Snapshot(
        now=100, candidates=[job("a1", "A", "a", 1), job("c1", "C", "c", 99)], org_usage={(B, "A"): 0.5}
    )
    assert ids(snap) == ["c1"]


def test_ties_go_to_the_oldest_head_job() -> None:
    snap = Snapshot(now=100, candidates=[job("b1", "B", "b", 7), job("a1", "A", "a", 3)])
    assert ids(snap) == ["a1"]


def test_inside_the_chosen_organization_the_least_served_project_goes_first() -> None:
    snap = Snapshot(
        now=100,
        candidates=[job("p1", "A", "p", 1), job("q1", "A", "q", 2), job("b1", "B", "b", 0)],
        org_usage={(B, "A"): 1.0, (B, "B"): 50.0},
        project_usage={(B, "p"): 30.0, (B, "q"): 10.0},
        project_share={"p": 4.0, "q": 1.0},  # p: 7.5 per share, q: 10 per share
    )
    assert ids(snap) == ["p1"]


def test_inside_a_project_own_priority_then_fifo() -> None:
    snap = Snapshot(
        now=100,
        candidates=[job("old", "A", "a", 1), job("new", "A", "a", 5), job("urgent", "A", "a", 9, priority=5)],
    )
    assert ids(snap, 3) == ["urgent", "old", "new"]


def test_an_administrator_tier_beats_fair_share() -> None:
    snap = Snapshot(
        now=100,
        candidates=[job("a1", "A", "a", 1), job("b1", "B", "b", 2, tier=1)],
        org_usage={(B, "A"): 0.0, (B, "B"): 1e6},
    )
    assert ids(snap) == ["b1"]


def test_inside_another_organizations_reservation_nothing_else_starts() -> None:
    snap = Snapshot(
        now=100,
        candidates=[job("a1", "A", "a", 1, tier=5), job("b1", "B", "b", 2)],
        reservations=[Window("B", B, starts_at=50, ends_at=200)],
        org_usage={(B, "B"): 1e9},
    )
    assert ids(snap, 5) == ["b1"]


def test_a_reservation_on_another_backend_does_not_block() -> None:
    snap = Snapshot(
        now=100, candidates=[job("a1", "A", "a", 1)], reservations=[Window("B", "other", 50, 200)]
    )
    assert ids(snap) == ["a1"]


def test_the_backend_drains_before_a_window_a_job_that_would_overrun_waits() -> None:
    long_job = job("long", "A", "a", 1, estimate_seconds=30.0)
    short_job = job("short", "A", "a", 2, estimate_seconds=5.0)
    snap = Snapshot(now=100, candidates=[long_job, short_job], reservations=[Window("B", B, 120, 200)])
    assert ids(snap, 2) == ["short"]  # 100 + 30 > 120 would run into B's window; 100 + 5 fits


def test_after_the_window_everyone_runs_again() -> None:
    snap = Snapshot(now=250, candidates=[job("a1", "A", "a", 1)], reservations=[Window("B", B, 120, 200)])
    assert ids(snap) == ["a1"]


def test_an_exhausted_hard_allocation_keeps_the_organizations_work_queued() -> None:
    snap = Snapshot(
        now=100,
        candidates=[job("a1", "A", "a", 1), job("a2", "A", "a", 2)],
        allocations={(B, "A"): Allocation(limit_seconds=10.0, used_seconds=9.5)},
    )
    assert ids(snap, 2) == []


def test_an_allocation_admits_only_what_fits_running_work_included() -> None:
    snap = Snapshot(
        now=100,
        candidates=[job(f"a{i}", "A", "a", i, estimate_seconds=2.0) for i in range(10)],
        allocations={(B, "A"): Allocation(limit_seconds=10.0, used_seconds=3.0)},
        running=[Running("A", "a", B, 2.0)],
    )
    assert ids(snap, 10) == ["a0", "a1"]  # 3 used + 2 running + 2 + 2 = 9 <= 10; a third would be 11


def test_a_job_waiting_past_the_starvation_bound_is_promoted() -> None:
    snap = Snapshot(
        now=10_000,
        candidates=[job("b-fresh", "B", "b", 9_990), job("a-starving", "A", "a", 1)],
        org_usage={(B, "A"): 1e6, (B, "B"): 0.0},
        starvation_seconds=3600,
    )
    assert ids(snap) == ["a-starving"]


def test_running_work_counts_as_provisional_usage() -> None:
    snap = Snapshot(
        now=100,
        candidates=[job("a1", "A", "a", 1), job("b1", "B", "b", 2)],
        running=[Running("A", "a", B, 60.0)],
    )
    assert ids(snap) == ["b1"]


def test_a_batch_alternates_as_successive_single_picks_would() -> None:
    jobs = [job(f"a{i}", "A", "a", i) for i in range(6)] + [job(f"b{i}", "B", "b", 10 + i) for i in range(6)]
    picked = ids(Snapshot(now=100, candidates=jobs), 6)
    assert sorted(p[0] for p in picked) == ["a", "a", "a", "b", "b", "b"]
    assert [p[0] for p in picked] in (list("ababab"), list("bababa"))


def test_a_batch_follows_a_3_to_1_share() -> None:
    jobs = [job(f"a{i}", "A", "a", i) for i in range(40)] + [job(f"b{i}", "B", "b", i) for i in range(40)]
    picked = ids(Snapshot(now=100, candidates=jobs, org_share={(B, "A"): 3.0, (B, "B"): 1.0}), 40)
    assert sum(p.startswith("a") for p in picked) == 30


def test_priority_encoding_round_trips_and_is_bounded() -> None:
    assert decode_priority(encode_priority(3, 7)) == (3, 7)
    assert decode_priority(encode_priority(99, 99)) == (9, 10)
    assert encode_priority(1) > encode_priority(0, 10)


def test_jain_index() -> None:
    assert jain([1, 1, 1]) == 1.0
    assert abs(jain([1, 0, 0, 0]) - 0.25) < 1e-12
