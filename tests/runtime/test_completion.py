"""Completing a batch: fenced per execution, one ledger row per finished job, nothing for the lost."""

from __future__ import annotations

from sqlalchemy import func, select

from qumulus.auth.principal import Principal
from qumulus.runtime import queue
from qumulus.runtime.completion import complete
from qumulus.runtime.tasks import Outcome
from qumulus.services import jobs
from qumulus.store.models import Job, Project, Result, UsageLedger
from tests.conftest import make_platform

BELL = {"qubits": 2, "circuit": [{"gate": "h", "target": 0}, {"gate": "cnot", "control": 0, "target": 1}]}


def _setup(settings, n: int):  # type: ignore[no-untyped-def]
    platform, _ = make_platform(settings)
    with platform.db.read() as session:
        project = session.scalars(select(Project)).one()
    who = Principal(project.organization_id, project.id, None, None, project_role="admin")
    ids = [
        jobs.submit_job(platform, who, jobs.JobSpec("simulator", "ionq.circuit.v1", BELL)).job.id
        for _ in range(n)
    ]
    with platform.db.write(durable=False) as session:
        claimed = queue.claim(session, owner="w1", backends=None, limit=n, lease_seconds=60, postgres=False)
    return platform, who, ids, {c.execution_id: c for c in claimed}


def _bell(execution_id: str) -> Outcome:
    return Outcome(
        execution_id, ok=True, seconds=0.001, qubits=2, engine="qulacs", indices=[0, 3], values=[0.5, 0.5]
    )


def _rows(platform, model, job_ids):  # type: ignore[no-untyped-def]
    with platform.db.read() as session:
        return session.scalar(select(func.count()).select_from(model).where(model.job_id.in_(job_ids)))


def test_a_batch_completes_every_job_with_one_result_and_one_ledger_row(settings) -> None:  # type: ignore[no-untyped-def]
    platform, _, ids, claimed = _setup(settings, 5)
    with platform.db.write(durable=False) as session:
        finished = complete(
            session, owner="w1", claimed=claimed, outcomes=map(_bell, claimed), data_dir=settings.data_dir
        )
    assert sorted(finished) == sorted((i, "completed") for i in ids)
    assert _rows(platform, UsageLedger, ids) == 5 and _rows(platform, Result, ids) == 5


def test_a_job_canceled_mid_batch_is_neither_completed_nor_charged(settings) -> None:  # type: ignore[no-untyped-def]
    platform, who, ids, claimed = _setup(settings, 4)
    jobs.cancel_job(platform, who, ids[2])
    with platform.db.write(durable=False) as session:
        finished = complete(
            session, owner="w1", claimed=claimed, outcomes=map(_bell, claimed), data_dir=settings.data_dir
        )
    assert sorted(finished) == sorted((i, "completed") for i in ids if i != ids[2])
    with platform.db.read() as session:
        assert session.get(Job, ids[2]).status == "canceled"
    assert _rows(platform, UsageLedger, [ids[2]]) == 0 and _rows(platform, Result, [ids[2]]) == 0
    assert _rows(platform, UsageLedger, ids) == 3


def test_a_late_worker_writes_nothing_after_its_lease_was_taken_over(settings) -> None:  # type: ignore[no-untyped-def]
    platform, _, ids, claimed = _setup(settings, 3)
    with platform.db.write(durable=False) as session:
        queue.reap(session, owner="w1")  # w1 froze; its work went back to the queue
        retaken = queue.claim(session, owner="w2", backends=None, limit=3, lease_seconds=60, postgres=False)
    with platform.db.write(durable=False) as session:
        late = complete(
            session, owner="w1", claimed=claimed, outcomes=map(_bell, claimed), data_dir=settings.data_dir
        )
    assert late == []
    by_id = {c.execution_id: c for c in retaken}
    with platform.db.write(durable=False) as session:
        done = complete(
            session, owner="w2", claimed=by_id, outcomes=map(_bell, by_id), data_dir=settings.data_dir
        )
    assert len(done) == 3 and _rows(platform, UsageLedger, ids) == 3


def test_a_fenced_completion_and_the_reaper_leave_a_structured_trace(settings, caplog) -> None:  # type: ignore[no-untyped-def]
    """Issue 16.16: a frozen worker's late completion matched 0 rows and logged nothing, and the
    reaper logged only a count. Both now log job and execution ids, owner and attempt."""
    import logging
    from datetime import timedelta

    from sqlalchemy import update

    from qumulus.store.models import Execution
    from qumulus.timeutil import utcnow

    platform, _, ids, claimed = _setup(settings, 2)
    caplog.set_level(logging.INFO, logger="qumulus")
    with platform.db.write(durable=False) as session:  # w1 froze: its leases expire and are reaped
        session.execute(update(Execution).values(lease_expires_at=utcnow() - timedelta(seconds=1)))
        assert len(queue.reap(session)) == 2
        queue.claim(session, owner="w2", backends=None, limit=2, lease_seconds=60, postgres=False)
    requeued = [r for r in caplog.records if getattr(r, "event", None) == "execution_requeued"]
    assert sorted(r.execution_id for r in requeued) == sorted(claimed)
    assert {(r.owner, r.attempt, r.reason) for r in requeued} == {("w1", 1, "lease expired")}
    assert sorted(r.job_id for r in requeued) == sorted(ids)
    with platform.db.write(durable=False) as session:
        late = complete(
            session, owner="w1", claimed=claimed, outcomes=map(_bell, claimed), data_dir=settings.data_dir
        )
    assert late == []
    fenced = [r for r in caplog.records if getattr(r, "event", None) == "completion_fenced"]
    assert sorted(r.execution_id for r in fenced) == sorted(claimed)
    for record in fenced:
        assert (record.owner, record.attempt) == ("w1", 1)
        assert (record.current_owner, record.current_attempt, record.current_state) == ("w2", 2, "running")
        assert record.job_id in ids
        assert (
            f"execution_id={record.execution_id}" in record.getMessage() and "owner=w1" in record.getMessage()
        )
