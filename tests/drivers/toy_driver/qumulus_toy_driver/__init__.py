"""A classical device: qubits start at 0 and only X, NOT, CNOT and SWAP touch them, so every circuit
has one certain outcome. Jobs finish on the second poll (first ``queued``, then ``completed``);
each costs ``price`` per circuit (an option), and 1 ms of device time per shot."""

from __future__ import annotations

import threading
import uuid
from decimal import Decimal

from qumulus.drivers import (
    CircuitResult,
    ConfigError,
    DeviceCharacterization,
    DeviceStatus,
    Driver,
    DriverConfig,
    Failure,
    JobState,
    ProviderJob,
    Rejected,
    UnknownJob,
)


class ToyDriver(Driver):
    idempotent_submit = True

    def __init__(self, config: DriverConfig) -> None:
        super().__init__(config)
        try:
            self.price = Decimal(str(config.options.get("price", "0.01")))
        except ArithmeticError:
            raise ConfigError("options.price: must be a number") from None
        self._jobs: dict[str, dict] = {}
        self._by_token: dict[str, str] = {}
        self._lock = threading.Lock()

    def submit(self, job: ProviderJob) -> str:
        with self._lock:
            if job.token in self._by_token:
                return self._by_token[job.token]
            circuits = job.input.get("circuits") or [job.input]
            try:
                outcomes = [
                    _run(c.get("circuit", []), int(c.get("qubits") or job.input["qubits"])) for c in circuits
                ]
            except (KeyError, ValueError) as exc:
                raise Rejected(Failure("UnsupportedGate", f"toy device: {exc}")) from None
            job_id = str(uuid.uuid4())
            self._jobs[job_id] = {"job": job, "outcomes": outcomes, "polls": 0, "canceled": False}
            self._by_token[job.token] = job_id
            return job_id

    def poll(self, provider_job_id: str) -> JobState:
        with self._lock:
            entry = self._jobs.get(provider_job_id)
            if entry is None:
                raise UnknownJob(provider_job_id)
            entry["polls"] += 1
            if entry["canceled"]:
                return JobState("canceled", "canceled")
            if entry["polls"] < 2:
                return JobState("queued", "queued")
        job = entry["job"]
        return JobState(
            "completed",
            "completed",
            results=[
                CircuitResult(qubits=q, probabilities={k: 1.0}, shots=[k] * job.shots)
                for k, q in entry["outcomes"]
            ],
            usage_seconds=job.shots / 1000,
            cost=self.price * len(entry["outcomes"]),
            currency="USD",
        )

    def cancel(self, provider_job_id: str) -> None:
        with self._lock:
            if provider_job_id in self._jobs:
                self._jobs[provider_job_id]["canceled"] = True

    def characterization(self) -> DeviceCharacterization | None:
        return DeviceCharacterization(
            None, None, 8, {"fidelity": {"1q": {"median": 1.0}}, "timing": {}, "connectivity": []}
        )

    def status(self) -> DeviceStatus:
        return DeviceStatus("operational", "a classical device", qubits=8)


def _run(gates: list, qubits: int) -> tuple[int, int]:
    state = 0
    for gate in gates:
        name = gate["gate"]
        targets = gate.get("targets") or [gate["target"]]
        controls = gate.get("controls") or ([gate["control"]] if "control" in gate else [])
        if name in ("x", "not", "cnot"):
            if all(state >> c & 1 for c in controls):
                state ^= 1 << targets[0]
        elif name == "swap":
            a, b = targets
            if (state >> a & 1) != (state >> b & 1):
                state ^= (1 << a) | (1 << b)
        else:
            raise ValueError(f"gate {name!r} is not classical")
    return state, qubits
