"""Jobs: submission, reads and lists, cancel and delete, results, job sets, sessions, priority, the
queue as users see it, and the limits a submission must pass.

May import ``services.billing`` (admission charges a job's budget), ``services.tenancy``, and the
layers below ``services``; never ``services.backends``. This package's ``__init__`` names the job
use cases the entry points call (``from qumulus.services import jobs``; ``jobs.submit_job``); its
own modules import each other directly, never through it.
"""

from qumulus.domain import ACTIVE, TERMINAL, JobSpec, JobView
from qumulus.services.jobs.filters import DEFAULT_LIST_LIMIT, JobQuery
from qumulus.services.jobs.lifecycle import bulk, cancel_job, delete_job
from qumulus.services.jobs.queries import MAX_LIST_LIMIT, get_job, list_jobs
from qumulus.services.jobs.submission import plan_submission, submit_job, submit_job_async

__all__ = [
    "ACTIVE",
    "DEFAULT_LIST_LIMIT",
    "MAX_LIST_LIMIT",
    "TERMINAL",
    "JobQuery",
    "JobSpec",
    "JobView",
    "bulk",
    "cancel_job",
    "delete_job",
    "get_job",
    "list_jobs",
    "plan_submission",
    "submit_job",
    "submit_job_async",
]
