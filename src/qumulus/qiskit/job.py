"""``QumulusJob``: a Qiskit ``JobV1`` over a client :class:`~qumulus.client.Job` (one server job).

``job_id()`` is the server's id, so ``backend.retrieve_job(id)`` in another process gets the same
job back; how to read its shots as Qiskit clbits is stored with the job (its metadata).
"""

from __future__ import annotations

import json
from typing import Any

from qiskit.providers import JobStatus as QiskitJobStatus
from qiskit.providers import JobV1
from qiskit.result import Result

from qumulus.client import Job
from qumulus.client.status import JobStatus
from qumulus.qiskit.convert import Converted, clbit_value

LAYOUT_KEY = "qiskit_layout"

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
    """What :func:`read_layout` needs, as one metadata string (the server keeps string values)."""
    return json.dumps(
        [[c.clbit_sources, c.num_clbits, c.creg_sizes, c.name] for c in converted], separators=(",", ":")
    )


def read_layout(job: Job) -> list[Converted]:
    raw = (job.data.get("metadata") or {}).get(LAYOUT_KEY)
    if raw is None:
        raise ValueError(f"job {job.job_id()} was not submitted through qumulus.qiskit (no clbit layout)")
    return [Converted({}, sources, n, sizes, name) for sources, n, sizes, name in json.loads(raw)]


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
        layouts = read_layout(self.client_job)
        experiments = []
        for layout, experiment in zip(layouts, client_result.results, strict=True):
            counts: dict[str, int] = {}
            for outcome, n in experiment.counts_int.items():
                key = hex(clbit_value(layout, outcome))
                counts[key] = counts.get(key, 0) + n
            data: dict[str, Any] = {"counts": counts}
            if self._memory:
                data["memory"] = [hex(clbit_value(layout, v)) for v in experiment.memory_int]
            experiments.append(
                {
                    "shots": experiment.shots,
                    "success": True,
                    "data": data,
                    "meas_level": 2,
                    "header": {
                        "name": layout.name,
                        "memory_slots": layout.num_clbits,
                        "creg_sizes": layout.creg_sizes,
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
