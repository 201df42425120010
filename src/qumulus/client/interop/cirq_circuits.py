"""Cirq circuits → IonQ JSON (QIS gates), and server shots → Cirq measurement arrays.

Gates the IonQ format names directly are written as such; anything else is first compiled by Cirq
to CZ + PhasedXZ (``CZTargetGateset``), which maps onto rz/rx/h/cnot. Global phases are dropped (they
change no measurement). Qubits are numbered in Cirq's sorted order; which qubits each measurement
key reads is kept so results come back keyed as in the circuit.

Imports cirq: the SDK loads this module only when it is handed a Cirq circuit.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import cirq
import numpy as np

LAYOUT_KEY = "cirq_measurements"


@dataclass(frozen=True)
class Converted:
    ionq: dict[str, Any]
    #: measurement key → the (compact) qubit indices it reads, in the gate's order
    measurements: dict[str, list[int]]


def to_ionq(circuit: cirq.AbstractCircuit, name: str | None = None) -> Converted:
    if cirq.is_parameterized(circuit):
        raise ValueError("the circuit has unresolved parameters: pass them with run_sweep/params")
    qubits = sorted(circuit.all_qubits())
    index = {q: i for i, q in enumerate(qubits)}
    gates: list[dict[str, Any]] = []
    measurements: dict[str, list[int]] = {}
    for op in circuit.all_operations():
        if cirq.is_measurement(op):
            key = cirq.measurement_key_name(op)
            if key in measurements:
                raise ValueError(f"measurement key {key!r} is used twice (the server measures once)")
            measurements[key] = [index[q] for q in op.qubits]
            continue
        targets = [index[q] for q in op.qubits]
        if measurements and any(t in idx for idx in measurements.values() for t in targets):
            raise ValueError(
                "an operation after a measurement: the server measures every qubit once, at the end"
            )
        gates.extend(_gates(op, targets))
    if not measurements:
        raise ValueError("the circuit has no measurements: add cirq.measure(...) to read results")
    ionq = {"qubits": max(len(qubits), 1), "gateset": "qis", "circuit": gates}
    if name:
        ionq["name"] = name
    return Converted(ionq, measurements)


def _gates(op: cirq.Operation, targets: list[int]) -> list[dict[str, Any]]:
    gate = op.gate
    if isinstance(gate, cirq.IdentityGate):
        return []
    direct = _direct(gate, targets)
    if direct is not None:
        return direct
    if isinstance(gate, cirq.PhasedXZGate):
        a, x, z = gate.axis_phase_exponent, gate.x_exponent, gate.z_exponent
        (q,) = targets
        out = [_rot("rz", -a, q), _rot("rx", x, q), _rot("rz", a + z, q)]
        return [g for g in out if g["rotation"] != 0.0]
    compiled = cirq.optimize_for_target_gateset(cirq.Circuit(op), gateset=cirq.CZTargetGateset())
    out: list[dict[str, Any]] = []
    qubit_of = dict(zip(op.qubits, targets, strict=True))
    for inner in compiled.all_operations():
        inner_targets = [qubit_of[q] for q in inner.qubits]
        if inner.gate == op.gate:  # no progress: refuse rather than loop
            raise ValueError(f"cannot convert {op!r} to IonQ gates")
        out.extend(_gates(inner, inner_targets))
    return out


def _direct(gate: Any, targets: list[int]) -> list[dict[str, Any]] | None:
    """Gates with a direct IonQ name (any exponent for the Pauli powers: a rotation)."""
    exponent = getattr(gate, "exponent", None)
    two_qubit_ok = getattr(gate, "global_shift", 0) == 0  # a 1-qubit shift is only a global phase
    if isinstance(exponent, int | float):
        kinds = {cirq.XPowGate: "x", cirq.YPowGate: "y", cirq.ZPowGate: "z"}
        for cls, name in kinds.items():
            if type(gate) is cls:
                if exponent == 1:
                    return [{"gate": name, "targets": targets}]
                if name == "z" and exponent in (0.5, -0.5, 0.25, -0.25):
                    short = {0.5: "s", -0.5: "si", 0.25: "t", -0.25: "ti"}[exponent]
                    return [{"gate": short, "targets": targets}]
                return [_rot(f"r{name}", exponent, targets[0])]
        if exponent == 1 and type(gate) is cirq.HPowGate:
            return [{"gate": "h", "targets": targets}]
        if two_qubit_ok and exponent == 1 and type(gate) is cirq.CXPowGate:
            return [{"gate": "cnot", "controls": [targets[0]], "targets": [targets[1]]}]
        if two_qubit_ok and exponent == 1 and type(gate) is cirq.SwapPowGate:
            return [{"gate": "swap", "targets": targets}]
        if two_qubit_ok and exponent == 1 and type(gate) is cirq.CZPowGate:
            c, t = targets
            h = {"gate": "h", "targets": [t]}
            return [h, {"gate": "cnot", "controls": [c], "targets": [t]}, dict(h)]
    return None


def _rot(name: str, half_turns: float, qubit: int) -> dict[str, Any]:
    return {"gate": name, "targets": [qubit], "rotation": float(half_turns) * math.pi}


def layout_metadata(converted: list[Converted]) -> str:
    return json.dumps([c.measurements for c in converted], separators=(",", ":"))


def read_layout(raw: str | None, job_id: str) -> list[dict[str, list[int]]]:
    if raw is None:
        raise ValueError(f"job {job_id} was not submitted through qumulus.cirq (no measurement keys)")
    return json.loads(raw)


def measurement_arrays(shots: list[int], measurements: dict[str, list[int]]) -> dict[str, np.ndarray]:
    """Per key, an int8 array (repetitions × qubits), as ``cirq.ResultDict`` holds them."""
    values = np.asarray(shots, dtype=np.int64)
    return {
        key: np.stack([(values >> q) & 1 for q in qubits], axis=1).astype(np.int8)
        if len(values)
        else np.zeros((0, len(qubits)), dtype=np.int8)
        for key, qubits in measurements.items()
    }
