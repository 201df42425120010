"""The real client serializers' output parses, and means what the client meant.

Each client's own circuit is turned into an IonQ payload by the client's own code, parsed here, and
its unitary (``gates.circuit_unitary``, little-endian) compared with the client's own unitary of the
same circuit. That checks the parser and the gate definitions end to end, not just that nothing
raised.
"""

from __future__ import annotations

import json
import math

import cirq
import numpy as np
import pennylane as qml
import pytest
import scipy.linalg
from cirq_ionq import ionq_native_gates as cirq_native
from cirq_ionq.serializer import Serializer
from pennylane_ionq import ops as pl_native
from pennylane_ionq.device import SimulatorDevice
from qiskit import QuantumCircuit
from qiskit.circuit.library import PauliEvolutionGate
from qiskit.quantum_info import Operator, SparsePauliOp
from qiskit_ionq.helpers import qiskit_circ_to_ionq_circ
from qiskit_ionq.ionq_gates import GPI2Gate, GPIGate, MSGate, ZZGate

from qumulus.circuits import parse_input
from qumulus.circuits.gates import circuit_unitary

from ._util import assert_equal_up_to_phase, parse_single


def _wire(payload: dict) -> dict:
    """What actually crosses the network: JSON text, parsed back (numpy floats become floats)."""
    return json.loads(json.dumps(payload, default=float))


# --- qiskit-ionq ----------------------------------------------------------------------------------


def _qiskit_payload(qc: QuantumCircuit, gateset: str = "qis", synthesis: bool = False) -> dict:
    gates, _num_meas, _meas_map = qiskit_circ_to_ionq_circ(
        qc, gateset=gateset, ionq_compiler_synthesis=synthesis
    )
    # qiskit-ionq's IonQClient.submit_job wraps the list like this (§3.3).
    return _wire({"gateset": gateset, "qubits": qc.num_qubits, "circuit": gates})


def _qiskit_qis_circuit() -> QuantumCircuit:
    qc = QuantumCircuit(4, name="many")
    qc.h(0)
    qc.x(1)
    qc.cx(0, 2)
    qc.ccx(0, 1, 3)
    qc.cp(0.7, 3, 1)
    qc.rz(0.3, 2)
    qc.rxx(1.1, 0, 3)
    qc.sx(1)
    qc.sxdg(2)
    qc.swap(1, 3)
    qc.p(-0.4, 0)
    qc.t(1)
    qc.tdg(2)
    qc.s(3)
    qc.sdg(0)
    qc.y(1)
    qc.z(2)
    qc.ry(0.9, 3)
    qc.rx(-1.3, 0)
    qc.cy(2, 1)
    qc.cz(3, 0)
    qc.ch(1, 2)
    qc.crx(0.5, 0, 1)
    qc.cry(0.6, 1, 2)
    qc.crz(0.7, 2, 3)
    qc.csx(3, 0)
    qc.ryy(0.8, 1, 2)
    qc.rzz(-0.9, 3, 0)
    qc.mcx([0, 1, 2], 3)
    qc.mcp(1.2, [3, 2], 0)
    qc.id(1)
    qc.barrier()
    operator = SparsePauliOp(["XZ", "ZX", "YY"], coeffs=[0.3, -0.8, 0.5])  # commuting terms
    qc.append(PauliEvolutionGate(operator, time=0.45), [2, 0])
    qc.append(PauliEvolutionGate(SparsePauliOp(["IXZ", "ZII"], coeffs=[1.0, 0.25]), time=0.2), [3, 1, 0])
    return qc


@pytest.mark.filterwarnings("ignore::scipy.sparse.SparseEfficiencyWarning")  # qiskit's own Operator()
def test_qiskit_qis_gates_parse_and_match_qiskit_unitary() -> None:
    qc = _qiskit_qis_circuit()
    measured = qc.copy()
    measured.measure_all()
    payload = _qiskit_payload(measured)
    names = {g["gate"] for g in payload["circuit"]}
    assert {"x", "z", "pauliexp", "xx", "v", "vi", "si", "ti"} <= names
    assert "cnot" not in names  # qiskit sends x + controls, and z + rotation for p/cp
    circuit = parse_single(payload)
    assert circuit.qubits == 4
    assert {op.name for op in circuit.operations} >= {
        "phase",
        "pauliexp",
        "v",
        "vi",
        "xx",
        "yy",
        "zz",
        "swap",
    }
    np.testing.assert_allclose(circuit_unitary(circuit), Operator(qc).data, atol=1e-10)


def test_qiskit_non_commuting_pauli_evolution_is_exact() -> None:
    operator = SparsePauliOp(["XY", "ZI", "YZ"], coeffs=[0.4, -0.7, 1.1])
    qc = QuantumCircuit(3)
    qc.append(PauliEvolutionGate(operator, time=0.8), [1, 2])
    circuit = parse_single(_qiskit_payload(qc, synthesis=True))
    (op,) = circuit.operations
    assert op.name == "pauliexp"
    assert op.targets == (1, 2)
    # SparsePauliOp.to_matrix is little-endian over the gate's qubits (1, 2); lift to 3 qubits.
    expected = np.kron(scipy.linalg.expm(-0.8j * operator.to_matrix()), np.eye(2))
    np.testing.assert_allclose(circuit_unitary(circuit), expected, atol=1e-12)


def test_qiskit_native_gates_parse_and_match_qiskit_unitary() -> None:
    qc = QuantumCircuit(3)
    qc.append(GPIGate(0.1), [0])
    qc.append(GPI2Gate(-0.35), [2])
    qc.append(MSGate(0.2, 0.7, 0.125), [2, 0])
    qc.append(MSGate(0.0, 0.25), [0, 1])  # default angle
    qc.append(ZZGate(0.15), [1, 2])
    qc.append(ZZGate(-0.2), [2, 0])
    payload = _qiskit_payload(qc, gateset="native")
    assert {g["gate"] for g in payload["circuit"]} == {"gpi", "gpi2", "ms", "zz"}
    assert any("target" in g for g in payload["circuit"])  # qiskit's singular form for gpi/gpi2
    circuit = parse_single(payload)
    assert circuit.gateset == "native"
    np.testing.assert_allclose(circuit_unitary(circuit), Operator(qc).data, atol=1e-12)


def test_qiskit_multi_circuit_shape() -> None:
    """qiskit-ionq sends a list of circuits as ``input.circuits`` with names and per-circuit qubits."""
    first = QuantumCircuit(2, name="bell")
    first.h(0)
    first.cx(0, 1)
    second = QuantumCircuit(3, name="ghz")
    second.h(0)
    second.cx(0, 1)
    second.cx(1, 2)
    circuits = []
    for qc in (first, second):
        gates, _, _ = qiskit_circ_to_ionq_circ(qc)
        circuits.append({"name": qc.name, "qubits": qc.num_qubits, "circuit": gates})
    batch = parse_input("ionq.multi-circuit.v1", _wire({"gateset": "qis", "qubits": 3, "circuits": circuits}))
    assert [(c.name, c.qubits) for c in batch.circuits] == [("bell", 2), ("ghz", 3)]
    for circuit, qc in zip(batch.circuits, (first, second), strict=True):
        np.testing.assert_allclose(circuit_unitary(circuit), Operator(qc).data, atol=1e-12)


# --- cirq-ionq -------------------------------------------------------------------------------------


def _cirq_little_endian_unitary(circuit: cirq.Circuit, qubits: int) -> np.ndarray:
    q = cirq.LineQubit.range(qubits)
    unitary_part = cirq.Circuit(op for op in circuit.all_operations() if not cirq.is_measurement(op))
    return unitary_part.unitary(qubit_order=list(reversed(q)))


def _cirq_qis_circuit() -> cirq.Circuit:
    q = cirq.LineQubit.range(4)
    return cirq.Circuit(
        cirq.H(q[0]),
        cirq.CNOT(q[0], q[2]),
        cirq.X(q[1]) ** 0.5,
        cirq.X(q[3]) ** -0.5,
        cirq.X(q[2]) ** 0.3,
        cirq.Y(q[1]),
        cirq.Y(q[0]) ** 0.2,
        cirq.Z(q[3]),
        cirq.S(q[0]),
        cirq.S(q[1]) ** -1,
        cirq.T(q[2]),
        cirq.T(q[3]) ** -1,
        cirq.Z(q[0]) ** 0.7,
        cirq.rx(0.4).on(q[1]),
        cirq.ry(-0.6).on(q[2]),
        cirq.rz(1.3).on(q[3]),
        cirq.XX(q[0], q[3]) ** 0.3,
        cirq.YY(q[2], q[1]) ** 0.4,
        cirq.ZZ(q[1], q[3]) ** 0.1,
        cirq.SWAP(q[0], q[1]),
        cirq.X(q[0]),
        cirq.PauliStringPhasor(
            cirq.X(q[0]) * cirq.Z(q[2]) * cirq.Y(q[3]), exponent_neg=0.3, exponent_pos=-0.2
        ),
        cirq.measure(q[0], q[1], key="a"),
        cirq.measure(q[2], q[3], key="b"),
    )


def test_cirq_qis_gates_parse_and_match_cirq_unitary() -> None:
    circuit = _cirq_qis_circuit()
    program = Serializer().serialize_single_circuit(circuit)
    payload = _wire(program.input)
    assert {"cnot", "v", "vi", "rx", "pauliexp"} <= {g["gate"] for g in payload["circuit"]}
    parsed = parse_single(payload)
    # cirq's XPowGate etc. differ from exp(-iθP/2) by global phases: compare up to one.
    assert_equal_up_to_phase(circuit_unitary(parsed), _cirq_little_endian_unitary(circuit, 4))


def test_cirq_native_gates_parse_and_match_cirq_unitary() -> None:
    q = cirq.LineQubit.range(3)
    circuit = cirq.Circuit(
        cirq_native.GPIGate(phi=0.1).on(q[0]),
        cirq_native.GPI2Gate(phi=-0.4).on(q[2]),
        cirq_native.MSGate(phi0=0.2, phi1=0.6, theta=0.1).on(q[2], q[0]),
        cirq_native.MSGate(phi0=0.0, phi1=0.5).on(q[0], q[1]),
        cirq_native.ZZGate(theta=0.15).on(q[1], q[2]),  # cirq sends zz's angle as "phase"
        cirq.measure(*q, key="m"),
    )
    payload = _wire(Serializer().serialize_single_circuit(circuit).input)
    assert payload["gateset"] == "native"
    assert any(g["gate"] == "zz" and "phase" in g and "angle" not in g for g in payload["circuit"])
    parsed = parse_single(payload)
    np.testing.assert_allclose(circuit_unitary(parsed), _cirq_little_endian_unitary(circuit, 3), atol=1e-12)


def test_cirq_batch_parses_as_multi_circuit() -> None:
    q = cirq.LineQubit.range(3)
    small = cirq.Circuit(cirq.H(q[0]), cirq.CNOT(q[0], q[1]), cirq.measure(q[0], q[1], key="m"))
    large = _cirq_qis_circuit()
    program = Serializer().serialize_many_circuits([small, large])
    batch = parse_input("ionq.multi-circuit.v1", _wire(program.input))
    assert batch.multi
    assert batch.qubits == 4
    # cirq puts qubits only at the top level (the max); each circuit takes it as its width.
    assert [c.qubits for c in batch.circuits] == [4, 4]
    assert_equal_up_to_phase(circuit_unitary(batch.circuits[0]), _cirq_little_endian_unitary(small, 4))
    assert_equal_up_to_phase(circuit_unitary(batch.circuits[1]), _cirq_little_endian_unitary(large, 4))


# --- pennylane-ionq --------------------------------------------------------------------------------


def _pennylane_input(monkeypatch: pytest.MonkeyPatch, wires: int, ops: list, gateset: str = "qis") -> dict:
    device = SimulatorDevice(wires=wires, api_key="unused", shots=100, gateset=gateset)
    monkeypatch.setattr(device, "_submit_job", lambda: None)  # no network: keep the body it built
    device.apply(ops)
    assert device.job["type"] == "ionq.circuit.v1"
    return _wire(device.job["input"])


def _pennylane_little_endian_unitary(ops: list, wires: int) -> np.ndarray:
    tape = qml.tape.QuantumScript(ops)
    return qml.matrix(tape, wire_order=list(reversed(range(wires))))


@pytest.mark.filterwarnings("ignore:The 'num_steps' argument")
def test_pennylane_qis_gates_parse_and_match_pennylane_unitary(monkeypatch: pytest.MonkeyPatch) -> None:
    hamiltonian = qml.PauliX(0) @ qml.PauliZ(2) + 0.5 * qml.PauliY(1)
    ops = [
        qml.Hadamard(0),
        qml.CNOT([0, 1]),
        qml.PauliX(2),
        qml.PauliY(1),
        qml.PauliZ(0),
        qml.RX(0.3, 2),
        qml.RY(-0.5, 0),
        qml.RZ(1.1, 1),
        qml.S(2),
        qml.T(0),
        qml.SX(1),
        qml.SWAP([0, 2]),
        qml.IsingXX(0.2, [0, 2]),
        qml.IsingYY(-0.7, [1, 0]),
        qml.IsingZZ(0.9, [2, 1]),
        qml.evolve(hamiltonian, 0.7),
    ]
    payload = _pennylane_input(monkeypatch, 3, ops)
    assert any("target" in g and "targets" not in g for g in payload["circuit"])
    parsed = parse_single(payload)
    assert_equal_up_to_phase(circuit_unitary(parsed), _pennylane_little_endian_unitary(ops, 3))


def test_pennylane_native_gates_parse_and_match_pennylane_unitary(monkeypatch: pytest.MonkeyPatch) -> None:
    ops = [
        pl_native.GPI(0.1, wires=0),
        pl_native.GPI2(-0.3, wires=1),
        pl_native.MS(0.2, 0.45, 0.15, wires=[1, 0]),
        pl_native.MS(0.0, 0.25, wires=[0, 1]),
    ]
    payload = _pennylane_input(monkeypatch, 2, ops, gateset="native")
    parsed = parse_single(payload)
    assert parsed.gateset == "native"
    # pennylane-ionq's GPI/GPI2 define no matrix and its MS matrix is wrong (spec §10.3): the reference
    # is the same circuit built from cirq-ionq's gates, which follow the spec.
    np.testing.assert_allclose(circuit_unitary(parsed), _native_reference(ops, 2), atol=1e-12)


def _native_reference(ops: list, wires: int) -> np.ndarray:
    """The same circuit built from cirq-ionq's native gates (spec-exact), little-endian."""
    q = cirq.LineQubit.range(wires)
    cirq_ops = []
    for op in ops:
        qubits = [q[w] for w in op.wires]
        params = [float(p) for p in op.parameters]
        if op.name == "GPI":
            cirq_ops.append(cirq_native.GPIGate(phi=params[0]).on(*qubits))
        elif op.name == "GPI2":
            cirq_ops.append(cirq_native.GPI2Gate(phi=params[0]).on(*qubits))
        else:
            cirq_ops.append(cirq_native.MSGate(phi0=params[0], phi1=params[1], theta=params[2]).on(*qubits))
    return cirq.Circuit(cirq_ops).unitary(qubit_order=list(reversed(q)))


def test_angles_survive_json() -> None:
    """A sanity check of the helper: numpy floats in client payloads are plain floats on the wire."""
    assert _wire({"a": np.float64(math.pi)}) == {"a": math.pi}
