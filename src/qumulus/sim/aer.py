"""qiskit-aer statevector adapter: the always-available, double-precision engine.

Why these choices (measurements in /work/shared/reference/simulators.md):

* ``method="statevector"``, double precision: exact probabilities to ~1e-15, the reference engine.
* Standard qiskit gates where one has the same semantics (Aer applies them natively and fuses them);
  native gates (gpi, gpi2, ms) and ``pauliexp`` go in as an exact ``unitary`` with the qargs
  **reversed**, because Aer reads a matrix little-endian over its qargs while ours are big-endian.
* Controlled gates use Aer's own multi-controlled instructions (``mcx``, ``mcy``, ``mcz``,
  ``mcphase``, ``mcrx``/``mcry``/``mcrz``, ``mcsx``, ``mcswap``) by name, so any number of controls
  costs one kernel; the rest (controlled h, vi, native, Ising, pauliexp) become one controlled
  ``unitary`` over controls + targets.
* Probabilities come from Aer's ``save_probabilities`` (computed in C++, little-endian like ours),
  so no state vector is copied to Python.

qiskit and qiskit-aer are imported when the engine is built, never when ``qumulus.sim`` is imported.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from qumulus.circuits.model import Circuit, Operation
from qumulus.sim._common import controlled_matrix, default_threads, matrix, sample_from_probabilities
from qumulus.sim.engine import Distribution

#: Uncontrolled gates with an exact qiskit equivalent: our name -> (qiskit method name, takes a param).
_STANDARD = {
    "x": "x", "y": "y", "z": "z", "h": "h", "s": "s", "si": "sdg", "t": "t", "ti": "tdg",
    "v": "sx", "vi": "sxdg", "rx": "rx", "ry": "ry", "rz": "rz", "phase": "p",
    "xx": "rxx", "yy": "ryy", "zz": "rzz", "swap": "swap",
}  # fmt: skip
#: Controlled gates Aer applies natively (any number of controls): our name -> (Aer name, fixed params).
_MULTI_CONTROLLED: dict[str, tuple[str, tuple[float, ...] | None]] = {
    "x": ("mcx", ()), "y": ("mcy", ()), "z": ("mcz", ()), "v": ("mcsx", ()), "swap": ("mcswap", ()),
    "s": ("mcphase", (math.pi / 2,)), "si": ("mcphase", (-math.pi / 2,)),
    "t": ("mcphase", (math.pi / 4,)), "ti": ("mcphase", (-math.pi / 4,)),
    "phase": ("mcphase", None), "rx": ("mcrx", None), "ry": ("mcry", None), "rz": ("mcrz", None),
}  # fmt: skip


class AerEngine:
    """Exact probabilities with qiskit-aer's double-precision statevector simulator."""

    name = "aer"
    precision_bits = 64
    #: What the adapter accepts; memory (see :meth:`peak_bytes`) is the real limit.
    max_qubits = 32

    def __init__(self, *, max_parallel_threads: int | None = None, fusion: bool = True) -> None:
        self.max_parallel_threads = max_parallel_threads or default_threads()
        self.fusion = fusion
        self._backend: Any = None

    @property
    def backend(self) -> Any:
        """The ``AerSimulator``, built once per engine (its construction costs ~1 ms)."""
        if self._backend is None:
            from qiskit_aer import AerSimulator

            self._backend = AerSimulator(
                method="statevector",
                precision="double",
                max_parallel_threads=self.max_parallel_threads,
                fusion_enable=self.fusion,
            )
        return self._backend

    def supports(self, circuit: Circuit) -> bool:
        """Unitary circuits (measurements are sampled by the caller) within the adapter's width."""
        return circuit.qubits <= self.max_qubits and circuit.is_unitary

    @staticmethod
    def peak_bytes(qubits: int) -> int:
        """Planned peak: complex128 state, the float64 probabilities Aer returns and the 1-byte mask
        of ``Distribution.from_dense`` for sparse states (measured 6.25 GiB for GHZ at 28 qubits)."""
        return (16 + 8 + 1) << qubits

    def build(self, circuit: Circuit) -> Any:
        """The qiskit ``QuantumCircuit`` for ``circuit`` (no measurements; probabilities saved)."""
        from qiskit import QuantumCircuit

        qc = QuantumCircuit(circuit.qubits)
        for op in circuit.operations:
            _append(qc, op)
        qc.save_probabilities(label="probabilities")
        return qc

    def probabilities(self, circuit: Circuit) -> Distribution:
        probs = self._run(circuit)
        return Distribution.from_dense(probs, circuit.qubits)

    def sample(self, circuit: Circuit, shots: int, seed: int | None = None) -> np.ndarray:
        return sample_from_probabilities(self._run(circuit), shots, seed)

    def _run(self, circuit: Circuit) -> np.ndarray:
        if circuit.qubits > self.max_qubits:
            raise ValueError(f"{self.name} accepts at most {self.max_qubits} qubits, got {circuit.qubits}")
        result = self.backend.run(self.build(circuit), shots=1).result()
        if not result.success:
            raise RuntimeError(f"qiskit-aer failed: {result.status}")
        return np.asarray(result.data(0)["probabilities"], dtype=np.float64)


def _append(qc: Any, op: Operation) -> None:
    """Append one operation to a qiskit circuit with exact semantics."""
    from qiskit.circuit import Gate
    from qiskit.circuit.library import UnitaryGate

    if not op.controls and op.name in _STANDARD:
        getattr(qc, _STANDARD[op.name])(*op.params, *op.targets)
        return
    if op.controls and op.name in _MULTI_CONTROLLED:
        aer_name, fixed = _MULTI_CONTROLLED[op.name]
        params = list(op.params if fixed is None else fixed)
        qargs = [*op.controls, *op.targets]
        qc.append(Gate(aer_name, len(qargs), params), qargs)
        return
    unitary = controlled_matrix(op) if op.controls else matrix(op)
    # Our matrices are big-endian over the listed qubits; Aer reads its qargs little-endian.
    qargs = list(reversed(op.qubits))
    qc.append(UnitaryGate(unitary, label=op.name, check_input=False), qargs)
