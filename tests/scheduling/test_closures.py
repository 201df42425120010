"""A closure (a backend in maintenance or outage) holds everyone's work there, and drains before."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from qumulus.backends.status import STATUSES, Planned, effective, starts_jobs
from qumulus.runtime.availability import NOBODY
from qumulus.scheduling.policy import Candidate, Snapshot, Window, select_next

INF = float("inf")


def _c(i: int, backend: str, estimate: float = 10.0) -> Candidate:
    return Candidate(f"e{i}", "org", "p", backend, submitted_at=float(i), estimate_seconds=estimate)


def test_a_closed_backend_starts_nothing_and_other_backends_carry_on() -> None:
    snap = Snapshot(
        now=100.0,
        candidates=[_c(1, "qpu.aria-1"), _c(2, "simulator")],
        reservations=[Window(NOBODY, "qpu.aria-1", -INF, INF)],
    )
    assert [c.id for c in select_next(snap, 5)] == ["e2"]


def test_a_backend_drains_before_a_maintenance_window_and_reopens_after() -> None:
    window = Window(NOBODY, "qpu.aria-1", 105.0, 200.0)
    long_job, short_job = _c(1, "qpu.aria-1", estimate=10.0), _c(2, "qpu.aria-1", estimate=1.0)
    before = Snapshot(now=100.0, candidates=[long_job, short_job], reservations=[window])
    assert [c.id for c in select_next(before, 5)] == ["e2"]  # 100 + 10 would run into the window
    inside = Snapshot(now=150.0, candidates=[long_job, short_job], reservations=[window])
    assert select_next(inside, 5) == []
    after = Snapshot(now=200.0, candidates=[long_job, short_job], reservations=[window])
    assert {c.id for c in select_next(after, 5)} == {"e1", "e2"}


def test_which_statuses_start_jobs_and_when_a_window_applies() -> None:
    assert [s for s in STATUSES if not starts_jobs(s)] == ["major_outage", "maintenance"]
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    w = Planned("w", "qpu.aria-1", now - timedelta(minutes=1), now + timedelta(hours=1), "pump")
    assert effective("degraded", "", [w], now).status == "maintenance"
    assert effective("degraded", "", [w], now).message == "pump"
    assert effective("operational", "", [w], now + timedelta(hours=2)).status == "operational"
    assert effective("major_outage", "fire", [w], now).status == "major_outage"  # worse wins
    assert effective("retired", "", [w], now).status == "retired"
