"""Circuits as the SDK accepts them: IonQ JSON dicts, or a small builder that writes them.

The builder covers the IonQ format's QIS gates (radians) and, in a ``gateset="native"`` circuit, its
native trapped-ion gates GPI, GPI2, MS and ZZ (phases and angles in turns; wire spec §10). Qiskit and
Cirq circuits and OpenQASM are converted in ``programs.py``. Every qubit is measured at the end
(IonQ's rule).
"""

from __future__ import annotations

from typing import Any

GATESETS = ("qis", "native")
NATIVE_GATES = frozenset({"gpi", "gpi2", "ms", "zz"})


class Circuit:
    """``Circuit(2, name="bell").h(0).cnot(0, 1)`` → an IonQ ``ionq.circuit.v1`` circuit."""

    def __init__(self, qubits: int, name: str | None = None, gateset: str = "qis") -> None:
        if not isinstance(qubits, int) or qubits < 1:
            raise ValueError("qubits: a positive integer")
        if gateset not in GATESETS:
            raise ValueError('gateset: "qis" or "native"')
        self.qubits = qubits
        self.name = name
        self.gateset = gateset
        self.gates: list[dict[str, Any]] = []

    def _add(self, gate: str, targets: list[int], controls: list[int] | None = None, **extra: Any) -> Circuit:
        native = gate in NATIVE_GATES
        if native != (self.gateset == "native"):
            kind = "a native" if native else "a QIS"
            raise ValueError(f"{gate}: {kind} gate in a {self.gateset!r} circuit (IonQ does not mix the two)")
        for q in [*targets, *(controls or [])]:
            if not isinstance(q, int) or not 0 <= q < self.qubits:
                raise ValueError(f"{gate}: qubit {q!r} is not in 0..{self.qubits - 1}")
        entry: dict[str, Any] = {"gate": gate, "targets": targets, **extra}
        if controls:
            entry["controls"] = controls
        self.gates.append(entry)
        return self

    def h(self, q: int) -> Circuit:
        return self._add("h", [q])

    def x(self, q: int) -> Circuit:
        return self._add("x", [q])

    def y(self, q: int) -> Circuit:
        return self._add("y", [q])

    def z(self, q: int) -> Circuit:
        return self._add("z", [q])

    def s(self, q: int) -> Circuit:
        return self._add("s", [q])

    def t(self, q: int) -> Circuit:
        return self._add("t", [q])

    def rx(self, theta: float, q: int) -> Circuit:
        return self._add("rx", [q], rotation=float(theta))

    def ry(self, theta: float, q: int) -> Circuit:
        return self._add("ry", [q], rotation=float(theta))

    def rz(self, theta: float, q: int) -> Circuit:
        return self._add("rz", [q], rotation=float(theta))

    def cnot(self, control: int, target: int) -> Circuit:
        return self._add("cnot", [target], [control])

    cx = cnot

    def swap(self, a: int, b: int) -> Circuit:
        return self._add("swap", [a, b])

    # native gates (gateset="native"; turns) ---------------------------------------------------------

    def gpi(self, phase: float, q: int) -> Circuit:
        return self._add("gpi", [q], phase=float(phase))

    def gpi2(self, phase: float, q: int) -> Circuit:
        return self._add("gpi2", [q], phase=float(phase))

    def ms(self, a: int, b: int, phases: tuple[float, float] = (0.0, 0.0), angle: float = 0.25) -> Circuit:
        return self._add("ms", [a, b], phases=[float(phases[0]), float(phases[1])], angle=float(angle))

    def zz(self, angle: float, a: int, b: int) -> Circuit:
        return self._add("zz", [a, b], angle=float(angle))

    def to_ionq(self) -> dict[str, Any]:
        body: dict[str, Any] = {"qubits": self.qubits, "gateset": self.gateset, "circuit": list(self.gates)}
        if self.name is not None:
            body["name"] = self.name
        return body

    def __repr__(self) -> str:
        return f"Circuit(qubits={self.qubits}, name={self.name!r}, gates={len(self.gates)})"


def as_circuit(value: Any) -> dict[str, Any]:
    """One circuit → ``{"circuit": [...], "qubits"?, "gateset"?, "name"?}``."""
    if isinstance(value, Circuit):
        return value.to_ionq()
    if hasattr(value, "to_ionq"):
        return value.to_ionq()
    if isinstance(value, dict) and isinstance(value.get("circuit"), list):
        return dict(value)
    if isinstance(value, list) and all(isinstance(g, dict) and "gate" in g for g in value):
        return {"circuit": list(value)}
    raise TypeError(
        "circuits: expected an IonQ circuit dict ({'qubits': n, 'circuit': [gates]}), a qumulus.Circuit, "
        "a Qiskit QuantumCircuit, a Cirq circuit, an OpenQASM 2/3 string, or a list of them; "
        f"got {type(value).__name__}"
    )


def is_gate_list(value: Any) -> bool:
    """A list of gate dicts: one circuit written without its envelope."""
    return isinstance(value, list | tuple) and all(isinstance(g, dict) and "gate" in g for g in value)


def as_circuit_list(circuits: Any) -> tuple[list[dict[str, Any]], bool]:
    """``(circuits, given_as_list)``: a list of gate dicts is one circuit, not many."""
    if isinstance(circuits, list | tuple) and circuits and not is_gate_list(circuits):
        return [as_circuit(c) for c in circuits], True
    return [as_circuit(circuits)], False


def job_input(circuits: list[dict[str, Any]], multi: bool) -> tuple[str, dict[str, Any]]:
    """``(type, input)`` of a job body for these circuits."""
    gateset = circuits[0].get("gateset", "qis")
    if not multi:
        c = circuits[0]
        body: dict[str, Any] = {"gateset": gateset, "circuit": c["circuit"]}
        if "qubits" in c:
            body["qubits"] = c["qubits"]
        return "ionq.circuit.v1", body
    return "ionq.multi-circuit.v1", {"gateset": gateset, "circuits": circuits}
