"""PennyLane devices on Qumulus (PennyLane's ``qml.devices.Device`` API).

Every measurement is turned into samples by PennyLane's own preprocessing (diagonalize, then
``measurements_from_samples``), so the server only ever runs circuits and returns shots. A batch of
tapes (a gradient's parameter shifts, several QNode calls via ``qml.execute``) is one multi-circuit
server job; its id is ``device.job_ids[-1]`` and the device waits at most ``timeout`` seconds.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pennylane as qml
from pennylane.devices import Device, ExecutionConfig
from pennylane.devices.modifiers import single_tape_support
from pennylane.devices.preprocess import (
    decompose,
    diagonalize_measurements,
    measurements_from_samples,
    no_analytic,
    validate_device_wires,
    validate_measurements,
)
from pennylane.tape import QuantumScript
from pennylane.transforms import broadcast_expand, split_non_commuting

try:
    from pennylane.transforms.core import CompilePipeline
except ImportError:  # PennyLane before CompilePipeline: the same object under its old name
    from pennylane.transforms.core import TransformProgram as CompilePipeline  # type: ignore[no-redef]

#: PennyLane operation → (IonQ QIS gate, takes an angle).
GATES: dict[str, tuple[str, bool]] = {
    "PauliX": ("x", False),
    "PauliY": ("y", False),
    "PauliZ": ("z", False),
    "Hadamard": ("h", False),
    "S": ("s", False),
    "T": ("t", False),
    "Adjoint(S)": ("si", False),
    "Adjoint(T)": ("ti", False),
    "SX": ("v", False),
    "Adjoint(SX)": ("vi", False),
    "RX": ("rx", True),
    "RY": ("ry", True),
    "RZ": ("rz", True),
    "CNOT": ("cnot", False),
    "SWAP": ("swap", False),
}
OPERATIONS = frozenset(GATES)


def _supported(op: qml.operation.Operator) -> bool:
    return op.name in OPERATIONS


@single_tape_support
class QumulusDevice(Device):
    """``qml.device("qumulus.simulator", wires=2)``, shots set on the QNode (``qml.set_shots``);
    credentials: ``url`` + ``api_key``, else ``profile``, else the SDK's default account.
    ``timeout``: seconds to wait for a batch's job (``JobTimeoutError`` after); ``seed``: the job's
    ``noise.seed`` (reproducible shots)."""

    name = "qumulus"
    backend_name = "simulator"

    def __init__(
        self,
        wires: Any = None,
        shots: Any = None,
        *,
        backend: str | None = None,
        url: str | None = None,
        api_key: str | None = None,
        profile: str | None = None,
        timeout: float | None = 600.0,
        seed: int | None = None,
    ) -> None:
        super().__init__(wires=wires, shots=shots)
        from qumulus.client import Provider
        from qumulus.client.accounts import Account, resolve

        account = Account("(pennylane)", url, api_key) if url and api_key else resolve(profile)
        self.provider = Provider(account)
        self.backend = self.provider.get_backend(backend or self.backend_name)
        self.timeout = timeout
        self.seed = seed
        #: server job ids, one per executed batch, oldest first
        self.job_ids: list[str] = []

    @property
    def last_job_id(self) -> str | None:
        return self.job_ids[-1] if self.job_ids else None

    def preprocess_transforms(self, execution_config: ExecutionConfig | None = None) -> CompilePipeline:
        program = CompilePipeline()
        program.add_transform(validate_device_wires, wires=self.wires, name=self.name)
        program.add_transform(no_analytic, name=self.name)  # a device of shots: no exact expectation
        program.add_transform(split_non_commuting)
        program.add_transform(diagonalize_measurements)
        program.add_transform(measurements_from_samples)
        program.add_transform(
            decompose,
            target_gates=OPERATIONS,
            stopping_condition=_supported,
            skip_initial_state_prep=False,
            name=self.name,
        )
        program.add_transform(validate_measurements, name=self.name)
        program.add_transform(broadcast_expand)
        return program

    def execute(
        self, circuits: Sequence[QuantumScript], execution_config: ExecutionConfig | None = None
    ) -> tuple[Any, ...]:
        """All tapes in one server job; each tape's result: samples (shots × measured wires)."""
        circuits = list(circuits)
        totals = {tape.shots.total_shots for tape in circuits}
        if len(totals) != 1:
            raise ValueError(
                "one batch is one server job with one shot count: give every tape the same shots"
            )
        shots = int(totals.pop())
        payload = [self._to_ionq(tape, i) for i, tape in enumerate(circuits)]
        job = self.backend.run(
            payload if len(payload) > 1 else payload[0],
            shots=shots,
            memory=True,
            noise={"seed": self.seed} if self.seed is not None else None,
            tags=["pennylane"],
        )
        self.job_ids.append(job.job_id())
        result = job.result(timeout=self.timeout)
        return tuple(
            self._samples(tape, experiment.memory_int)
            for tape, experiment in zip(circuits, result.results, strict=True)
        )

    def _wire_index(self, tape: QuantumScript) -> dict[Any, int]:
        wires = self.wires if self.wires is not None else tape.wires
        return {w: i for i, w in enumerate(wires)}

    def _to_ionq(self, tape: QuantumScript, index: int) -> dict[str, Any]:
        wire_index = self._wire_index(tape)
        gates = []
        for op in tape.operations:
            name, rotates = GATES[op.name]
            targets = [wire_index[w] for w in op.wires]
            if name == "cnot":
                gate: dict[str, Any] = {"gate": name, "controls": targets[:1], "targets": targets[1:]}
            else:
                gate = {"gate": name, "targets": targets}
            if rotates:
                gate["rotation"] = float(op.parameters[0])
            gates.append(gate)
        return {
            "qubits": max(len(wire_index), 1),
            "gateset": "qis",
            "circuit": gates,
            "name": f"tape-{index}",
        }

    def _samples(self, tape: QuantumScript, shots: list[int]) -> Any:
        wire_index = self._wire_index(tape)
        measured = tape.measurements[0].wires  # measurements_from_samples left one sample()
        values = np.asarray(shots, dtype=np.int64)
        samples = np.stack([(values >> wire_index[w]) & 1 for w in measured], axis=1)
        if not tape.shots.has_partitioned_shots:
            return samples
        out, start = [], 0
        for count in tape.shots:
            out.append(samples[start : start + count])
            start += count
        return tuple(out)


class QumulusSimulatorDevice(QumulusDevice):
    """The ideal simulator (``qumulus.simulator``)."""

    name = "qumulus.simulator"
    backend_name = "simulator"


class QumulusQPUDevice(QumulusDevice):
    """An (emulated) QPU, noisy (``qumulus.qpu``; ``backend="qpu.aria-1"`` by default)."""

    name = "qumulus.qpu"
    backend_name = "qpu.aria-1"
