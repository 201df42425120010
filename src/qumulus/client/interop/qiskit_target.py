"""A Qiskit ``Target`` from a backend's calibration (``backend.properties()``).

Why from the server: the transpiler and noise-aware tools (layout scoring, ``qiskit-aer``'s
``from_backend``) read errors, durations, T1/T2 and readout error from the Target; a Target with
``None`` everywhere silently turns them off. Trapped ions connect every pair, so every pair is listed.
"""

from __future__ import annotations

from itertools import permutations
from typing import Any

from qiskit.circuit import Measure, Parameter
from qiskit.circuit.library import (
    CXGate,
    HGate,
    RXGate,
    RYGate,
    RZGate,
    SdgGate,
    SGate,
    SwapGate,
    SXdgGate,
    SXGate,
    TdgGate,
    TGate,
    XGate,
    YGate,
    ZGate,
)
from qiskit.providers import QubitProperties
from qiskit.transpiler import InstructionProperties, Target

_THETA = Parameter("θ")
ONE_QUBIT_GATES = [
    XGate(),
    YGate(),
    ZGate(),
    HGate(),
    SGate(),
    SdgGate(),
    TGate(),
    TdgGate(),
    SXGate(),
    SXdgGate(),
    RXGate(_THETA),
    RYGate(_THETA),
    RZGate(_THETA),
]
TWO_QUBIT_GATES = [CXGate(), SwapGate()]


def build_target(name: str, num_qubits: int, properties: Any | None) -> Target:
    """``properties``: the client's :class:`~qumulus.client.BackendProperties`, or None (simulator:
    ideal, every property left unset)."""
    qubit_properties = None
    if properties is not None:
        qubit_properties = [
            QubitProperties(t1=properties.t1(q), t2=properties.t2(q)) for q in range(num_qubits)
        ]
    target = Target(description=name, num_qubits=num_qubits, qubit_properties=qubit_properties)
    pairs = list(permutations(range(num_qubits), 2))
    pair_error = _pair_errors(properties) if properties is not None else {}
    for gate in ONE_QUBIT_GATES:
        target.add_instruction(gate, {(q,): _one_qubit(properties, gate.name, q) for q in range(num_qubits)})
    for gate in TWO_QUBIT_GATES:
        duration = _duration(properties, "2q")
        scale = 3 if gate.name == "swap" else 1  # three entangling gates
        target.add_instruction(
            gate,
            {
                pair: InstructionProperties(
                    error=_scaled(pair_error.get(tuple(sorted(pair))), scale),
                    duration=None if duration is None else duration * scale,
                )
                if properties is not None
                else None
                for pair in pairs
            },
        )
    target.add_instruction(
        Measure(),
        {
            (q,): InstructionProperties(
                error=properties.readout_error(q), duration=properties.readout_length(q)
            )
            if properties is not None
            else None
            for q in range(num_qubits)
        },
    )
    return target


def _one_qubit(properties: Any | None, gate: str, qubit: int) -> InstructionProperties | None:
    if properties is None:
        return None
    return InstructionProperties(
        error=properties.gate_error(gate, qubit), duration=_duration(properties, "1q")
    )


def _duration(properties: Any | None, kind: str) -> float | None:
    if properties is None:
        return None
    return (properties.raw.get("gates") or {}).get(kind, {}).get("duration")


def _pair_errors(properties: Any) -> dict[tuple[int, ...], float | None]:
    return {tuple(sorted(p["qubits"])): p.get("gate_error_2q") for p in properties.raw.get("pair") or []}


def _scaled(error: float | None, times: int) -> float | None:
    if error is None or times == 1:
        return error
    return 1 - (1 - error) ** times
