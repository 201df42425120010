"""Job sets: many circuits split into jobs *on the server*, handled as one (IBMQ JobManager style).

``JobManager().run(circuits, backend=..., max_experiments_per_job=...)`` sends the whole list in one
idempotent request; the server splits it, stores the set and every member in one transaction, and
the returned :class:`ManagedJobSet` can be found again from any process by its id.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from qumulus.client import active
from qumulus.client.backend import Backend
from qumulus.client.circuit import as_circuit_list
from qumulus.client.errors import JobCancelledError, JobFailureError, JobTimeoutError
from qumulus.client.job import Job
from qumulus.client.protocols import ProviderAPI
from qumulus.client.result import ExperimentResult, Result
from qumulus.client.status import JobStatus, from_server


class ManagedResults(Result):
    """Results of every member, indexed by **global** experiment index, circuit name or circuit."""

    def __init__(self, job_set: ManagedJobSet, experiments: list[ExperimentResult], success: bool) -> None:
        super().__init__(job_set.job_set_id(), job_set.backend_name or "", experiments)
        self.success = success
        self.status = "COMPLETED" if success else "PARTIAL"
        self._circuits = job_set._circuits

    def experiment(self, key: Any = None) -> ExperimentResult:
        if isinstance(key, dict) or hasattr(key, "to_ionq"):
            if self._circuits is None:
                raise ValueError(
                    "circuits are known only to the process that submitted the set: use an index"
                )
            wanted = as_circuit_list(key)[0][0]
            for index, circuit in enumerate(self._circuits):
                if circuit == wanted:
                    key = index
                    break
            else:
                raise KeyError("that circuit is not in this job set")
        if isinstance(key, int):
            for experiment in self.results:
                if experiment.index == key:
                    return experiment
            raise KeyError(f"experiment {key} has no result (its job did not complete)")
        return super().experiment(key)

    def combine_results(self) -> Result:
        """One plain :class:`Result` holding every experiment, in global order."""
        return Result(self.job_id, self.backend_name, list(self.results))


class ManagedJobSet:
    def __init__(
        self, provider: ProviderAPI, data: dict[str, Any], circuits: list[dict[str, Any]] | None = None
    ) -> None:
        self._provider = provider
        self._data = data
        self._circuits = circuits

    def __repr__(self) -> str:
        return f"<ManagedJobSet {self.job_set_id()} {self._data.get('name')!r} {self._data.get('status')}>"

    def job_set_id(self) -> str:
        return str(self._data["id"])

    @property
    def id(self) -> str:
        return self.job_set_id()

    def name(self) -> str:
        return str(self._data.get("name") or "")

    def tags(self) -> list[str]:
        return list(self._data.get("tags") or [])

    @property
    def backend_name(self) -> str | None:
        members = self._data.get("jobs") or []
        return members[0].get("backend") if members else None

    def refresh(self) -> ManagedJobSet:
        self._data = self._provider.transport.request("GET", f"/job_sets/{self.job_set_id()}")
        return self

    def statuses(self) -> list[JobStatus]:
        """One status per member job, in experiment order (one request for the whole set)."""
        return [from_server(m["status"]) for m in self.refresh()._data["jobs"]]

    def status(self) -> JobStatus:
        return from_server(self.refresh()._data["status"])

    def jobs(self) -> list[Job]:
        return [self._provider.retrieve_job(m["id"]) for m in self._data.get("jobs", [])]

    def counts(self) -> dict[str, int]:
        return dict(self.refresh()._data.get("counts") or {})

    def report(self, detailed: bool = True) -> str:
        """A readable summary: counts per status, then (detailed) each job with its experiments."""
        data = self.refresh()._data
        counts = data.get("counts") or {}
        lines = [
            f"Job set {data.get('name')!r} ({data['id']}), tags {data.get('tags') or []}",
            f"  status: {from_server(data['status']).value}; "
            f"{len(data['jobs'])} jobs, {data['experiments']} experiments",
            "  " + ", ".join(f"{from_server(k).value.lower()}: {v}" for k, v in sorted(counts.items())),
        ]
        if detailed:
            for member in data["jobs"]:
                first, stop = member["experiments"]
                lines.append(
                    f"  experiments {first}-{stop - 1}: job {member['index']} {member['id']} "
                    f"{from_server(member['status']).value}"
                )
                if member.get("failure"):
                    failure = member["failure"]
                    lines.append(f"      error: {failure.get('code')}: {failure.get('message')}")
        return "\n".join(lines)

    def error_messages(self) -> str | None:
        """Each failed member's reason with its experiments, or None when nothing failed."""
        failed = [m for m in self.refresh()._data["jobs"] if m.get("failure")]
        if not failed:
            return None
        return "\n".join(
            f"experiments {m['experiments'][0]}-{m['experiments'][1] - 1} (job {m['id']}): "
            f"{m['failure'].get('code')}: {m['failure'].get('message')}"
            for m in failed
        )

    def cancel(self) -> None:
        self._data = self._provider.transport.request("PUT", f"/job_sets/{self.job_set_id()}/status/cancel")

    def rerun_failed(self) -> ManagedJobSet:
        """Resubmit (server-side, from the stored circuits) every member that failed or was canceled."""
        self._data = self._provider.transport.request("POST", f"/job_sets/{self.job_set_id()}/rerun")
        return self

    def results(self, timeout: float | None = None, partial: bool = False) -> ManagedResults:
        """Wait for every member, then the combined results (global experiment indices).

        A failed or canceled member raises, unless ``partial=True``: then its experiments are left out
        and ``success`` is False.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        experiments: list[ExperimentResult] = []
        success = True
        for member in self.refresh()._data["jobs"]:
            job = Job(
                self._provider, {"id": member["id"], "backend": member["backend"], "status": member["status"]}
            )
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                job.refresh().wait_for_final_state(timeout=left)
                experiments.extend(job_result_at(job, member["experiments"][0]))
            except (JobFailureError, JobCancelledError):
                if not partial:
                    raise
                success = False
            except JobTimeoutError as exc:
                raise JobTimeoutError(f"job set {self.job_set_id()}: {exc}", job_id=member["id"]) from None
        return ManagedResults(self.refresh(), experiments, success)


def job_result_at(job: Job, first_experiment: int) -> list[ExperimentResult]:
    """A member's experiments, re-indexed from ``first_experiment`` (raises on failure/cancel)."""
    result = job.result()
    out = []
    for offset, experiment in enumerate(result.results):
        experiment.index = first_experiment + offset
        out.append(experiment)
    return out


class JobManager:
    """Submits and finds job sets; the provider defaults to the active account's."""

    def __init__(self, provider: ProviderAPI | None = None) -> None:
        self._provider = provider

    def _resolve(self, backend: Any = None) -> ProviderAPI:
        if isinstance(backend, Backend):
            return backend.provider
        if self._provider is not None:
            return self._provider
        return active.current()  # type: ignore[no-any-return]

    def run(
        self,
        circuits: Any,
        backend: Backend | str = "simulator",
        name: str | None = None,
        max_experiments_per_job: int | None = None,
        tags: list[str] | None = None,
        shots: int = 100,
        *,
        metadata: dict[str, str] | None = None,
        noise: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> ManagedJobSet:
        provider = self._resolve(backend)
        backend_name = backend.name if isinstance(backend, Backend) else str(backend)
        items, _ = as_circuit_list(circuits if isinstance(circuits, list | tuple) else [circuits])
        set_name = name if name is not None else time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        body: dict[str, Any] = {"backend": backend_name, "circuits": items, "name": set_name, "shots": shots}
        if max_experiments_per_job is not None:
            body["max_experiments_per_job"] = max_experiments_per_job
        gatesets = {c.get("gateset", "qis") for c in items}
        if gatesets == {"native"}:
            body["gateset"] = "native"
        for key, value in (("tags", tags), ("metadata", metadata), ("noise", noise)):
            if value:
                body[key] = value
        key = idempotency_key or str(uuid.uuid4())
        data = provider._submit("/job_sets", body, key, kind="job_set", backend=backend_name, name=set_name)
        return ManagedJobSet(provider, data, circuits=items)

    def retrieve_job_set(self, job_set_id: str, provider: ProviderAPI | None = None) -> ManagedJobSet:
        return (provider or self._resolve()).retrieve_job_set(job_set_id)
