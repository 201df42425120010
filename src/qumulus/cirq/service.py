"""``Service``: the Cirq-style entry point (as ``cirq_ionq.Service``): jobs, calibrations, a sampler.

Credentials come from the SDK (a saved profile or the environment), or are given here.
"""

from __future__ import annotations

from typing import Any

import cirq

from qumulus.cirq.job import CirqJob, submit
from qumulus.cirq.sampler import QumulusSampler


class Service:
    def __init__(
        self,
        remote_host: str | None = None,
        api_key: str | None = None,
        default_target: str = "simulator",
        profile: str | None = None,
    ) -> None:
        from qumulus.client import Provider
        from qumulus.client.accounts import Account, resolve

        account = Account("(cirq)", remote_host, api_key) if api_key and remote_host else resolve(profile)
        self.provider = Provider(account)
        self.default_target = default_target

    def _backend(self, target: str | None) -> Any:
        return self.provider.get_backend(target or self.default_target)

    def sampler(
        self, target: str | None = None, timeout: float | None = None, seed: int | None = None
    ) -> QumulusSampler:
        return QumulusSampler(self._backend(target), timeout=timeout, seed=seed)

    def run(
        self, circuit: cirq.Circuit, repetitions: int, target: str | None = None, name: str | None = None
    ) -> cirq.Result:
        return self.create_job(circuit, repetitions, target, name).results()[0]

    def create_job(
        self,
        circuit: cirq.Circuit | list[cirq.Circuit],
        repetitions: int = 100,
        target: str | None = None,
        name: str | None = None,
        seed: int | None = None,
    ) -> CirqJob:
        """Submit and return at once (several circuits: one multi-circuit job)."""
        circuits = list(circuit) if isinstance(circuit, list | tuple) else [circuit]
        return submit(self._backend(target), circuits, repetitions, seed=seed, name=name)

    def get_job(self, job_id: str) -> CirqJob:
        return CirqJob(self.provider.retrieve_job(job_id))

    def list_jobs(
        self, limit: int = 20, status: str | None = None, target: str | None = None
    ) -> list[CirqJob]:
        return [CirqJob(j) for j in self.provider.jobs(limit=limit, status=status, backend_name=target)]

    def get_current_calibration(self, target: str | None = None) -> dict[str, Any] | None:
        """The target's calibration now (per qubit and per pair); None for the ideal simulator."""
        properties = self._backend(target).properties()
        return None if properties is None else properties.to_dict()

    def list_calibrations(self, target: str | None = None) -> list[dict[str, Any]]:
        """Calibrations of the target: the current one (history: the SDK's properties(datetime=))."""
        current = self.get_current_calibration(target)
        return [current] if current is not None else []
