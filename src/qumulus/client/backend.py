"""A backend handle: status, configuration, calibration (properties), run, and its jobs.

Built from the server's backend list; every call that reports a changing value (``status()``,
``properties()``) asks the server again. Configuration comes from the server, never guessed (the
qiskit-ionq lesson of survey §2.7: a silent fallback to 4 qubits).

With qiskit installed, a backend also serves where Qiskit expects one: ``transpile(qc, backend=b)``
reads ``b.target`` (built from the calibration, ``interop/qiskit_target.py``) and the attributes
``BackendV2`` derives from it; qiskit is imported only when one of them is read.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from qumulus.client import aliases
from qumulus.client.aio import AsyncJob
from qumulus.client.errors import ApiError
from qumulus.client.job import Job, parse_time
from qumulus.client.programs import prepare
from qumulus.client.protocols import ProviderAPI
from qumulus.client.status import ACTIVE


@dataclass(frozen=True)
class BackendStatus:
    backend_name: str
    operational: bool
    pending_jobs: int
    status_msg: str
    backend_version: str = "1"


@dataclass(frozen=True)
class BackendConfiguration:
    backend_name: str
    n_qubits: int
    simulator: bool
    gatesets: list[str]
    basis_gates: list[str]
    description: str
    #: Trapped ions: every pair is connected; ``None`` = all-to-all, as Qiskit reads it.
    coupling_map: list[list[int]] | None = None
    max_experiments: int | None = None
    memory: bool = True
    local: bool = False


@dataclass(frozen=True)
class JobLimit:
    maximum_jobs: int | None
    active_jobs: int


QIS_GATES = [
    "x",
    "y",
    "z",
    "h",
    "s",
    "si",
    "t",
    "ti",
    "v",
    "vi",
    "rx",
    "ry",
    "rz",
    "cnot",
    "swap",
    "xx",
    "yy",
    "zz",
]


@dataclass
class BackendProperties:
    """Per-qubit and per-pair calibration of one snapshot (``last_update_date``). Times in seconds."""

    backend_name: str
    last_update_date: datetime | None
    characterization_id: str | None
    n_qubits: int
    per_qubit: bool
    raw: dict[str, Any] = field(repr=False)

    def _qubit(self, qubit: int) -> dict[str, Any]:
        try:
            return self.raw["qubit"][qubit]
        except IndexError:
            raise ValueError(
                f"qubit {qubit} is not on {self.backend_name} ({self.n_qubits} qubits)"
            ) from None

    def t1(self, qubit: int) -> float | None:
        return self._qubit(qubit)["t1"]

    def t2(self, qubit: int) -> float | None:
        return self._qubit(qubit)["t2"]

    def frequency(self, qubit: int) -> float | None:
        """The qubit's transition frequency in Hz (None when the server does not publish one)."""
        return self._qubit(qubit).get("frequency")

    def readout_error(self, qubit: int) -> float | None:
        return self._qubit(qubit)["readout_error"]

    def readout_length(self, qubit: int) -> float | None:
        return self._qubit(qubit)["readout_length"]

    def gate_error(self, gate: str, qubits: int | list[int] | tuple[int, ...]) -> float | None:
        """Error of ``gate`` on ``qubits``: any one-qubit gate name uses the qubit's 1q error, any
        two-qubit gate its pair's 2q error (trapped ions implement all of them with the same
        native gates)."""
        targets = [qubits] if isinstance(qubits, int) else list(qubits)
        if len(targets) == 1:
            return self._qubit(targets[0])["gate_error_1q"]
        if len(targets) == 2:
            lo, hi = sorted(targets)
            for pair in self.raw["pair"]:
                if pair["qubits"] == [lo, hi]:
                    return pair["gate_error_2q"]
            raise ValueError(f"{gate}: qubits {lo} and {hi} are not connected on {self.backend_name}")
        raise ValueError(f"{gate}: one or two qubits")

    def gate_length(self, gate: str, qubits: int | list[int] | tuple[int, ...]) -> float | None:
        width = 1 if isinstance(qubits, int) else len(qubits)
        return self.raw["gates"]["1q" if width == 1 else "2q"]["duration"]

    def to_dict(self) -> dict[str, Any]:
        return dict(self.raw)


class Backend:
    #: Qiskit's backend interface version: ``transpile`` reads ``target`` from a version-2 backend.
    version = 2

    def __init__(self, provider: ProviderAPI, data: dict[str, Any]) -> None:
        self._provider = provider
        self._data = data
        self.name = str(data["backend"])
        self._target: Any = None

    def __repr__(self) -> str:
        return f"<Backend {self.name}>"

    @property
    def provider(self) -> ProviderAPI:
        return self._provider

    @property
    def num_qubits(self) -> int:
        return int(self._data["qubits"])

    def configuration(self) -> BackendConfiguration:
        simulator = self._data.get("kind", "simulator" if self.name == "simulator" else "qpu") == "simulator"
        return BackendConfiguration(
            backend_name=self.name,
            n_qubits=self.num_qubits,
            simulator=simulator,
            gatesets=list(self._data.get("gatesets") or ["qis"]),
            basis_gates=list(QIS_GATES),
            description=str(self._data.get("description") or ""),
            max_experiments=self._data.get("max_experiments"),
        )

    def status(self) -> BackendStatus:
        """Fresh from the server: operational, pending jobs (queued circuits), message."""
        for entry in self._provider.transport.request("GET", "/backends"):
            if entry.get("backend") == self.name:
                self._data = entry
                break
        operational = self._data.get("status") == "available" and bool(self._data.get("accepting_jobs", True))
        message = self._data.get("status_message") or (
            "active" if operational else self._data.get("status", "")
        )
        return BackendStatus(
            backend_name=self.name,
            operational=operational,
            pending_jobs=int(self._data.get("pending_jobs") or 0),
            status_msg=str(message),
        )

    def reservations(self) -> list[tuple[datetime, datetime]]:
        """Approved reservation windows (start, end) that have not ended, as of the last
        :meth:`status` call; whose they are is not public."""
        windows = []
        for window in self._data.get("reservations", []):
            start, end = _parse(window.get("starts_at")), _parse(window.get("ends_at"))
            if start is not None and end is not None:
                windows.append((start, end))
        return windows

    def properties(self, refresh: bool = False, datetime: datetime | None = None) -> BackendProperties | None:
        """Calibration now, or as it was at ``datetime``; None for a backend without any (simulators)."""
        params = {"at": datetime.isoformat()} if datetime is not None else None
        try:
            raw = self._provider.transport.request("GET", f"/backends/{self.name}/properties", params=params)
        except ApiError as exc:
            if exc.status_code == 404:
                return None
            raise
        date = raw.get("date")
        return BackendProperties(
            backend_name=self.name,
            last_update_date=_parse(date),
            characterization_id=raw.get("characterization_id"),
            n_qubits=int(raw["qubits"]),
            per_qubit=bool(raw.get("per_qubit")),
            raw=raw,
        )

    # Qiskit (BackendV2's attributes; qiskit is imported when one is read) ---------------------

    @property
    def target(self) -> Any:
        """A ``qiskit.transpiler.Target`` from the calibration current at first use (per-qubit T1/T2,
        gate and readout errors and durations; ideal for a simulator). ``refresh_target()`` rebuilds."""
        if self._target is None:
            self.refresh_target()
        return self._target

    def refresh_target(self) -> Any:
        from qumulus.client.interop.qiskit_target import build_target

        self._target = build_target(self.name, self.num_qubits, self.properties())
        return self._target

    @property
    def operation_names(self) -> list[str]:
        return list(self.target.operation_names)

    @property
    def coupling_map(self) -> Any:
        """All-to-all (trapped ions): every ordered pair."""
        return self.target.build_coupling_map()

    @property
    def instruction_durations(self) -> Any:
        return self.target.durations()

    @property
    def dt(self) -> float | None:
        return self.target.dt  # type: ignore[no-any-return]

    @property
    def max_circuits(self) -> int | None:
        return self.configuration().max_experiments

    # jobs ----------------------------------------------------------------------------------

    def run(
        self,
        circuits: Any,
        shots: int = 100,
        name: str | None = None,
        tags: list[str] | None = None,
        memory: bool = False,
        *,
        metadata: dict[str, str] | None = None,
        noise: dict[str, Any] | None = None,
        settings: dict[str, Any] | None = None,
        dry_run: bool = False,
        idempotency_key: str | None = None,
        seed_simulator: int | None = None,
        job_name: str | None = None,
        job_tags: list[str] | None = None,
        job_share_level: str | None = None,
    ) -> Job:
        """Submit one job (one circuit, or several as one multi-circuit job); returns at once.

        ``circuits``: IonQ JSON, a ``qumulus.Circuit``, a Qiskit ``QuantumCircuit``, a Cirq circuit,
        an OpenQASM 2/3 string, or a list of one of these (``programs.py``). A Qiskit circuit's
        results are keyed by its clbits, as in Qiskit. One OpenQASM program goes to the server as
        ``ionq.qasm3.v1`` and is parsed there, with errors naming the line and the construct.

        IBMQ's names work too: ``job_name`` (= ``name``), ``job_tags`` (= ``tags``) and
        ``job_share_level`` (only ``"project"``: every Qumulus job is shared with its project).
        ``seed_simulator`` makes the shots reproducible (the job's ``noise.seed``).

        Per-shot memory is always available (``result.get_memory()``, fetched on first use);
        ``memory=True`` downloads it together with the result.

        Safe to retry: the request carries an Idempotency-Key (new per call unless given), journaled
        locally before it is sent, so a lost answer or a crash never makes a duplicate or loses the id.
        """
        name = aliases.one_of(name, job_name, "name", "job_name")
        tags = aliases.tags(aliases.one_of(tags, job_tags, "tags", "job_tags"), "job_tags")
        aliases.check_share_level(job_share_level)
        from qumulus.client.workloads import Workload

        if isinstance(circuits, Workload):  # a quantum function or an optimization: loop on the server
            return self._run_workload(circuits, shots, name, tags, metadata, noise, idempotency_key)
        program = prepare(circuits)
        body: dict[str, Any] = {
            "type": program.job_type,
            "backend": self.name,
            "shots": shots,
            "input": program.input,
        }
        items = program.circuits
        job_name = name if name is not None else (items[0].get("name") if not program.many else None)
        if job_name is not None:
            body["name"] = job_name
        if seed_simulator is not None:
            noise = {**(noise or {}), "seed": int(seed_simulator)}
        metadata = {**(metadata or {}), **program.metadata}
        for key, value in (("tags", tags), ("metadata", metadata), ("noise", noise), ("settings", settings)):
            if value:
                body[key] = value
        if dry_run:
            body["dry_run"] = True
        key = idempotency_key or str(uuid.uuid4())
        job_id = self._provider._submit("/jobs", body, key, kind="job", backend=self.name, name=job_name)[
            "id"
        ]
        job = Job(self._provider, {"id": job_id, "backend": self.name, "status": "submitted"}, memory=memory)
        return job.refresh()

    def _run_workload(
        self,
        workload: Any,
        shots: int,
        name: str | None,
        tags: list[str] | None,
        metadata: dict[str, str] | None,
        noise: dict[str, Any] | None,
        idempotency_key: str | None,
    ) -> Any:
        from qumulus.client.workloads import WorkloadJob

        body: dict[str, Any] = {"type": workload.job_type, "backend": self.name, "shots": shots,
                                "input": workload.input()}  # fmt: skip
        for key, value in (("name", name), ("tags", tags), ("metadata", metadata), ("noise", noise)):
            if value:
                body[key] = value
        key = idempotency_key or str(uuid.uuid4())
        job_id = self._provider._submit("/jobs", body, key, kind="job", backend=self.name, name=name)["id"]
        return WorkloadJob(
            self._provider, {"id": job_id, "backend": self.name, "status": "submitted"}
        ).refresh()

    async def run_async(self, circuits: Any, shots: int = 100, **options: Any) -> AsyncJob:
        """:meth:`run` for ``asyncio``: ``job = await backend.run_async(qc)``, then
        ``await job.result()`` or ``async for status in job.watch()``."""
        job = await asyncio.to_thread(self.run, circuits, shots, **options)
        return job.aio

    def jobs(self, limit: int | None = 10, **filters: Any) -> list[Job]:
        return self._provider.jobs(limit=limit, backend_name=self.name, **filters)

    def retrieve_job(self, job_id: str) -> Job:
        return self._provider.retrieve_job(job_id)

    def active_jobs(self, limit: int | None = 10) -> list[Job]:
        return self.jobs(limit=limit, status=list(ACTIVE))

    def job_limit(self) -> JobLimit:
        """The project's cap on active jobs (it covers every backend) and how many are active."""
        raw = self._provider.transport.request("GET", "/job_limit")
        return JobLimit(maximum_jobs=raw.get("maximum_jobs"), active_jobs=int(raw.get("active_jobs") or 0))

    def remaining_jobs_count(self) -> int | None:
        """How many more jobs may be submitted now; None = unlimited."""
        limit = self.job_limit()
        return None if limit.maximum_jobs is None else max(0, limit.maximum_jobs - limit.active_jobs)


def _parse(value: str | None) -> datetime | None:
    return parse_time(value)
