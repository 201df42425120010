"""OpenQASM 2 and 3 programs in the circuit model: same unitary as qiskit's reading, the classical
layout clients read results by, and errors that name the line and the construct."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from qumulus.circuits import CircuitError, parse_input
from qumulus.circuits.classical import Binary, Bits, Const, evaluate
from qumulus.circuits.gates import circuit_unitary
from qumulus.circuits.model import IfElse, Operation, WhileLoop

QASM3 = "ionq.qasm3.v1"


def _one(data: str, **extra: object):
    return parse_input(QASM3, {"data": data, **extra}).circuits[0]


def _random_qiskit(n: int, depth: int, seed: int):
    from qiskit.circuit.random import random_circuit

    return random_circuit(n, depth, max_operands=3, measure=False, seed=seed)


@pytest.mark.parametrize("seed", range(12))
def test_qasm3_from_qiskit_has_qiskits_unitary(seed: int) -> None:
    """Random qiskit circuits (every standard gate, controlled ones included) written by
    ``qiskit.qasm3.dumps``, as qiskit-ionq sends them: the parsed circuit has the same unitary."""
    from qiskit import qasm3
    from qiskit.quantum_info import Operator

    qc = _random_qiskit(4, 6, seed)
    circuit = _one(qasm3.dumps(qc))
    assert circuit.is_unitary and circuit.qubits == 4
    ours = circuit_unitary(circuit)
    theirs = Operator(qc).data  # little endian, like ours
    overlap = np.trace(ours.conj().T @ theirs) / 16
    assert abs(abs(overlap) - 1) < 1e-9


@pytest.mark.parametrize("seed", range(6))
def test_qasm2_from_qiskit_has_qiskits_unitary(seed: int) -> None:
    from qiskit import qasm2
    from qiskit.quantum_info import Operator

    qc = _random_qiskit(3, 5, 100 + seed)
    circuit = parse_input(None, {"format": "openqasm", "data": qasm2.dumps(qc)}).circuits[0]
    overlap = np.trace(circuit_unitary(circuit).conj().T @ Operator(qc).data) / 8
    assert abs(abs(overlap) - 1) < 1e-9


def test_qiskit_ionq_mid_circuit_body_parses_with_registers(monkeypatch: pytest.MonkeyPatch) -> None:
    """The exact body qiskit-ionq builds for a circuit with a mid-circuit measurement and a reset."""
    import json
    import warnings

    monkeypatch.setenv("IONQ_API_URL", "http://127.0.0.1:9/v0.4")  # its width probe fails fast

    from qiskit import ClassicalRegister, QuantumCircuit, QuantumRegister
    from qiskit_ionq import IonQProvider
    from qiskit_ionq.helpers import qiskit_to_ionq

    q, a, b = QuantumRegister(2, "q"), ClassicalRegister(1, "mid"), ClassicalRegister(2, "c")
    qc = QuantumCircuit(q, a, b)
    qc.h(0)
    qc.measure(0, a[0])
    qc.reset(0)
    qc.cx(0, 1)
    qc.measure([0, 1], [b[0], b[1]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        backend = IonQProvider(token="x").get_backend("simulator")
        body = json.loads(qiskit_to_ionq(qc, backend, passed_args={"shots": 100}))
    assert body["type"] == QASM3
    circuit = parse_input(body["type"], body["input"]).circuits[0]
    assert circuit.clbits == 3
    assert dict(circuit.cregs) == {"mid": (0,), "c": (1, 2)}
    names = [op.name for op in circuit.operations]
    assert names == ["h", "measure", "reset", "x", "measure", "measure"]
    assert circuit.split_terminal_measurements() is None  # qubit 0 is used after its measurement


def test_terminal_measurements_split_off() -> None:
    circuit = _one(
        'OPENQASM 3.0; include "stdgates.inc"; qubit[3] q; bit[2] c; h q[0]; cx q[0], q[2];'
        " c[1] = measure q[0]; c[0] = measure q[2];"
    )
    split = circuit.split_terminal_measurements()
    assert split is not None
    unitary, measured = split
    assert unitary.is_unitary and unitary.qubits == 3
    assert measured == ((0, 1), (2, 0))
    assert circuit.gate_counts() == {"1q": 1, "2q": 1}


def test_control_flow_becomes_model_nodes() -> None:
    circuit = _one(
        'OPENQASM 3.0; include "stdgates.inc"; qubit[2] q; bit[2] c;\n'
        "h q[0]; c[0] = measure q[0];\n"
        "if (c[0]) { x q[1]; } else { h q[1]; }\n"
        "while (c[0]) { h q[0]; c[0] = measure q[0]; }\n"
        "c[1] = measure q[1];"
    )
    kinds = [type(op).__name__ for op in circuit.operations]
    assert kinds == ["Operation", "Operation", "IfElse", "WhileLoop", "Operation"]
    branch = circuit.operations[2]
    assert isinstance(branch, IfElse)
    assert branch.then == (Operation("x", (1,)),) and branch.orelse == (Operation("h", (1,)),)
    loop = circuit.operations[3]
    assert isinstance(loop, WhileLoop) and len(loop.body) == 2
    assert circuit.has_control_flow and not circuit.is_unitary
    assert circuit.gate_counts() == {"1q": 4}


def test_for_loops_unroll_with_their_variable() -> None:
    circuit = _one(
        'OPENQASM 3.0; include "stdgates.inc"; qubit[1] q; bit c;\n'
        "for int i in {1, 2, 3} { rx(i * 0.25) q[0]; }\nc = measure q[0];"
    )
    rotations = [op.params[0] for op in circuit.operations if op.name == "rx"]
    assert rotations == pytest.approx([0.25, 0.5, 0.75])


def test_register_conditions_evaluate_little_endian() -> None:
    circuit = parse_input(
        None,
        {
            "format": "openqasm",
            "data": 'OPENQASM 2.0; include "qelib1.inc"; qreg q[2]; creg c[2];'
            " measure q -> c; if (c == 2) x q[0];",
        },
    ).circuits[0]
    branch = circuit.operations[-1]
    assert isinstance(branch, IfElse)
    assert branch.condition == Binary("==", Bits((0, 1)), Const(2))
    assert evaluate(branch.condition, 0b10) == 1  # clbit 1 set: c == 2
    assert evaluate(branch.condition, 0b01) == 0


def test_declared_qubits_widen_but_never_narrow() -> None:
    program = 'OPENQASM 3.0; include "stdgates.inc"; qubit[2] q; h q[0];'
    assert _one(program, qubits=5).qubits == 5
    with pytest.raises(CircuitError) as info:
        _one(program, qubits=1)
    assert info.value.path == "input.qubits"


def test_width_limit_applies() -> None:
    with pytest.raises(CircuitError) as info:
        parse_input(QASM3, {"data": "OPENQASM 3.0; qubit[30] q;"}, max_qubits=29)
    assert "30 qubits" in str(info.value)


# (id, program, words the message must contain: the line and the construct)
ERRORS = [
    (
        "syntax",
        'OPENQASM 3.0;\ninclude "stdgates.inc";\nqubit[2] q;\nh q[0]\ncx q[0], q[1];',
        ["line 5", "'cx'"],
    ),
    ("unknown-gate", 'OPENQASM 3.0;\ninclude "stdgates.inc";\nqubit[2] q;\nfoo q[0];', ["line 4", "'foo'"]),
    ("arity", 'OPENQASM 3.0;\ninclude "stdgates.inc";\nqubit[2] q;\nh q[0];\ncx q[0];', ["line 5", "'cx'"]),
    ("undeclared", 'OPENQASM 3.0;\ninclude "stdgates.inc";\nqubit[2] q;\nh r[0];', ["line 4", "'r'"]),
    ("switch", "OPENQASM 3.0;\nqubit[1] q;\nint i = 1;\nswitch (i) { case 1 { } }", ["line 3", "int"]),
    ("qasm2", 'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[2];\nfoo q[0];', ["line 4", "'foo'"]),
    ("not-text", 42, ["string"]),
]


@pytest.mark.parametrize(("program", "words"), [(p, w) for _, p, w in ERRORS], ids=[e[0] for e in ERRORS])
def test_errors_name_line_and_construct(program: object, words: list[str]) -> None:
    with pytest.raises(CircuitError) as info:
        parse_input(QASM3, {"data": program})
    assert info.value.path == "input.data"
    for word in words:
        assert word in str(info.value)


def test_parsing_openqasm_does_not_load_the_parser_at_import() -> None:
    """``qumulus.circuits`` (the client install's view of circuits) never imports numpy or qiskit."""
    code = (
        "import sys, qumulus.circuits, qumulus.circuits.openqasm;"
        "bad = [m for m in ('numpy', 'qiskit', 'openqasm3') if m in sys.modules];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
