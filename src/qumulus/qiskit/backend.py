"""``QumulusBackend``: a Qiskit ``BackendV2`` over a Qumulus client backend.

``run(circuits)`` submits all the circuits as one (multi-circuit) server job and returns at once;
``result()`` gives Qiskit counts keyed by clbits (and per-shot memory with ``memory=True``), so
Qiskit's own ``BackendSamplerV2`` works on it unchanged.
"""

from __future__ import annotations

from typing import Any

from qiskit import QuantumCircuit
from qiskit.providers import BackendV2, Options
from qiskit.transpiler import Target

from qumulus.client import Backend, Provider, Qumulus
from qumulus.qiskit.job import QumulusJob


class QumulusBackend(BackendV2):
    def __init__(self, backend: Backend) -> None:
        super().__init__(provider=backend.provider, name=backend.name, backend_version="1")
        self.client_backend = backend

    @classmethod
    def from_name(cls, name: str = "simulator", provider: Provider | None = None) -> QumulusBackend:
        """The backend ``name`` of ``provider`` (default: the active account's)."""
        return cls((provider or Qumulus.active_provider()).get_backend(name))

    def __repr__(self) -> str:
        return f"<QumulusBackend {self.name}>"

    @property
    def target(self) -> Target:
        """The client backend's: built once from the calibration current at first use
        (``refresh_target()`` rebuilds it)."""
        return self.client_backend.target  # type: ignore[no-any-return]

    def refresh_target(self) -> Target:
        return self.client_backend.refresh_target()  # type: ignore[no-any-return]

    @property
    def max_circuits(self) -> int | None:
        return self.client_backend.configuration().max_experiments

    @classmethod
    def _default_options(cls) -> Options:
        return Options(shots=1024, memory=False, name=None, tags=None, noise=None, seed_simulator=None)

    def run(self, run_input: QuantumCircuit | list[QuantumCircuit], **options: Any) -> QumulusJob:
        """One server job for all the circuits. Options: shots, memory, name, tags, noise
        and ``seed_simulator`` (sent as the job's ``noise.seed``: the shots become reproducible)."""
        unknown = set(options) - set(self.options.__dict__)
        if unknown:
            raise ValueError(f"unknown run options {sorted(unknown)}; known: {sorted(self.options.__dict__)}")
        opts = {**self.options.__dict__, **options}
        circuits = [run_input] if isinstance(run_input, QuantumCircuit) else list(run_input)
        job = self.client_backend.run(
            circuits if len(circuits) > 1 else circuits[0],
            shots=int(opts["shots"]),
            name=opts["name"],
            tags=opts["tags"],
            memory=bool(opts["memory"]),
            noise=opts["noise"],
            seed_simulator=opts["seed_simulator"],
        )
        return QumulusJob(self, job, memory=bool(opts["memory"]))

    def retrieve_job(self, job_id: str, memory: bool = True) -> QumulusJob:
        """A job submitted by ``run`` (in any process), by its server id."""
        return QumulusJob(self, self.client_backend.retrieve_job(job_id), memory=memory)
