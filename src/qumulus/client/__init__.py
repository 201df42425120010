"""The Qumulus SDK: accounts, providers, backends, jobs, job sets (client side only).

Imports nothing from the server (``qumulus.api``, ``services``, ``store``, ``runtime``, ``sim``):
``pip install qumulus`` (httpx, numpy, typer, rich) is all it needs.
"""

from qumulus.client.backend import Backend, BackendConfiguration, BackendProperties, BackendStatus, JobLimit
from qumulus.client.circuit import Circuit
from qumulus.client.errors import (
    AccountError,
    ApiError,
    ConnectionFailedError,
    JobCancelledError,
    JobError,
    JobFailureError,
    JobTimeoutError,
    QumulusClientError,
)
from qumulus.client.job import Job, QueueInfo
from qumulus.client.job_sets import JobManager, ManagedJobSet, ManagedResults
from qumulus.client.provider import Provider
from qumulus.client.result import ExperimentResult, Result
from qumulus.client.service import Qumulus, least_busy
from qumulus.client.status import JOB_FINAL_STATES, JobStatus

__all__ = [
    "JOB_FINAL_STATES",
    "AccountError",
    "ApiError",
    "Backend",
    "BackendConfiguration",
    "BackendProperties",
    "BackendStatus",
    "Circuit",
    "ConnectionFailedError",
    "ExperimentResult",
    "Job",
    "JobCancelledError",
    "JobError",
    "JobFailureError",
    "JobLimit",
    "JobManager",
    "JobStatus",
    "JobTimeoutError",
    "ManagedJobSet",
    "ManagedResults",
    "Provider",
    "QueueInfo",
    "Qumulus",
    "QumulusClientError",
    "Result",
    "least_busy",
]
