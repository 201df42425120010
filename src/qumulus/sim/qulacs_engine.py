"""qulacs adapter: double precision and the lowest per-call overhead, for tiny circuits.

Why: qulacs ran a 10-qubit depth-20 circuit in 2.4 ms against 11 ms (Aer) and 19–24 ms (qsimcirq),
and 1000 Bell jobs at 0.026 ms each (simulators.md (a), (d)); it imports in ~5 ms. Past ~16 qubits
it loses to qsim (no gate fusion without its optimizer), so routing.py only sends small circuits here.

Conventions handled here, once:

* qulacs' state index is little-endian like ours, but ``DenseMatrix(targets, U)`` reads ``U``
  little-endian over ``targets``; our matrices are big-endian, so the target list is **reversed**.
* qulacs' ``RX``/``RY``/``RZ``/``PauliRotation`` rotate by ``exp(+iθ/2·P)`` (the opposite sign);
  ``RotX``/``RotY``/``RotZ`` are ``exp(-iθ/2·P)`` as on the wire, and ``U1`` is the phase gate.
* Controls: the gate as a dense matrix plus ``add_control_qubit(c, 1)`` per control.

Threads: qulacs has no per-call thread setting; it uses OpenMP (``OMP_NUM_THREADS``) and only from
about 14 qubits, which is where routing stops sending it work anyway.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from qumulus.circuits.model import Circuit, Operation
from qumulus.sim._common import matrix, sample_from_probabilities
from qumulus.sim.engine import Distribution


class QulacsEngine:
    """Exact probabilities with qulacs' double-precision state vector."""

    name = "qulacs"
    precision_bits = 64
    max_qubits = 32

    def supports(self, circuit: Circuit) -> bool:
        """Unitary circuits (measurements are sampled by the caller) within the adapter's width."""
        return circuit.qubits <= self.max_qubits and circuit.is_unitary

    @staticmethod
    def peak_bytes(qubits: int) -> int:
        """Planned peak memory: state, its copy from ``get_vector`` and the squaring temporaries."""
        return (16 + 16 + 3 * 8) << qubits

    def build(self, circuit: Circuit) -> Any:
        """The ``qulacs.QuantumCircuit`` for ``circuit``."""
        import qulacs

        qc = qulacs.QuantumCircuit(circuit.qubits)
        for op in circuit.operations:
            qc.add_gate(_qulacs_gate(op))
        return qc

    def state_vector(self, circuit: Circuit) -> np.ndarray:
        import qulacs

        if circuit.qubits > self.max_qubits:
            raise ValueError(f"{self.name} accepts at most {self.max_qubits} qubits, got {circuit.qubits}")
        state = qulacs.QuantumState(circuit.qubits)
        self.build(circuit).update_quantum_state(state)
        return state.get_vector()

    def probabilities(self, circuit: Circuit) -> Distribution:
        return Distribution.from_dense(self._probabilities(circuit), circuit.qubits)

    def sample(self, circuit: Circuit, shots: int, seed: int | None = None) -> np.ndarray:
        return sample_from_probabilities(self._probabilities(circuit), shots, seed)

    def _probabilities(self, circuit: Circuit) -> np.ndarray:
        amplitudes = self.state_vector(circuit)
        return amplitudes.real**2 + amplitudes.imag**2


@functools.cache
def _named() -> dict[str, Callable[..., Any]]:
    """Uncontrolled gates qulacs has with exactly our semantics."""
    from qulacs import gate

    return {
        "x": gate.X, "y": gate.Y, "z": gate.Z, "h": gate.H, "s": gate.S, "si": gate.Sdag,
        "t": gate.T, "ti": gate.Tdag, "v": gate.sqrtX, "vi": gate.sqrtXdag,
        "rx": gate.RotX, "ry": gate.RotY, "rz": gate.RotZ, "phase": gate.U1,
    }  # fmt: skip


def _qulacs_gate(op: Operation) -> Any:
    from qulacs import gate

    if not op.controls:
        named = _named().get(op.name)
        if named is not None:
            return named(op.targets[0], *op.params)
        if op.name == "swap":
            return gate.SWAP(*op.targets)
    elif len(op.controls) == 1 and op.name in ("x", "z"):  # the common CNOT / CZ: qulacs' own gates
        return (gate.CNOT if op.name == "x" else gate.CZ)(op.controls[0], op.targets[0])
    # Our matrix is big-endian over op.targets; DenseMatrix reads its target list little-endian.
    dense = gate.DenseMatrix(list(reversed(op.targets)), matrix(op))
    for control in op.controls:
        dense.add_control_qubit(control, 1)
    return dense
