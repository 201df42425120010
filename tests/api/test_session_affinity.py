"""The claim snapshot sees each backend's current session, so its jobs are claimed back to back."""

from __future__ import annotations

from sqlalchemy import update

from qumulus.runtime import fairshare, session_affinity
from qumulus.scheduling.policy import select_next
from qumulus.store.models import Execution, Job
from qumulus.timeutil import utcnow
from tests.api.conftest import bell_job
from tests.conftest import Api


def test_snapshot_puts_the_current_sessions_queued_jobs_first(idle_api: Api) -> None:
    api = idle_api
    before = [api.post("/v0.4/jobs", json=bell_job()).json()["id"] for _ in range(2)]
    session = api.post("/v0.4/sessions", json={"backend": "simulator"}).json()
    first, second = (
        api.post("/v0.4/jobs", json=bell_job(session_id=session["id"])).json()["id"] for _ in range(2)
    )
    with api.platform.db.begin() as conn:  # type: ignore[attr-defined]
        # The session's first job has started (as a worker would mark it): the session is current.
        conn.execute(update(Job).where(Job.id == first).values(status="started", started_at=utcnow()))
        conn.execute(update(Execution).where(Execution.job_id == first).values(state="running"))
    session_affinity.invalidate()
    with api.platform.db.connect() as conn:  # type: ignore[attr-defined]
        snap = fairshare.snapshot(conn, backends=["simulator"], limit=50, now=utcnow())
        job_of = dict(
            conn.execute(Execution.__table__.select().with_only_columns(Execution.id, Execution.job_id)).all()
        )
    assert snap.sessions == {"simulator": session["id"]}
    order = [job_of[c.id] for c in select_next(snap, 3)]
    assert order == [second, *before]  # the session's queued job jumps the two older ones
