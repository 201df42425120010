"""Qiskit circuits → IonQ JSON (QIS gates), and server shots → Qiskit's clbit order.

Imports qiskit: the SDK loads this module only when it is handed a Qiskit circuit (or OpenQASM).

Why a compacted qubit list: a circuit transpiled against a 25-qubit Target has 25 qubits, most of
them idle; the server simulates every qubit it is given, so only the qubits an instruction touches
are sent (renumbered 0..k-1), and measurements are mapped back to the circuit's clbits.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

from qiskit import QuantumCircuit, transpile

from qumulus.client.clbits import ClbitLayout

#: Qiskit gate name → (IonQ QIS gate, has a rotation angle).
GATE_MAP: dict[str, tuple[str, bool]] = {
    "x": ("x", False),
    "y": ("y", False),
    "z": ("z", False),
    "h": ("h", False),
    "s": ("s", False),
    "sdg": ("si", False),
    "t": ("t", False),
    "tdg": ("ti", False),
    "sx": ("v", False),
    "sxdg": ("vi", False),
    "rx": ("rx", True),
    "ry": ("ry", True),
    "rz": ("rz", True),
    "cx": ("cnot", False),
    "swap": ("swap", False),
}
ONE_QUBIT = [name for name in GATE_MAP if name not in ("cx", "swap")]
TWO_QUBIT = ["cx", "swap"]
BASIS_GATES = [*GATE_MAP, "measure", "barrier"]


@dataclass(frozen=True)
class Converted:
    """One circuit as the server takes it, and how to read its shots back."""

    ionq: dict[str, Any]
    #: for each clbit, the compact qubit index measured into it (None: never measured → always 0)
    clbit_sources: list[int | None]
    num_clbits: int
    creg_sizes: list[list[Any]]
    name: str

    @cached_property
    def layout(self) -> ClbitLayout:
        """How to read this circuit's shots (stored with the job; see ``client/clbits.py``)."""
        return ClbitLayout(
            tuple(self.clbit_sources),
            self.num_clbits,
            tuple((str(n), int(s)) for n, s in self.creg_sizes),
            self.name,
        )


def to_ionq(circuit: QuantumCircuit) -> Converted:
    """Transpile to the QIS basis (no layout: qubit indices are kept), then write IonQ JSON."""
    if circuit.num_parameters:
        raise ValueError(
            f"circuit {circuit.name!r} has unbound parameters {sorted(p.name for p in circuit.parameters)}; "
            "bind them (assign_parameters) or use the Sampler/Estimator with parameter values"
        )
    if any(inst.operation.name not in BASIS_GATES for inst in circuit.data):
        circuit = transpile(circuit, basis_gates=BASIS_GATES, optimization_level=0)
    used: list[int] = []
    for inst in circuit.data:
        for qubit in inst.qubits:
            index = circuit.find_bit(qubit).index
            if index not in used and inst.operation.name != "barrier":
                used.append(index)
    compact = {q: i for i, q in enumerate(sorted(used))}
    gates: list[dict[str, Any]] = []
    measured: dict[int, int] = {}  # clbit → compact qubit
    for inst in circuit.data:
        name = inst.operation.name
        qubits = [compact.get(circuit.find_bit(q).index) for q in inst.qubits]
        if name == "barrier":
            continue
        if name == "measure":
            measured[circuit.find_bit(inst.clbits[0]).index] = qubits[0]  # type: ignore[assignment]
            continue
        if measured and any(q in measured.values() for q in qubits):
            raise ValueError(
                f"circuit {circuit.name!r}: {name} after a measurement; the server measures every "
                "qubit once, at the end (no mid-circuit measurement)"
            )
        ionq_name, rotates = GATE_MAP[name]
        if name == "cx":
            gate: dict[str, Any] = {"gate": ionq_name, "controls": [qubits[0]], "targets": [qubits[1]]}
        else:
            gate = {"gate": ionq_name, "targets": qubits}
        if rotates:
            gate["rotation"] = float(inst.operation.params[0])
        gates.append(gate)
    width = max(len(compact), 1)
    sources: list[int | None]
    if circuit.num_clbits:
        sources = [measured.get(c) for c in range(circuit.num_clbits)]
        creg_sizes = [[reg.name, reg.size] for reg in circuit.cregs]
        num_clbits = circuit.num_clbits
    else:  # nothing measured: report every qubit, qubit i as bit i (as the server measures them)
        sources = list(range(width))
        creg_sizes = [["meas", width]]
        num_clbits = width
    ionq = {"qubits": width, "gateset": "qis", "circuit": gates, "name": circuit.name}
    return Converted(ionq, sources, num_clbits, creg_sizes, circuit.name)


def clbit_value(converted: Converted, outcome: int) -> int:
    """A server outcome (qubit 0 = least significant bit) as an integer over the circuit's clbits."""
    return converted.layout.value(outcome)
