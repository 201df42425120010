"""Changing jobs after submission: cancel (one, or in bulk) and delete."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from qumulus.auth.permissions import Action
from qumulus.auth.principal import Principal
from qumulus.domain import ACTIVE, TERMINAL
from qumulus.errors import NotFound
from qumulus.notifications.outbox import JobEvent, Outbox
from qumulus.services.context import Context
from qumulus.services.jobs.queries import owned
from qumulus.store import holds
from qumulus.store.models import Execution, Job
from qumulus.timeutil import utcnow


def cancel_job(platform: Context, principal: Principal, job_id: str) -> Job:
    """Cancel a queued or running job (and its children).

    A job that is already final (completed, failed, canceled) is returned as it is: the answer is 200
    with its current status, as IonQ answers (cirq-ionq's ``job.cancel()`` raises on an error status
    and its code notes that IonQ "can cancel a completed job"); its history is not rewritten."""
    with platform.db.write() as session:
        job = owned(session, principal, job_id)  # first: another tenant's job is a 404, whoever asks
        principal.require(Action.JOB_CANCEL)
        if job.status in TERMINAL:
            return job
        cancel_in(session, job, platform.outbox)
    platform.work_canceled()
    return job


def cancel_in(session: Session, job: Job, outbox: Outbox | None = None) -> None:
    """Cancel ``job`` and its active children; ``outbox`` records the ``job.canceled`` notification."""
    from qumulus.runtime.completion import roll_up_parent

    now = utcnow()
    ids = [job.id, *session.scalars(select(Job.id).where(Job.parent_id == job.id, Job.status.in_(ACTIVE)))]
    # Executions first, then jobs: the order a claim takes its row locks in (runtime/queue.claim
    # locks executions, then marks their jobs started). The other order deadlocked with a
    # concurrent claim on PostgreSQL, and the cancel could be the transaction aborted.
    session.execute(
        update(Execution)
        .where(Execution.job_id.in_(ids), Execution.state.in_(("queued", "running")))
        .values(state="canceled", finished_at=now, lease_owner=None, lease_expires_at=None)
    )
    canceled = session.execute(
        update(Job)
        .where(Job.id.in_(ids), Job.status.in_(ACTIVE))
        .values(status="canceled", canceled_at=now)
        .returning(Job.budget_id, Job.budget_hold)
    ).all()
    holds.release(session, canceled)
    job.status = "canceled"
    job.canceled_at = now
    final = None
    if job.parent_id:
        final = roll_up_parent(
            session, job.parent_id, postgres=session.get_bind().dialect.name == "postgresql"
        )
    if outbox is not None:
        top, status = (job.id, "canceled") if job.parent_id is None else (job.parent_id, final)
        if status is not None:
            outbox.record(session.connection(), [JobEvent(top, job.project_id, job.submitter_id, status)])


def delete_job(platform: Context, principal: Principal, job_id: str) -> str:
    """Delete a job (canceling it first if it is still active); later reads are 404."""
    with platform.db.write() as session:
        job = owned(session, principal, job_id)
        principal.require(Action.JOB_DELETE, owns_target=job.submitter_id == principal.user_id)
        _delete(session, job, platform.outbox)
    platform.work_canceled()
    return job.id


def _delete(session: Session, job: Job, outbox: Outbox | None = None) -> None:
    if job.status in ACTIVE:
        cancel_in(session, job, outbox)
    now = utcnow()
    session.execute(update(Job).where(or_(Job.id == job.id, Job.parent_id == job.id)).values(deleted_at=now))


def bulk(
    platform: Context, principal: Principal, ids: Sequence[str], action: str
) -> tuple[list[str], list[str]]:
    """Cancel or delete many jobs; returns (affected ids, ids not found).

    Finished jobs are skipped on cancel.
    """
    principal.require(Action.JOB_CANCEL if action == "cancel" else Action.JOB_DELETE)
    affected: list[str] = []
    missing: list[str] = []
    with platform.db.write() as session:
        for job_id in ids:
            try:
                job = owned(session, principal, job_id)
            except NotFound:
                missing.append(job_id)
                continue
            if action == "cancel":
                if job.status in ACTIVE:
                    cancel_in(session, job, platform.outbox)
                    affected.append(job.id)
                elif job.status == "canceled":
                    affected.append(job.id)
            else:
                _delete(session, job, platform.outbox)
                affected.append(job.id)
    platform.work_canceled()
    return affected, missing
