"""select_next and sessions: the backend's current session runs back to back."""

from __future__ import annotations

from qumulus.scheduling.policy import Candidate, Snapshot, Window, select_next

B = "qpu.aria-1"
OTHER = "qpu.forte-1"


def job(i: str, org: str, project: str, t: float, **kw: object) -> Candidate:
    return Candidate(i, org, project, kw.pop("backend", B), submitted_at=t, **kw)  # type: ignore[arg-type]


def ids(snapshot: Snapshot, n: int = 1) -> list[str]:
    return [c.id for c in select_next(snapshot, n)]


def queue() -> list[Candidate]:
    # A is heavily used (fair share would put B first); A's later jobs belong to session S.
    return [
        job("b1", "B", "b", 1),
        job("a1", "A", "a", 2),
        job("s1", "A", "a", 3, session_id="S"),
        job("b2", "B", "b", 4),
        job("s2", "A", "a", 5, session_id="S"),
    ]


USAGE = {(B, "A"): 1000.0, (B, "B"): 0.0}


def test_without_a_current_session_fair_share_decides() -> None:
    assert ids(Snapshot(now=10, candidates=queue(), org_usage=USAGE), 5) == ["b1", "b2", "a1", "s1", "s2"]


def test_the_current_sessions_jobs_go_back_to_back_ahead_of_fair_share_and_fifo() -> None:
    snap = Snapshot(now=10, candidates=queue(), org_usage=USAGE, sessions={B: "S"})
    assert ids(snap, 5) == ["s1", "s2", "b1", "b2", "a1"]


def test_a_session_current_on_another_backend_gets_no_head_start_here() -> None:
    snap = Snapshot(now=10, candidates=queue(), org_usage=USAGE, sessions={OTHER: "S"})
    assert ids(snap, 2) == ["b1", "b2"]


def test_starved_work_and_higher_tiers_still_go_before_a_session() -> None:
    starving = Snapshot(
        now=100, candidates=queue(), org_usage=USAGE, sessions={B: "S"}, starvation_seconds=98.5
    )
    assert ids(starving, 2) == ["b1", "s1"]  # b1 waited 99 s > 98.5: promoted; then the session
    tiered = [*queue(), job("t1", "B", "b", 9, tier=1)]
    assert ids(Snapshot(now=10, candidates=tiered, org_usage=USAGE, sessions={B: "S"}), 2) == ["t1", "s1"]


def test_a_reservation_window_still_holds_a_session_back() -> None:
    window = Window("B", B, starts_at=0, ends_at=1000)
    snap = Snapshot(now=10, candidates=queue(), org_usage=USAGE, sessions={B: "S"}, reservations=[window])
    assert ids(snap, 5) == ["b1", "b2"]
