"""Job sets: many circuits split into jobs *on the server*, handled as one (IBMQ JobManager style).

``JobManager().run(circuits, backend=..., max_experiments_per_job=...)`` sends the whole list in one
idempotent request; the server splits it, stores the set and every member in one transaction, and
the returned :class:`ManagedJobSet` can be found again from any process by its id.

The names are IBMQ's (``IBMQJobManager``): ``run(..., name=, max_experiments_per_job=, job_tags=,
job_share_level=)``, ``report(detailed=)``, ``job_sets(name=)``, ``retrieve_job_set(job_set_id=,
provider=)``; ``ManagedResults`` answers as Qiskit's ``Result`` does. Circuits may be of any kind
``backend.run`` takes (``programs.py``); how to read Qiskit circuits' clbits is stored with the set.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from qumulus.client import active, aliases
from qumulus.client.backend import Backend
from qumulus.client.circuit import as_circuit_list
from qumulus.client.errors import JobCancelledError, JobFailureError, JobTimeoutError, QumulusClientError
from qumulus.client.job import Job
from qumulus.client.programs import framework, prepare
from qumulus.client.protocols import ProviderAPI
from qumulus.client.result import ExperimentResult, Result
from qumulus.client.status import JobStatus, from_server


class ManagedResults(Result):
    """Results of every member, indexed by **global** experiment index, circuit name or circuit
    (IBMQ's ``ManagedResults``: ``get_counts``, ``get_memory``, ``get_probabilities``, ``data``,
    ``combine_results``; ``success`` is False when members failed and ``partial=True`` was asked)."""

    def __init__(self, job_set: ManagedJobSet, experiments: list[ExperimentResult], success: bool) -> None:
        super().__init__(job_set.job_set_id(), job_set.backend_name or "", experiments)
        self.success = success
        self.status = "COMPLETED" if success else "PARTIAL"
        self._circuits = job_set._circuits

    def experiment(self, key: Any = None) -> ExperimentResult:
        if framework(key) is not None:  # a Qiskit circuit is found by its name, as in Qiskit
            return super().experiment(key)
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
        """One plain :class:`Result` holding every experiment, in global order (only when every
        member completed: otherwise the indices would not be the circuits')."""
        if not self.success:
            raise QumulusClientError(
                "combine_results: some members of the set failed or were canceled; read the others by "
                "global index (get_counts(i)), or rerun_failed() and ask again"
            )
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

    def job(self, experiment: int) -> tuple[Job, int]:
        """The member job holding global experiment ``experiment``, and its index in that job."""
        for member in self._data.get("jobs", []):
            first, stop = member["experiments"]
            if first <= experiment < stop:
                return self._provider.retrieve_job(member["id"]), experiment - first
        raise KeyError(f"experiment {experiment} is not in job set {self.job_set_id()}")

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
    """Submits and finds job sets (IBMQ's ``IBMQJobManager``); the provider defaults to the active
    account's. It remembers the sets it ran or retrieved: ``job_sets(name=)`` and ``report()``."""

    def __init__(self, provider: ProviderAPI | None = None) -> None:
        self._provider = provider
        self._job_sets: list[ManagedJobSet] = []

    def _resolve(self, backend: Any = None) -> ProviderAPI:
        if isinstance(backend, Backend):
            return backend.provider
        if self._provider is not None:
            return self._provider
        return active.current()  # type: ignore[no-any-return]

    def run(
        self,
        experiments: Any = None,
        backend: Backend | str = "simulator",
        name: str | None = None,
        max_experiments_per_job: int | None = None,
        tags: list[str] | None = None,
        shots: int = 100,
        *,
        job_tags: list[str] | None = None,
        job_share_level: str | None = None,
        metadata: dict[str, str] | None = None,
        noise: dict[str, Any] | None = None,
        seed_simulator: int | None = None,
        idempotency_key: str | None = None,
        circuits: Any = None,
    ) -> ManagedJobSet:
        """Submit ``experiments`` (any circuits ``backend.run`` takes; ``circuits=`` is the same)
        as one job set, split on the server into jobs of at most ``max_experiments_per_job``."""
        experiments = aliases.one_of(experiments, circuits, "experiments", "circuits")
        if experiments is None:
            raise TypeError("run: give the circuits (experiments=)")
        tags = aliases.tags(aliases.one_of(tags, job_tags, "tags", "job_tags"), "job_tags")
        aliases.check_share_level(job_share_level)
        provider = self._resolve(backend)
        backend_name = backend.name if isinstance(backend, Backend) else str(backend)
        program = prepare(experiments if isinstance(experiments, list | tuple) else [experiments])
        items = program.circuits
        set_name = name if name is not None else time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        body: dict[str, Any] = {"backend": backend_name, "circuits": items, "name": set_name, "shots": shots}
        if max_experiments_per_job is not None:
            body["max_experiments_per_job"] = max_experiments_per_job
        gatesets = {c.get("gateset", "qis") for c in items}
        if gatesets == {"native"}:
            body["gateset"] = "native"
        if seed_simulator is not None:
            noise = {**(noise or {}), "seed": int(seed_simulator)}
        metadata = {**(metadata or {}), **program.metadata}
        for key, value in (("tags", tags), ("metadata", metadata), ("noise", noise)):
            if value:
                body[key] = value
        key = idempotency_key or str(uuid.uuid4())
        data = provider._submit("/job_sets", body, key, kind="job_set", backend=backend_name, name=set_name)
        return self._manage(ManagedJobSet(provider, data, circuits=items))

    def retrieve_job_set(
        self, job_set_id: str, provider: ProviderAPI | None = None, refresh: bool = False
    ) -> ManagedJobSet:
        """A set by id, from any process (``provider`` defaults to the manager's or the active one).
        ``refresh`` is accepted for IBMQ code: a set is always read fresh from the server."""
        return self._manage((provider or self._resolve()).retrieve_job_set(job_set_id))

    def job_sets(self, name: str | None = None) -> list[ManagedJobSet]:
        """The sets this manager ran or retrieved, oldest first; ``name``: only those of that name.
        (Every set of the project, from any process: ``provider.job_sets(name=)``.)"""
        return [s for s in self._job_sets if name is None or s.name() == name]

    def report(self, detailed: bool = True) -> str:
        """How many sets and jobs this manager holds and their statuses; each set's own report
        (``ManagedJobSet.report``) follows when ``detailed``."""
        reports = [job_set.report(detailed=detailed) for job_set in self._job_sets]
        jobs = sum(len(job_set._data.get("jobs") or []) for job_set in self._job_sets)
        lines = [
            "Summary report:",
            f"  Total managed job sets: {len(self._job_sets)}",
            f"  Total managed jobs: {jobs}",
        ]
        if detailed:
            lines += ["", "Detail report:", *reports]
        return "\n".join(lines)

    def _manage(self, job_set: ManagedJobSet) -> ManagedJobSet:
        self._job_sets = [s for s in self._job_sets if s.job_set_id() != job_set.job_set_id()]
        self._job_sets.append(job_set)
        return job_set
