"""A classical device: qubits start at 0 and only X, NOT, CNOT and SWAP touch them, so every circuit
has one certain outcome. It keeps its jobs on disk (``state_dir``, one JSON file each), so it
outlives the processes that talk to it, and it honours the job token as an idempotency key.

Options: ``price`` per circuit (default 0.01), ``state_dir`` (default: a temporary directory),
``hold_file``: while that file exists, jobs stay queued (the device is busy). A job finishes on its
second poll otherwise; it uses 1 ms of device time per shot."""

from __future__ import annotations

import json
import os
import tempfile
import threading
import uuid
from decimal import Decimal
from pathlib import Path

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
        options = config.options
        try:
            self.price = Decimal(str(options.get("price", "0.01")))
        except ArithmeticError:
            raise ConfigError("options.price: must be a number") from None
        self.state = Path(options.get("state_dir") or tempfile.mkdtemp(prefix="toy-device-"))
        self.state.mkdir(parents=True, exist_ok=True)
        self.hold = Path(options["hold_file"]) if options.get("hold_file") else None
        self._lock = threading.Lock()

    def jobs(self) -> list[dict]:
        """Every job this device ever accepted (what a test counts)."""
        return [json.loads(p.read_text()) for p in sorted(self.state.glob("job-*.json"))]

    def _path(self, job_id: str) -> Path:
        return self.state / f"job-{job_id}.json"

    def _save(self, entry: dict) -> None:
        tmp = self.state / f".{entry['id']}.tmp"
        tmp.write_text(json.dumps(entry))
        os.replace(tmp, self._path(entry["id"]))

    def submit(self, job: ProviderJob) -> str:
        with self._lock:
            token = self.state / f"token-{job.token}"
            if token.exists():
                return token.read_text()
            circuits = job.input.get("circuits") or [job.input]
            try:
                outcomes = [
                    _run(c.get("circuit", []), int(c.get("qubits") or job.input["qubits"])) for c in circuits
                ]
            except (KeyError, ValueError) as exc:
                raise Rejected(Failure("UnsupportedGate", f"toy device: {exc}")) from None
            job_id = str(uuid.uuid4())
            self._save(
                {
                    "id": job_id,
                    "token": job.token,
                    "outcomes": outcomes,
                    "shots": job.shots,
                    "polls": 0,
                    "canceled": False,
                }
            )
            token.write_text(job_id)
            return job_id

    def poll(self, provider_job_id: str) -> JobState:
        with self._lock:
            try:
                entry = json.loads(self._path(provider_job_id).read_text())
            except FileNotFoundError:
                raise UnknownJob(provider_job_id) from None
            if entry["canceled"]:
                return JobState("canceled", "canceled")
            if self.hold is not None and self.hold.exists():
                return JobState("queued", "queued")
            entry["polls"] += 1
            self._save(entry)
            if entry["polls"] < 2:
                return JobState("queued", "queued")
        shots = entry["shots"]
        return JobState(
            "completed",
            "completed",
            results=[
                CircuitResult(qubits=q, probabilities={k: 1.0}, shots=[k] * shots)
                for k, q in entry["outcomes"]
            ],
            usage_seconds=shots / 1000,
            cost=self.price * len(entry["outcomes"]),
            currency="USD",
        )

    def cancel(self, provider_job_id: str) -> None:
        with self._lock:
            path = self._path(provider_job_id)
            if path.exists():
                entry = json.loads(path.read_text())
                entry["canceled"] = True
                self._save(entry)

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
