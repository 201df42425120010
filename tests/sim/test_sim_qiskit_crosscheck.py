"""THE cross-check with qiskit: qiskit circuit → qiskit-ionq's own converter → our parser → our
engines, against ``qiskit.quantum_info.Statevector(qc).probabilities()``.

qiskit's probability vector is little-endian (qubit 0 = least significant bit), like ours, so no
reordering happens here: an endianness slip anywhere in the chain shows up as a mismatch.
Fixed seeds; ≥100 QIS circuits using every gate qiskit-ionq can send, plus ≥100 native circuits.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from qumulus.circuits.ionq_json import parse_input
from tests.sim._util import dense, make_engine

qiskit = pytest.importorskip("qiskit")
pytest.importorskip("qiskit_ionq")

from qiskit import QuantumCircuit  # noqa: E402
from qiskit.circuit.library import PauliEvolutionGate, UnitaryGate  # noqa: E402
from qiskit.quantum_info import SparsePauliOp, Statevector  # noqa: E402
from qiskit_ionq import GPI2Gate, GPIGate, MSGate, ZZGate  # noqa: E402
from qiskit_ionq.helpers import paulis_commute, qiskit_circ_to_ionq_circ  # noqa: E402

# qiskit's own Statevector of a PauliEvolutionGate goes through scipy's sparse expm, which warns.
pytestmark = pytest.mark.filterwarnings("ignore::scipy.sparse.SparseEfficiencyWarning")

QIS_CIRCUITS = 120
NATIVE_CIRCUITS = 100
DOUBLE_TOLERANCE = 1e-8
QSIM_TOLERANCE = 1e-5

ONE_QUBIT = ("h", "x", "y", "z", "s", "sdg", "t", "tdg", "sx", "sxdg")
ROTATIONS = ("rx", "ry", "rz", "p")
CONTROLLED = ("cx", "cy", "cz", "ch", "csx")
CONTROLLED_ROTATIONS = ("crx", "cry", "crz", "cp")
ISING = ("rxx", "ryy", "rzz")
ALL_QIS = (*ONE_QUBIT, *ROTATIONS, *CONTROLLED, *CONTROLLED_ROTATIONS, "ccx", "mcx", "mcp", "swap", *ISING,
           "pauliexp")  # fmt: skip


def _pauli_op(rng: np.random.Generator, width: int, commuting: bool) -> SparsePauliOp:
    while True:
        count = int(rng.integers(1, 4))
        labels = ["".join(rng.choice(list("IXYZ"), size=width)) for _ in range(count)]
        if all(set(label) == {"I"} for label in labels) or len(set(labels)) != count:
            continue
        if paulis_commute(labels) == commuting:
            return SparsePauliOp(labels, coeffs=rng.uniform(-1, 1, size=count))


def random_qis_circuit(seed: int) -> tuple[QuantumCircuit, QuantumCircuit, bool]:
    """``(circuit sent, exact reference circuit, needs compiler synthesis)``.

    Non-commuting ``PauliEvolutionGate``s are only sent with ``ionq_compiler_synthesis``; qiskit's
    own Statevector would Trotterize them, so the reference gets the exact ``expm`` as a unitary.
    """
    rng = np.random.default_rng(seed)
    n = int(rng.integers(3, 6))
    qc, ref = QuantumCircuit(n), QuantumCircuit(n)
    synthesis = False
    gates = [*ALL_QIS] + [str(g) for g in rng.choice(ALL_QIS, size=int(rng.integers(6, 25)))]
    rng.shuffle(gates)
    for name in gates[: int(rng.integers(12, len(gates) + 1))]:
        qubits = [int(q) for q in rng.permutation(n)]
        angle = float(rng.uniform(-2 * np.pi, 2 * np.pi))
        if name in ONE_QUBIT:
            args: tuple = (qubits[0],)
        elif name in ROTATIONS:
            args = (angle, qubits[0])
        elif name in CONTROLLED or name == "swap":
            args = (qubits[0], qubits[1])
        elif name in CONTROLLED_ROTATIONS or name in ISING:
            args = (angle, qubits[0], qubits[1])
        elif name == "ccx":
            args = (qubits[0], qubits[1], qubits[2])
        elif name == "mcx":
            k = int(rng.integers(1, n))
            args = (qubits[:k], qubits[k])
        elif name == "mcp":
            k = int(rng.integers(1, n))
            args = (angle, qubits[:k], qubits[k])
        else:  # pauliexp on 1-3 qubits, commuting or not
            width = int(rng.integers(1, min(n, 3) + 1))
            commuting = bool(rng.random() < 0.5)
            op = _pauli_op(rng, width, commuting)
            time = float(rng.uniform(0.05, 1.5))
            targets = qubits[:width]
            qc.append(PauliEvolutionGate(op, time=time), targets)
            if commuting:
                ref.append(PauliEvolutionGate(op, time=time), targets)
            else:
                synthesis = True
                exact = _expm_hermitian(op.to_matrix(), time)
                ref.append(UnitaryGate(exact), targets)
            continue
        getattr(qc, name)(*args)
        getattr(ref, name)(*args)
    return qc, ref, synthesis


def _expm_hermitian(hamiltonian: np.ndarray, time: float) -> np.ndarray:
    values, vectors = np.linalg.eigh(hamiltonian)
    return (vectors * np.exp(-1j * time * values)) @ vectors.conj().T


def random_native_circuit(seed: int) -> QuantumCircuit:
    rng = np.random.default_rng(10_000 + seed)
    n = int(rng.integers(2, 6))
    qc = QuantumCircuit(n)
    for _ in range(int(rng.integers(6, 25))):
        qubits = [int(q) for q in rng.permutation(n)]
        kind = int(rng.integers(4))
        if kind == 0:
            qc.append(GPIGate(float(rng.uniform(-1, 1))), [qubits[0]])
        elif kind == 1:
            qc.append(GPI2Gate(float(rng.uniform(-1, 1))), [qubits[0]])
        elif kind == 2:
            phases = rng.uniform(-1, 1, size=2)
            qc.append(MSGate(float(phases[0]), float(phases[1]), float(rng.uniform(0, 0.25))), qubits[:2])
        else:
            qc.append(ZZGate(float(rng.uniform(-0.5, 0.5))), qubits[:2])
    return qc


def _to_payload(qc: QuantumCircuit, gateset: str, synthesis: bool = False) -> dict:
    ops, _, _ = qiskit_circ_to_ionq_circ(qc, gateset=gateset, ionq_compiler_synthesis=synthesis)
    # Through real JSON, as on the wire.
    return json.loads(json.dumps({"gateset": gateset, "qubits": qc.num_qubits, "circuit": ops}))


def _engines():
    return [make_engine(name) for name in ("aer", "qulacs", "qsim")]


def _check(payload: dict, want: np.ndarray, engines, label: str, mismatches: list[str]) -> None:
    circuit = parse_input("ionq.circuit.v1", payload).circuits[0]
    for engine in engines:
        got = dense(engine.probabilities(circuit))
        tolerance = QSIM_TOLERANCE if engine.name == "qsim" else DOUBLE_TOLERANCE
        err = float(np.abs(got - want).max())
        if got.shape != want.shape or err > tolerance:
            mismatches.append(f"{label} on {engine.name}: max error {err:.2e}")


def test_random_qiskit_qis_circuits_match_statevector() -> None:
    engines = _engines()
    mismatches: list[str] = []
    seen: set[str] = set()
    for seed in range(QIS_CIRCUITS):
        qc, ref, synthesis = random_qis_circuit(seed)
        seen.update(inst.operation.name for inst in qc.data)
        payload = _to_payload(qc, "qis", synthesis)
        _check(payload, Statevector(ref).probabilities(), engines, f"qis seed {seed}", mismatches)
    assert mismatches == [], f"{len(mismatches)} mismatches out of {QIS_CIRCUITS} circuits: {mismatches[:10]}"
    # Every gate qiskit-ionq sends was exercised (mcx/mcphase names depend on the control count).
    expected = {g for g in ALL_QIS if g not in ("mcx", "mcp", "pauliexp")} | {"PauliEvolution", "mcphase"}
    assert expected <= seen, expected - seen


def test_random_qiskit_native_circuits_match_statevector() -> None:
    engines = _engines()
    mismatches: list[str] = []
    for seed in range(NATIVE_CIRCUITS):
        qc = random_native_circuit(seed)
        payload = _to_payload(qc, "native")
        assert {g["gate"] for g in payload["circuit"]} <= {"gpi", "gpi2", "ms", "zz"}
        _check(payload, Statevector(qc).probabilities(), engines, f"native seed {seed}", mismatches)
    assert mismatches == [], (
        f"{len(mismatches)} mismatches out of {NATIVE_CIRCUITS} circuits: {mismatches[:10]}"
    )


def test_converter_sends_what_we_expect() -> None:
    """Pins the wire shapes this check relies on (cp → z + rotation + controls, mcx → x + controls)."""
    qc = QuantumCircuit(4)
    qc.cp(0.5, 0, 1)
    qc.mcx([0, 1, 2], 3)
    qc.csx(2, 0)
    ops = _to_payload(qc, "qis")["circuit"]
    assert ops[0] == {"gate": "z", "controls": [0], "targets": [1], "rotation": 0.5}
    assert ops[1]["gate"] == "x" and ops[1]["controls"] == [0, 1, 2] and ops[1]["targets"] == [3]
    assert ops[2]["gate"] == "v" and ops[2]["controls"] == [2]
