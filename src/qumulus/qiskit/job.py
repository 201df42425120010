"""``QumulusJob``: a Qiskit ``JobV1`` over a client :class:`~qumulus.client.Job` (one server job).

``job_id()`` is the server's id, so ``backend.retrieve_job(id)`` in another process gets the same
job back; how to read its shots as Qiskit clbits is stored with the job (its metadata).
"""

from __future__ import annotations

from typing import Any

from qiskit.providers import JobStatus as QiskitJobStatus
from qiskit.providers import JobV1
from qiskit.result import Result

from qumulus.client import Job, clbits
from qumulus.client.clbits import LAYOUT_KEY, ClbitLayout
from qumulus.client.interop.qiskit_circuits import Converted
from qumulus.client.status import JobStatus

__all__ = ["LAYOUT_KEY", "QumulusJob", "layout_metadata", "read_layout"]

_STATUS = {
    JobStatus.INITIALIZING: QiskitJobStatus.INITIALIZING,
    JobStatus.VALIDATING: QiskitJobStatus.VALIDATING,
    JobStatus.QUEUED: QiskitJobStatus.QUEUED,
    JobStatus.RUNNING: QiskitJobStatus.RUNNING,
    JobStatus.DONE: QiskitJobStatus.DONE,
    JobStatus.ERROR: QiskitJobStatus.ERROR,
    JobStatus.CANCELLED: QiskitJobStatus.CANCELLED,
}


def layout_metadata(converted: list[Converted]) -> str:
    """How to read each circuit's shots as its clbits, as one metadata string (``client/clbits.py``)."""
    return clbits.encode([c.layout for c in converted])


def read_layout(job: Job) -> list[ClbitLayout]:
    layouts = clbits.from_metadata(job.data.get("metadata"))
    if layouts is None or any(layout is None for layout in layouts):
        raise ValueError(f"job {job.job_id()} was not submitted through qumulus.qiskit (no clbit layout)")
    return layouts  # type: ignore[return-value]


class QumulusJob(JobV1):
    def __init__(self, backend: Any, job: Job, memory: bool = False) -> None:
        super().__init__(backend, job.job_id())
        self.client_job = job
        self._memory = memory

    def submit(self) -> None:
        raise NotImplementedError("a QumulusJob is submitted by backend.run()")

    def status(self) -> QiskitJobStatus:
        return _STATUS[self.client_job.status()]

    def cancel(self) -> bool:
        return self.client_job.cancel()

    def queue_position(self) -> int | None:
        return self.client_job.queue_position()

    def result(self, timeout: float | None = None) -> Result:
        """Counts (and, with ``memory=True``, every shot) per circuit, keyed by the circuit's clbits."""
        client_result = self.client_job.result(timeout=timeout)
        experiments = []
        for experiment in client_result.results:
            layout = experiment.layout
            if layout is None:
                raise ValueError(
                    f"job {self.job_id()} was not submitted from Qiskit circuits (no clbit layout)"
                )
            if self._memory:
                _ = experiment.memory_int  # downloads the shots: data() then includes them
            experiments.append(
                {
                    "shots": experiment.shots,
                    "success": True,
                    "data": experiment.data(),
                    "meas_level": 2,
                    "header": {
                        "name": layout.name or experiment.name,
                        "memory_slots": layout.num_clbits,
                        "creg_sizes": [list(r) for r in layout.creg_sizes],
                    },
                }
            )
        return Result.from_dict(
            {
                "backend_name": self.client_job.backend_name,
                "backend_version": "1",
                "job_id": self.job_id(),
                "success": True,
                "results": experiments,
            }
        )
