"""A server job as a Qiskit-style handle: status, waiting, results, cancel, name and tags.

A ``Job`` is only an id plus the last state read from the server; build one from an id in any
process (``provider.retrieve_job(id)``) and it behaves the same.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from qumulus.client import clbits
from qumulus.client.aio import AsyncJob
from qumulus.client.errors import JobCancelledError, JobFailureError
from qumulus.client.events import wait_final
from qumulus.client.protocols import ProviderAPI
from qumulus.client.result import ExperimentResult, Result
from qumulus.client.status import JOB_FINAL_STATES, SERVER_FINAL, JobStatus, from_server

StatusCallback = Callable[[str, JobStatus, "Job"], None]


@dataclass(frozen=True)
class QueueInfo:
    """Where a queued job stands. ``position`` 1 = next; estimates from the backend's recent jobs."""

    job_id: str
    status: JobStatus
    position: int | None
    jobs_ahead: int
    estimated_start_time: datetime | None
    estimated_complete_time: datetime | None


def parse_time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


class Job:
    def __init__(self, provider: ProviderAPI, data: dict[str, Any], *, memory: bool = False) -> None:
        self._provider = provider
        self._data = data
        self._memory = memory
        self._result: Result | None = None

    def __repr__(self) -> str:
        return f"<Job {self.job_id()} on {self.backend_name} {self._data.get('status')}>"

    # identity ------------------------------------------------------------------------------

    def job_id(self) -> str:
        return str(self._data["id"])

    @property
    def id(self) -> str:
        return self.job_id()

    @property
    def backend_name(self) -> str:
        return str(self._data.get("backend"))

    def backend(self) -> Any:
        return self._provider.get_backend(self.backend_name)

    @property
    def data(self) -> dict[str, Any]:
        """The job as the server last described it (``GET /v0.4/jobs/{id}``)."""
        return dict(self._data)

    def name(self) -> str | None:
        return self._data.get("name")

    def tags(self) -> list[str]:
        return list(self._data.get("tags") or [])

    def job_set_id(self) -> str | None:
        return self._data.get("job_set_id")

    # state ---------------------------------------------------------------------------------

    def refresh(self) -> Job:
        self._data = self.transport.request("GET", f"/jobs/{self.job_id()}")
        return self

    def update_from(self, data: dict[str, Any]) -> None:
        """Take a newer description of this job (one the push channel delivered)."""
        if str(data.get("id")) != self.job_id():
            raise ValueError(f"update_from: that is job {data.get('id')}, not {self.job_id()}")
        self._data = data

    @property
    def aio(self) -> AsyncJob:
        """This job for ``asyncio``: ``await job.aio.result()``, ``async for s in job.aio.watch()``."""
        return AsyncJob(self)

    def status(self) -> JobStatus:
        """The current status (one request)."""
        return from_server(self.refresh()._data["status"])

    def cached_status(self) -> JobStatus:
        """The status last read, without a request."""
        return from_server(self._data["status"])

    def in_final_state(self) -> bool:
        return self.status() in JOB_FINAL_STATES

    def done(self) -> bool:
        return self.status() is JobStatus.DONE

    def running(self) -> bool:
        return self.status() is JobStatus.RUNNING

    def cancelled(self) -> bool:
        return self.status() is JobStatus.CANCELLED

    def error_message(self) -> str | None:
        """The server's failure reason (``code: message``) for a failed job, else None."""
        if self._data.get("status") not in SERVER_FINAL:
            self.refresh()
        failure = self._data.get("failure")
        if self._data.get("status") != "failed" or not failure:
            return None
        return f"{failure.get('code', 'Error')}: {failure.get('message') or failure.get('error')}"

    def creation_date(self) -> datetime | None:
        return parse_time(self._data.get("submitted_at"))

    def properties(self) -> Any:
        """The backend's calibration in force when this job was submitted (None for simulators)."""
        return self.backend().properties(datetime=self.creation_date())

    def time_per_step(self) -> dict[str, datetime]:
        """When the job entered each state it went through (Qiskit status names)."""
        steps = {
            "INITIALIZING": "submitted_at",
            "QUEUED": "ready_at",
            "RUNNING": "started_at",
            "CANCELLED": "canceled_at",
        }
        out = {state: parse_time(self._data.get(key)) for state, key in steps.items()}
        if self._data.get("status") in ("completed", "failed"):
            final = "DONE" if self._data["status"] == "completed" else "ERROR"
            out[final] = parse_time(self._data.get("completed_at"))
        return {state: when for state, when in out.items() if when is not None}

    def queue_info(self) -> QueueInfo | None:
        """Queue position and estimated start and end; None once the job is no longer queued."""
        info = self.transport.request("GET", f"/jobs/{self.job_id()}/queue")
        if info.get("position") is None:
            return None
        return QueueInfo(
            job_id=info["id"],
            status=from_server(info["status"]),
            position=info["position"],
            jobs_ahead=info.get("jobs_ahead", 0),
            estimated_start_time=parse_time(info.get("estimated_start_time")),
            estimated_complete_time=parse_time(info.get("estimated_complete_time")),
        )

    def queue_position(self) -> int | None:
        info = self.queue_info()
        return info.position if info else None

    # waiting -------------------------------------------------------------------------------

    def wait_for_final_state(
        self,
        timeout: float | None = None,
        wait: float | None = None,
        callback: StatusCallback | None = None,
    ) -> None:
        """Block until DONE, ERROR or CANCELLED; :class:`JobTimeoutError` after ``timeout`` seconds.

        The server pushes every change (no polling); ``wait`` forces polling at that interval instead.
        ``callback(job_id, status, job)`` runs once per *change* of status, the first state included.
        """
        last: list[str | None] = [None]

        def on_update(data: dict[str, Any]) -> None:
            self._data = data
            if callback is not None and data.get("status") != last[0]:
                last[0] = data.get("status")
                callback(self.job_id(), from_server(data["status"]), self)

        if callback is not None:
            on_update(self._data)
        wait_final(
            self.transport,
            self.job_id(),
            timeout=timeout,
            poll_interval=wait,
            on_update=on_update,
            current=self._data.get("status"),
        )

    def result(self, timeout: float | None = None, wait: float | None = None) -> Result:
        """Wait (see :meth:`wait_for_final_state`), then the results; cached once read.

        Raises :class:`JobFailureError` (with the server's reason) or :class:`JobCancelledError`.
        """
        if self._result is not None:
            return self._result
        self.wait_for_final_state(timeout=timeout, wait=wait)
        status = self._data["status"]
        if status == "failed":
            failure = self._data.get("failure") or {}
            message = failure.get("message") or failure.get("error") or "the job failed"
            raise JobFailureError(
                f"job {self.job_id()} failed: {failure.get('code', 'Error')}: {message}",
                job_id=self.job_id(),
                code=failure.get("code"),
            )
        if status == "canceled":
            raise JobCancelledError(
                f"job {self.job_id()} was canceled and has no results", job_id=self.job_id()
            )
        experiments = self._experiments()
        if self._memory:  # run(memory=True): download the shots now (otherwise on first get_memory)
            for experiment in experiments:
                _ = experiment.memory_int
        self._result = Result(self.job_id(), self.backend_name, experiments, name=self.name())
        return self._result

    def _experiments(self, first_index: int = 0) -> list[ExperimentResult]:
        job_id = self.job_id()
        shots = int(self._data.get("shots") or 0)
        base = f"/jobs/{job_id}/results"
        probabilities = self.transport.request("GET", f"{base}/probabilities")
        histogram = self.transport.request("GET", f"{base}/histogram")
        children = self._data.get("child_job_ids")
        layouts = self._layouts(len(children) if children else 1)
        if not children:
            qubits = int((self._data.get("stats") or {}).get("qubits") or 0)
            # a Qiskit circuit's experiment is named after the circuit, not the job (as in Qiskit)
            name = layouts[0].name if layouts[0] is not None and layouts[0].name else self.name()
            return [
                self._experiment(
                    first_index, job_id, name, qubits, shots, probabilities, histogram, layouts[0]
                )
            ]
        info = self._children_info(children)
        return [
            self._experiment(
                first_index + i,
                child,
                info.get(child, {}).get("name"),
                int(info.get(child, {}).get("qubits") or 0),
                shots,
                probabilities.get(child, {}),
                histogram.get(child, {}),
                layouts[i],
            )
            for i, child in enumerate(children)
        ]

    def _layouts(self, count: int) -> list[clbits.ClbitLayout | None]:
        """The clbit layout of each of this job's circuits (None: read in qubit order). A job set's
        members share the set's metadata, so a member starts at its first experiment in the set."""
        every = clbits.from_metadata(self._data.get("metadata"))
        if every is None:
            return [None] * count
        place = (self._data.get("stats") or {}).get("job_set") or {}
        first = int(place.get("first_experiment", 0)) if self._data.get("job_set_id") else 0
        mine = every[first : first + count]
        if len(mine) != count:
            raise ValueError(
                f"job {self.job_id()}: its metadata describes {len(every)} circuits, not {first + count}"
            )
        return mine

    def _children_info(self, children: list[str]) -> dict[str, dict[str, Any]]:
        info: dict[str, dict[str, Any]] = {}
        cursor = None
        while True:
            params: dict[str, Any] = {"parent_job_id": self.job_id(), "limit": 1000}
            if cursor:
                params["next"] = cursor
            page = self.transport.request("GET", "/jobs", params=params)
            for child in page.get("jobs", []):
                info[child["id"]] = {
                    "name": child.get("name"),
                    "qubits": (child.get("stats") or {}).get("qubits"),
                }
            cursor = page.get("next")
            if not cursor:
                return info

    def _experiment(
        self,
        index: int,
        job_id: str,
        name: str | None,
        qubits: int,
        shots: int,
        probabilities: dict[str, float],
        histogram: dict[str, int],
        layout: clbits.ClbitLayout | None = None,
    ) -> ExperimentResult:
        transport = self.transport
        return ExperimentResult(
            index=index,
            job_id=job_id,
            name=name,
            qubits=qubits,
            shots=shots,
            probabilities_int={int(k): float(v) for k, v in probabilities.items()},
            counts_int={int(k): int(v) for k, v in histogram.items()},
            _memory_loader=lambda: transport.request("GET", f"/jobs/{job_id}/results/shots"),
            layout=layout,
        )

    # results shortcuts ---------------------------------------------------------------------------

    def get_counts(self, experiment: int | str | None = None) -> Any:
        return self.result().get_counts(experiment)

    def get_probabilities(self, experiment: int | str | None = None) -> Any:
        return self.result().get_probabilities(experiment)

    def get_memory(self, experiment: int | str | None = None) -> Any:
        return self.result().get_memory(experiment)

    # changes -------------------------------------------------------------------------------

    def cancel(self) -> bool:
        """Cancel the job; True when it is (now or already) canceled, False when it had finished."""
        from qumulus.client.errors import ApiError

        try:
            self.transport.request("PUT", f"/jobs/{self.job_id()}/status/cancel")
        except ApiError as exc:
            if exc.status_code != 409:
                raise
            self.refresh()
            return False
        self.refresh()
        return self._data.get("status") == "canceled"

    def update_name(self, name: str | None) -> str | None:
        self._data = self.transport.request("PATCH", f"/jobs/{self.job_id()}", json={"name": name})
        return self.name()

    def update_tags(
        self,
        replacement_tags: list[str] | None = None,
        additional_tags: list[str] | None = None,
        removal_tags: list[str] | None = None,
    ) -> list[str]:
        """Replace, extend and/or prune the tags (the legacy IBMQ signature); returns the new tags."""
        tags = list(replacement_tags) if replacement_tags is not None else self.refresh().tags()
        tags += [t for t in additional_tags or [] if t not in tags]
        tags = [t for t in tags if t not in set(removal_tags or [])]
        self._data = self.transport.request("PATCH", f"/jobs/{self.job_id()}", json={"tags": tags})
        return self.tags()

    @property
    def transport(self) -> Any:
        """The connection this job's requests go through (its provider's)."""
        return self._provider.transport
