"""Job states with Qiskit's names, without importing qiskit.

``JobStatus`` is a ``str`` enum, so ``status == "DONE"`` and ``status.name == "DONE"`` both work, and
the Qiskit integration can map it to ``qiskit.providers.JobStatus`` by name. It also equals Qiskit's
member of the same name (``job.status() == qiskit.providers.JobStatus.DONE``), as IBMQ code compares.
"""

from __future__ import annotations

from enum import Enum


class JobStatus(str, Enum):
    INITIALIZING = "INITIALIZING"
    QUEUED = "QUEUED"
    VALIDATING = "VALIDATING"
    RUNNING = "RUNNING"
    CANCELLED = "CANCELLED"
    DONE = "DONE"
    ERROR = "ERROR"

    def __str__(self) -> str:
        return self.value

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Enum) and not isinstance(other, JobStatus):
            return type(other).__name__ == "JobStatus" and other.name == self.name
        return str.__eq__(self, other)

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    __hash__ = str.__hash__


#: Server (IonQ v0.4) status → JobStatus.
FROM_SERVER = {
    "submitted": JobStatus.INITIALIZING,
    "ready": JobStatus.QUEUED,
    "started": JobStatus.RUNNING,
    "running": JobStatus.RUNNING,  # v0.3 spelling
    "completed": JobStatus.DONE,
    "failed": JobStatus.ERROR,
    "canceled": JobStatus.CANCELLED,
}
JOB_FINAL_STATES = frozenset({JobStatus.DONE, JobStatus.CANCELLED, JobStatus.ERROR})
SERVER_FINAL = frozenset({"completed", "failed", "canceled"})
ACTIVE = frozenset({JobStatus.INITIALIZING, JobStatus.QUEUED, JobStatus.VALIDATING, JobStatus.RUNNING})
#: JobStatus (or its name, or a server status) → the server statuses a list filter sends.
TO_SERVER = {
    JobStatus.INITIALIZING: ["submitted"],
    JobStatus.QUEUED: ["ready"],
    JobStatus.VALIDATING: ["submitted"],
    JobStatus.RUNNING: ["started"],
    JobStatus.DONE: ["completed"],
    JobStatus.ERROR: ["failed"],
    JobStatus.CANCELLED: ["canceled"],
}


def from_server(status: str) -> JobStatus:
    try:
        return FROM_SERVER[status]
    except KeyError:
        raise ValueError(f"unknown job status from the server: {status!r}") from None


def server_statuses(value: object) -> list[str]:
    """A filter value (JobStatus, its name, a server status, or a list of them) → server statuses."""
    items = value if isinstance(value, list | tuple | set | frozenset) else [value]
    out: list[str] = []
    for item in items:
        if isinstance(item, JobStatus):
            out.extend(TO_SERVER[item])
        elif isinstance(item, str) and item.upper() in JobStatus.__members__:
            out.extend(TO_SERVER[JobStatus[item.upper()]])
        elif isinstance(item, str) and item.lower() in FROM_SERVER:
            out.append(item.lower())
        else:
            raise ValueError(f"status: unknown job status {item!r}")
    return list(dict.fromkeys(out))
