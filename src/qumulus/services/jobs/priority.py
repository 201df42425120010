"""The priority tier: platform administrators expedite a job ahead of fair share, audited.

A tier (0 = normal, up to :data:`qumulus.scheduling.policy.MAX_TIER`) is the third rule of the
scheduling policy: a higher tier starts before any lower one, whatever the usage. Only platform
administrators may set it; anyone else gets a 403 whatever the job id (so nothing leaks). It applies
to the job's executions that are still queued (a running one is not preempted), and is stored on
``Execution.priority`` together with the job's own priority (``policy.encode_priority``).
"""

from __future__ import annotations

from sqlalchemy import select, update

from qumulus.auth.permissions import Action, Actor
from qumulus.auth.principal import Principal
from qumulus.errors import Conflict, InvalidRequest, NotFound
from qumulus.scheduling.policy import MAX_TIER, decode_priority, encode_priority
from qumulus.services.context import Context
from qumulus.services.tenancy import access, audit
from qumulus.store.models import Execution, Job, Project


def set_tier(platform: Context, principal: Principal, job_id: str, tier: int) -> int:
    """Set a job's tier; returns how many queued executions it now applies to."""
    if isinstance(tier, bool) or not isinstance(tier, int) or not 0 <= tier <= MAX_TIER:
        raise InvalidRequest(f"tier: an integer from 0 to {MAX_TIER}", field="tier")
    with platform.db.write() as session:
        access.require(
            Actor(scopes=principal.scopes, is_admin=access.is_admin(session, principal)),
            Action.PLATFORM_MANAGE,
        )
        job = session.get(Job, job_id) if 0 < len(job_id) <= 64 else None
        if job is None or job.deleted_at is not None:
            raise NotFound(f"Job {job_id} not found.")
        if job.status in ("completed", "failed", "canceled"):
            raise Conflict(f"Job {job_id} is already {job.status}.")
        ids = [job.id, *session.scalars(select(Job.id).where(Job.parent_id == job.id))]
        before = job.priority
        changed = 0
        for eid, stored in session.execute(
            select(Execution.id, Execution.priority).where(
                Execution.job_id.in_(ids), Execution.state == "queued"
            )
        ).all():
            _, own = decode_priority(stored)
            session.execute(
                update(Execution).where(Execution.id == eid).values(priority=encode_priority(tier, own))
            )
            changed += 1
        session.execute(update(Job).where(Job.id.in_(ids)).values(priority=tier))
        org = session.scalar(select(Project.organization_id).where(Project.id == job.project_id))
        audit.record(
            session,
            principal,
            "job.priority",
            target_type="job",
            target_id=job.id,
            organization_id=org,
            project_id=job.project_id,
            details={"tier": tier, "previous": before, "queued_executions": changed},
        )
    return changed
