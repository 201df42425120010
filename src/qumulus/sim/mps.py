"""qiskit-aer's matrix-product-state simulator: wide circuits with little entanglement.

An MPS stores the state as a chain of tensors whose size is set by the entanglement across each cut
(the bond dimension χ), not by 2**n: a shallow nearest-neighbour circuit on 60 qubits is a few MB.
Its cost grows like χ³ per two-qubit gate, so on a generic deep circuit it is far slower than a state
vector; routing.py sends a circuit here only when the bond-dimension bound of :func:`bond_bound` says
the MPS stays small *and* the state vector would not fit or be slower (measured, see routing.py).

Results are sampled shots (:class:`~qumulus.sim.engine.Samples`), never 2**n probabilities. Gates go
in through the Aer adapter's exact mapping (:func:`qumulus.sim.aer._append`); Aer brings far-apart
qubits together with swaps internally.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from qumulus.circuits.model import Circuit, Operation
from qumulus.sim._common import default_threads
from qumulus.sim.engine import Samples


class MPSEngine:
    """Sampled outcomes from Aer's ``matrix_product_state`` method (double precision)."""

    name = "mps"
    precision_bits = 64
    max_qubits = 1000

    def __init__(self, *, max_parallel_threads: int | None = None) -> None:
        self.max_parallel_threads = max_parallel_threads or default_threads()
        self._backend: Any = None

    @property
    def backend(self) -> Any:
        if self._backend is None:
            from qiskit_aer import AerSimulator

            self._backend = AerSimulator(
                method="matrix_product_state", max_parallel_threads=self.max_parallel_threads
            )
        return self._backend

    @staticmethod
    def peak_bytes(qubits: int, bond: int = 64) -> int:
        """n tensors of 2·χ² complex128 entries."""
        return qubits * 2 * bond * bond * 16 + (16 << 20)

    def supports(self, circuit: Circuit) -> bool:
        """Unitary circuits (plus terminal measurements) without controlled gates wider than 2 qubits
        on far-apart wires (Aer's MPS takes any gate, but multi-qubit unitaries cost χ⁴ and more)."""
        if circuit.qubits > self.max_qubits:
            return False
        if circuit.is_unitary:
            return True
        return circuit.split_terminal_measurements() is not None

    def build(self, circuit: Circuit) -> tuple[Any, list[tuple[int, int]]]:
        """The qiskit circuit (all measured qubits → clbits in measurement order) and ``(qubit, clbit)``."""
        from qiskit import QuantumCircuit

        if circuit.measures_explicitly:
            split = circuit.split_terminal_measurements()
            if split is None:
                raise ValueError("the MPS engine runs unitary circuits with terminal measurements only")
            unitary, measured = split
        else:
            unitary, measured = circuit, tuple((q, q) for q in range(circuit.qubits))
        qc = QuantumCircuit(circuit.qubits, max(1, len(measured)))
        for op in unitary.operations:
            assert type(op) is Operation
            _append_mps(qc, op)
        for slot, (qubit, _) in enumerate(measured):
            qc.measure(qubit, slot)
        return qc, list(measured)

    def sample(self, circuit: Circuit, shots: int, seed: int | None = None) -> Samples:
        qc, measured = self.build(circuit)
        options: dict[str, Any] = {"shots": shots, "memory": True}
        if seed is not None:
            options["seed_simulator"] = seed % (2**63)
        result = self.backend.run(qc, **options).result()
        if not result.success:
            raise RuntimeError(f"qiskit-aer (MPS) failed: {result.status}")
        memory = result.get_memory(0)
        width = qc.num_clbits
        # Aer's strings are big endian (slot 0 rightmost): reverse each to put slot s in column s.
        raw = np.frombuffer("".join(memory).encode(), dtype=np.uint8).reshape(len(memory), width)
        slots = raw[:, ::-1] == ord("1")
        bits = circuit.clbits if circuit.measures_explicitly else circuit.qubits
        out = np.zeros((len(memory), bits), dtype=bool)
        for slot, (_, clbit) in enumerate(measured):
            out[:, clbit] = slots[:, slot]
        return Samples.from_bool(out)


#: Controlled gates with one control that the MPS method applies natively: our name -> qiskit method.
_ONE_CONTROL = {"x": "cx", "y": "cy", "z": "cz", "h": "ch", "phase": "cp", "rx": "crx", "ry": "cry",
                "rz": "crz", "swap": "cswap", "v": "csx"}  # fmt: skip


def _append_mps(qc: Any, op: Operation) -> None:
    """Aer's MPS method takes standard gates and ``unitary`` but not the multi-controlled ``mc*``
    instructions the state-vector adapter uses: one control maps to ``cx``/``cp``/..., anything else
    becomes one exact (controlled) ``unitary``."""
    from qiskit.circuit.library import UnitaryGate

    from qumulus.sim._common import controlled_matrix, matrix
    from qumulus.sim.aer import _STANDARD

    if not op.controls and op.name in _STANDARD:
        getattr(qc, _STANDARD[op.name])(*op.params, *op.targets)
        return
    if len(op.controls) == 1 and op.name in _ONE_CONTROL:
        getattr(qc, _ONE_CONTROL[op.name])(*op.params, op.controls[0], *op.targets)
        return
    unitary = controlled_matrix(op) if op.controls else matrix(op)
    qc.append(UnitaryGate(unitary, check_input=False), list(reversed(op.qubits)))


#: Base gates that are diagonal in the computational basis (they never change a known bit).
_DIAGONAL = frozenset({"z", "s", "si", "t", "ti", "rz", "phase", "zz"})
#: One-qubit gates that map a known bit to a known bit (flip it).
_FLIPS = frozenset({"x", "y"})


def bond_bound(circuit: Circuit) -> int:
    """An upper bound on log2 of the MPS bond dimension over the whole run, maximised over the cuts.

    Two bounds, the smaller one kept per cut of the chain (qubits 0..k-1 | k..n-1):

    * **gates**: each entangling gate that straddles the cut multiplies the Schmidt rank by at most 2
      (a gate with one control and one target) or 4 (any other two-qubit gate); wider gates count
      one bit per qubit;
    * **clusters**: qubits that never met in an entangling gate stay unentangled, so a cluster of
      entangled qubits contributes at most min(its qubits left, its qubits right) of the cut.

    A gate is entangling only when it can be: qubits whose value is still a known bit (|0⟩ at the
    start, flipped by X, kept by diagonal gates) make a controlled gate act locally or not at all,
    and a SWAP only relabels. That is what keeps a QFT on a basis state at bond dimension 1 (every
    controlled phase has a control in a known state) while a random all-to-all circuit hits
    2**(n/2). One pass over the gates, O(1) each.
    """
    n = circuit.qubits
    if n < 2:
        return 0
    known: list[int | None] = [0] * n
    parent = list(range(n))  # union-find over cluster ids; ``label[q]`` is the id at position q
    label = list(range(n))
    diff = [0.0] * (n + 2)

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def entangle(qubits: list[int], weight: float) -> None:
        root = find(label[qubits[0]])
        for q in qubits:
            known[q] = None
            other = find(label[q])
            if other != root:
                parent[other] = root
        diff[min(qubits) + 1] += weight
        diff[max(qubits) + 1] -= weight

    for op in circuit.operations:
        if type(op) is not Operation or op.name in ("measure", "reset"):
            continue
        name = op.name
        if name == "swap" and not op.controls:
            a, b = op.targets
            known[a], known[b] = known[b], known[a]
            label[a], label[b] = label[b], label[a]
            continue
        if any(known[c] == 0 for c in op.controls):
            continue  # a control known to be |0⟩: the gate does nothing
        controls = [c for c in op.controls if known[c] is None]
        if name in _DIAGONAL:
            involved = controls + [t for t in op.targets if known[t] is None]
            if len(involved) >= 2:
                entangle(involved, 1.0 if len(involved) == 2 else float(len(involved)))
            continue
        if not controls and len(op.targets) == 1:
            t = op.targets[0]
            if name in _FLIPS and known[t] is not None:
                known[t] ^= 1
            else:
                known[t] = None
            continue
        involved = controls + list(op.targets)
        if len(involved) == 2:
            entangle(involved, 1.0 if controls else 2.0)
        else:
            entangle(involved, float(len(involved)))

    gate_bound: list[float] = []
    running = 0.0
    for k in range(1, n):
        running += diff[k]
        gate_bound.append(running)
    members: dict[int, list[int]] = {}
    for q in range(n):
        if known[q] is None:
            members.setdefault(find(label[q]), []).append(q)
    cluster_bound = [0] * (n + 1)
    for positions in members.values():
        size = len(positions)
        if size < 2:
            continue
        # contribution min(left, size - left) on the cuts between consecutive members
        for i in range(size - 1):
            left = i + 1
            value = min(left, size - left)
            for k in range(positions[i] + 1, positions[i + 1] + 1):
                cluster_bound[k] += value
    best = 0
    for k in range(1, n):
        best = max(best, min(math.ceil(gate_bound[k - 1]), cluster_bound[k], k, n - k))
    return best
