"""Hybrid workloads from the SDK: the loop runs on the server, next to the queue (docs/workloads.md).

    from qumulus import Qumulus
    from qumulus.client.workloads import HamiltonianEnergy, Optimization

    backend = Qumulus().backend("simulator")
    h2 = [("II", -1.05), ("IZ", 0.39), ("ZI", -0.39), ("ZZ", -0.01), ("XX", 0.18)]
    energy = HamiltonianEnergy(h2, qasm)
    print(backend.run(energy(params=[0.1]), shots=1000).result().value)

    job = backend.run(Optimization(energy, method="COBYLA", initial_params=[0.5], maxiter=40))
    for step in job.progress(live=True):          # rows as the server records them
        print(step.iteration, step.value)
    print(job.result().minimum_value, job.result().optimal_parameters)

The shapes are IonQ's (``quantum-function`` / ``optimization``), so the same jobs are readable by
the ``ionq`` package. Pauli strings are little endian like everything on the wire: the rightmost
character acts on qubit 0. The ansatz is OpenQASM 3 text with ``input float[64]`` parameters
(bound in declaration order), or a Qiskit circuit with parameters when Qiskit is installed.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from qumulus.client.errors import JobCancelledError, JobFailureError, JobTimeoutError
from qumulus.client.job import Job

TERMINAL = ("completed", "failed", "canceled")


def _terms(hamiltonian: Any) -> list[dict[str, Any]]:
    """``[(pauli, coefficient)]``, ``{pauli: coefficient}``, or a Qiskit ``SparsePauliOp``."""
    if hasattr(hamiltonian, "to_list"):  # qiskit.quantum_info.SparsePauliOp
        hamiltonian = [(p, complex(c).real) for p, c in hamiltonian.to_list()]
    if isinstance(hamiltonian, dict):
        hamiltonian = list(hamiltonian.items())
    return [{"pauli_string": str(p), "coefficient": float(c)} for p, c in hamiltonian]


def _ansatz(ansatz: Any) -> tuple[str, int | None]:
    if isinstance(ansatz, str):
        return ansatz, None
    if type(ansatz).__module__.startswith("qiskit"):
        from qiskit import qasm3

        return qasm3.dumps(ansatz), int(ansatz.num_qubits)
    raise TypeError("ansatz: OpenQASM 3 text or a Qiskit QuantumCircuit")


class Workload:
    """Something :meth:`qumulus.client.Backend.run` sends as a workload job."""

    job_type: str

    def input(self) -> dict[str, Any]:
        raise NotImplementedError


class HamiltonianEnergy(Workload):
    """⟨ψ(θ)|H|ψ(θ)⟩ for an ansatz and a Hamiltonian; call it with ``params`` to get a runnable job."""

    job_type = "quantum-function"

    def __init__(
        self,
        hamiltonian: Any,
        ansatz: Any,
        *,
        params: Sequence[float] | None = None,
        linear_constraints: list[dict[str, Any]] | None = None,
        quadratic_constraints: list[dict[str, Any]] | None = None,
        penalty: float | None = None,
    ) -> None:
        self.terms = _terms(hamiltonian)
        self.qasm, self.num_qubits = _ansatz(ansatz)
        self.params = list(params) if params is not None else None
        self.extras = {
            k: v
            for k, v in (
                ("linear_constraints", linear_constraints),
                ("quadratic_constraints", quadratic_constraints),
                ("penalty", penalty),
            )
            if v is not None
        }

    def __call__(self, params: Sequence[float]) -> HamiltonianEnergy:
        bound = HamiltonianEnergy([], self.qasm, params=params)
        bound.terms, bound.num_qubits, bound.extras = self.terms, self.num_qubits, self.extras
        return bound

    def function(self) -> dict[str, Any]:
        ansatz: dict[str, Any] = {"format": "qasm", "data": self.qasm}
        if self.num_qubits is not None:
            ansatz["num_qubits"] = self.num_qubits
        return {
            "type": "hamiltonian-energy",
            "data": {"hamiltonian": self.terms, "ansatz": ansatz, **self.extras},
        }

    def input(self) -> dict[str, Any]:
        body: dict[str, Any] = {"data": self.function()}
        if self.params is not None:
            body["params"] = self.params
        return body


class Optimization(Workload):
    """A classical optimizer (SciPy's methods, or SPSA) minimising a quantum function, on the server."""

    job_type = "optimization"

    def __init__(
        self,
        function: HamiltonianEnergy,
        method: str = "COBYLA",
        initial_params: Sequence[float] | None = None,
        *,
        maxiter: int | None = None,
        log_interval: int = 1,
        options: dict[str, Any] | None = None,
    ) -> None:
        self.function = function
        self.method = method
        self.initial_params = list(initial_params) if initial_params is not None else None
        self.maxiter = maxiter
        self.log_interval = log_interval
        self.options = options

    def input(self) -> dict[str, Any]:
        body: dict[str, Any] = {"quantum_function": self.function.function(), "method": self.method,
                                "log_interval": self.log_interval}  # fmt: skip
        for key, value in (
            ("initial_params", self.initial_params),
            ("maxiter", self.maxiter),
            ("options", self.options),
        ):
            if value is not None:
                body[key] = value
        return body


@dataclass(frozen=True)
class ProgressStep:
    iteration: int
    value: float | None
    variance: float | None
    params: list[float]
    job_id: str | None
    finished_at: str | None


def _step(row: dict[str, Any]) -> ProgressStep:
    return ProgressStep(
        row["iteration"], row.get("value"), row.get("variance"), list(row.get("params") or []),
        row.get("job_id"), row.get("finished_at"),
    )  # fmt: skip


@dataclass(frozen=True)
class WorkloadResult:
    """``value``/``variance`` (a quantum function) or ``minimum_value``/``optimal_parameters``."""

    raw: dict[str, Any]

    @property
    def value(self) -> float | None:
        return self.raw.get("value")

    @property
    def variance(self) -> float | None:
        return self.raw.get("variance")

    @property
    def minimum_value(self) -> float | None:
        return (self.raw.get("solution") or {}).get("minimum_value", self.raw.get("value"))

    @property
    def optimal_parameters(self) -> list[float] | None:
        return (self.raw.get("solution") or {}).get("optimal_parameters")


class WorkloadJob(Job):
    """A workload job: :meth:`progress` (a live iterator if asked) and :meth:`result`."""

    def progress(
        self, *, live: bool = False, poll: float = 0.25, timeout: float | None = None
    ) -> Iterator[ProgressStep]:
        """The recorded evaluations, oldest first. ``live``: keep yielding new ones as the server
        records them, until the job ends (``timeout`` seconds at most)."""
        seen = 0
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            body = self.transport.request("GET", f"/jobs/{self.job_id()}/progress", params={"all": "true"})
            rows = body.get("progress") or []
            for row in rows[seen:]:
                yield _step(row)
            seen = len(rows)
            if not live or body.get("status") in TERMINAL:
                return  # the job's status is read with its rows: none can be missing
            if deadline is not None and time.monotonic() > deadline:
                raise JobTimeoutError(
                    f"job {self.job_id()} still running after {timeout} s", job_id=self.job_id()
                )
            time.sleep(poll)

    def result(self, timeout: float | None = None, wait: float | None = None) -> WorkloadResult:  # type: ignore[override]
        self.wait_for_final_state(timeout=timeout, wait=wait)
        status = self._data["status"]
        if status == "failed":
            failure = self._data.get("failure") or {}
            raise JobFailureError(
                f"job {self.job_id()} failed: {failure.get('code', 'Error')}: "
                f"{failure.get('message') or failure.get('error')}",
                job_id=self.job_id(),
                code=failure.get("code"),
            )
        if status == "canceled":
            raise JobCancelledError(
                f"job {self.job_id()} was canceled and has no results", job_id=self.job_id()
            )
        return WorkloadResult(dict(self._data.get("results") or {}))
