"""Gate matrices: unitary, big-endian over the targets, and equal to the closed forms of spec §10."""

from __future__ import annotations

import math
import random

import cirq
import numpy as np
import pytest
import scipy.linalg
from cirq_ionq import ionq_native_gates as cirq_native
from qiskit_ionq import ionq_gates as qiskit_native

from qumulus.circuits import Circuit, Operation
from qumulus.circuits.gates import apply, circuit_unitary, controlled_matrix, matrix, pauli_sum, sigma

from ._util import assert_equal_up_to_phase, assert_unitary, big_to_little

I2 = np.eye(2)
X = np.array([[0, 1], [1, 0]], dtype=complex)
Y = np.array([[0, -1j], [1j, 0]])
Z = np.diag([1.0 + 0j, -1.0])

FIXED_1Q = ["x", "y", "z", "h", "s", "si", "t", "ti", "v", "vi"]
ROT_1Q = ["rx", "ry", "rz", "phase"]


def _every_op(rng: random.Random) -> list[Operation]:
    theta = rng.uniform(-7, 7)
    ops = [Operation(name, (0,)) for name in FIXED_1Q]
    ops += [Operation(name, (0,), (), (theta,)) for name in ROT_1Q]
    ops += [Operation(name, (0, 1), (), (theta,)) for name in ("xx", "yy", "zz")]
    ops += [Operation("swap", (0, 1))]
    ops += [
        Operation("gpi", (0,), (), (rng.uniform(-1, 1),)),
        Operation("gpi2", (0,), (), (rng.uniform(-1, 1),)),
    ]
    ops += [Operation("ms", (0, 1), (), (rng.uniform(-1, 1), rng.uniform(-1, 1), rng.uniform(0, 0.25)))]
    ops += [Operation("pauliexp", (0, 1, 2), (), (rng.uniform(0, 3), 0.3, -1.2, 0.7), ("XYZ", "IZX", "YYI"))]
    return ops


def test_every_gate_is_unitary() -> None:
    rng = random.Random(5)
    for _ in range(20):
        for op in _every_op(rng):
            m = matrix(op)
            assert m.shape == (2 ** len(op.targets),) * 2
            assert_unitary(m)
            controlled = Operation(op.name, tuple(q + 3 for q in op.targets), (0, 1, 2), op.params, op.terms)
            full = controlled_matrix(controlled)
            assert full.shape == (m.shape[0] * 8,) * 2
            assert_unitary(full)


def test_unknown_gate() -> None:
    with pytest.raises(ValueError, match="no matrix"):
        matrix(Operation("cx", (0, 1)))


def test_fixed_matrices_are_read_only() -> None:
    with pytest.raises(ValueError):
        matrix(Operation("x", (0,)))[0, 0] = 5


# --- closed forms --------------------------------------------------------------------------------


def test_one_qubit_closed_forms() -> None:
    m = {name: matrix(Operation(name, (0,))) for name in FIXED_1Q}
    np.testing.assert_allclose(m["s"], np.diag([1, 1j]))
    np.testing.assert_allclose(m["si"], np.diag([1, -1j]))
    np.testing.assert_allclose(m["t"], np.diag([1, np.exp(1j * math.pi / 4)]))
    np.testing.assert_allclose(m["ti"], np.diag([1, np.exp(-1j * math.pi / 4)]))
    np.testing.assert_allclose(m["t"] @ m["t"], m["s"])
    np.testing.assert_allclose(m["s"] @ m["s"], Z)
    np.testing.assert_allclose(m["v"], 0.5 * np.array([[1 + 1j, 1 - 1j], [1 - 1j, 1 + 1j]]))
    np.testing.assert_allclose(m["v"] @ m["v"], X, atol=1e-15)  # √X
    np.testing.assert_allclose(m["vi"], m["v"].conj().T)
    np.testing.assert_allclose(m["h"] @ X @ m["h"], Z, atol=1e-15)


@pytest.mark.parametrize("theta", [0.0, 0.3, -1.7, math.pi, 5.0])
def test_rotations_and_phase(theta: float) -> None:
    for name, pauli in (("rx", X), ("ry", Y), ("rz", Z)):
        expected = scipy.linalg.expm(-0.5j * theta * pauli)
        np.testing.assert_allclose(matrix(Operation(name, (0,), (), (theta,))), expected, atol=1e-15)
    phase = matrix(Operation("phase", (0,), (), (theta,)))
    np.testing.assert_allclose(phase, np.diag([1, np.exp(1j * theta)]))
    # P(θ) is RZ(θ) up to a global phase, but not equal to it (matters once controlled).
    assert_equal_up_to_phase(phase, matrix(Operation("rz", (0,), (), (theta,))))
    for name, pauli in (("xx", X), ("yy", Y), ("zz", Z)):
        expected = scipy.linalg.expm(-0.5j * theta * np.kron(pauli, pauli))
        np.testing.assert_allclose(matrix(Operation(name, (0, 1), (), (theta,))), expected, atol=1e-14)


def test_controlled_phase_is_not_controlled_rz() -> None:
    cp = controlled_matrix(Operation("phase", (1,), (0,), (math.pi / 2,)))
    np.testing.assert_allclose(cp, np.diag([1, 1, 1, 1j]))
    crz = controlled_matrix(Operation("rz", (1,), (0,), (math.pi / 2,)))
    relative = np.diag(cp @ crz.conj().T)  # both diagonal: equal up to phase iff this is constant
    assert not np.allclose(relative, relative[0])


def test_sigma() -> None:
    for phi in (0.0, 0.1, -0.4, 0.75):
        angle = 2 * math.pi * phi
        np.testing.assert_allclose(sigma(phi), math.cos(angle) * X + math.sin(angle) * Y, atol=1e-15)


def test_gpi_and_gpi2() -> None:
    for phi in (0.0, 0.125, -0.3, 1.0):
        gpi = matrix(Operation("gpi", (0,), (), (phi,)))
        gpi2 = matrix(Operation("gpi2", (0,), (), (phi,)))
        e = np.exp(2j * math.pi * phi)
        np.testing.assert_allclose(gpi, [[0, 1 / e], [e, 0]])
        np.testing.assert_allclose(gpi2, np.array([[1, -1j / e], [-1j * e, 1]]) / math.sqrt(2))
        np.testing.assert_allclose(gpi2 @ gpi2, -1j * gpi, atol=1e-15)  # GPI2² = −i·GPI
    np.testing.assert_allclose(matrix(Operation("gpi", (0,), (), (0.0,))), X)
    np.testing.assert_allclose(matrix(Operation("gpi", (0,), (), (0.25,))), Y, atol=1e-15)


def test_ms_closed_forms() -> None:
    ms = matrix(Operation("ms", (0, 1), (), (0.0, 0.0, 0.25)))
    np.testing.assert_allclose(ms, scipy.linalg.expm(-0.25j * math.pi * np.kron(X, X)), atol=1e-15)
    np.testing.assert_allclose(ms, (np.eye(4) - 1j * np.kron(X, X)) / math.sqrt(2), atol=1e-15)
    # Fully entangling: |00⟩ → (|00⟩ − i|11⟩)/√2.
    np.testing.assert_allclose(ms[:, 0], np.array([1, 0, 0, -1j]) / math.sqrt(2), atol=1e-15)
    # φ0 acts on targets[0] (the high bit in big-endian order).
    phi0, phi1, theta = 0.1, 0.35, 0.2
    ms = matrix(Operation("ms", (0, 1), (), (phi0, phi1, theta)))
    expected = scipy.linalg.expm(-1j * math.pi * theta * np.kron(sigma(phi0), sigma(phi1)))
    np.testing.assert_allclose(ms, expected, atol=1e-14)
    assert not np.allclose(ms, matrix(Operation("ms", (0, 1), (), (phi1, phi0, theta))))
    np.testing.assert_allclose(matrix(Operation("ms", (0, 1), (), (0.3, 0.1, 0.0))), np.eye(4), atol=1e-15)


def test_native_zz_closed_form() -> None:
    """Stored as QIS zz with rotation 2π·angle: ZZ(θ) = diag(e^{−iπθ}, e^{iπθ}, e^{iπθ}, e^{−iπθ})."""
    for angle in (0.25, -0.1, 0.9):
        m = matrix(Operation("zz", (0, 1), (), (2 * math.pi * angle,)))
        a = np.exp(-1j * math.pi * angle)
        np.testing.assert_allclose(m, np.diag([a, 1 / a, 1 / a, a]), atol=1e-15)


# --- pauliexp ----------------------------------------------------------------------------------------


def test_pauliexp_rightmost_letter_acts_on_first_target() -> None:
    t, c = 0.4, 1.5
    op = Operation("pauliexp", (0, 1), (), (t, c), ("IZ",))  # Z on targets[0]
    np.testing.assert_allclose(matrix(op), scipy.linalg.expm(-1j * t * c * np.kron(Z, I2)), atol=1e-14)
    op = Operation("pauliexp", (0, 1), (), (t, c), ("XY",))  # Y on targets[0], X on targets[1]
    np.testing.assert_allclose(matrix(op), scipy.linalg.expm(-1j * t * c * np.kron(Y, X)), atol=1e-14)


def test_pauliexp_non_commuting_terms_are_exact() -> None:
    terms, coefficients, t = ("XZI", "ZYX", "IIY"), (0.7, -0.3, 1.1), 0.9
    op = Operation("pauliexp", (2, 0, 1), (), (t, *coefficients), terms)
    expected = scipy.linalg.expm(-1j * t * pauli_sum(terms, coefficients))
    np.testing.assert_allclose(matrix(op), expected, atol=1e-12)
    h = pauli_sum(terms, coefficients)
    np.testing.assert_allclose(h, h.conj().T)
    # "ZYX": X on targets[0] (high bit), Y on targets[1], Z on targets[2].
    np.testing.assert_allclose(pauli_sum(("ZYX",), (1.0,)), np.kron(np.kron(X, Y), Z))


def test_pauliexp_matches_cirq_pauli_string_phasor() -> None:
    q = cirq.LineQubit.range(3)
    # exp(-i·t·Z0 X2) via cirq: PauliStringPhasor with exponent_neg = t/π·... built from the string.
    t = 0.37
    string = cirq.Z(q[0]) * cirq.X(q[2])
    phasor = cirq.PauliStringPhasor(string, exponent_neg=t / math.pi, exponent_pos=-t / math.pi)
    expected = cirq.unitary(cirq.Circuit(phasor, cirq.I.on_each(*q)))  # big-endian over q0, q1, q2
    # IonQ term over targets (0, 1, 2): rightmost letter on qubit 0.
    op = Operation("pauliexp", (0, 1, 2), (), (t, 1.0), ("XIZ",))
    np.testing.assert_allclose(matrix(op), expected, atol=1e-12)


# --- against the clients' own matrices ------------------------------------------------------------


def test_native_gates_match_cirq_ionq() -> None:
    """cirq is big-endian, like ``matrix``: compare directly."""
    for phi in (0.0, 0.1, -0.7):
        np.testing.assert_allclose(
            matrix(Operation("gpi", (0,), (), (phi,))), cirq.unitary(cirq_native.GPIGate(phi=phi))
        )
        np.testing.assert_allclose(
            matrix(Operation("gpi2", (0,), (), (phi,))),
            cirq.unitary(cirq_native.GPI2Gate(phi=phi)),
            atol=1e-15,
        )
    for phi0, phi1, theta in ((0.1, 0.2, 0.25), (-0.3, 0.8, 0.1), (0.0, 0.5, 0.05)):
        np.testing.assert_allclose(
            matrix(Operation("ms", (0, 1), (), (phi0, phi1, theta))),
            cirq.unitary(cirq_native.MSGate(phi0=phi0, phi1=phi1, theta=theta)),
            atol=1e-15,
        )
    for theta in (0.25, -0.1):
        np.testing.assert_allclose(
            matrix(Operation("zz", (0, 1), (), (2 * math.pi * theta,))),
            cirq.unitary(cirq_native.ZZGate(theta=theta)),
            atol=1e-15,
        )


def test_native_gates_match_qiskit_ionq() -> None:
    """qiskit matrices are little-endian over the gate's qubits: reorder before comparing."""
    for phi in (0.0, 0.1, -0.7):
        np.testing.assert_allclose(
            matrix(Operation("gpi", (0,), (), (phi,))), np.asarray(qiskit_native.GPIGate(phi))
        )
        np.testing.assert_allclose(
            matrix(Operation("gpi2", (0,), (), (phi,))), np.asarray(qiskit_native.GPI2Gate(phi))
        )
    for phi0, phi1, theta in ((0.1, 0.2, 0.25), (-0.3, 0.8, 0.1)):
        ours = matrix(Operation("ms", (0, 1), (), (phi0, phi1, theta)))
        np.testing.assert_allclose(
            big_to_little(ours), np.asarray(qiskit_native.MSGate(phi0, phi1, theta)), atol=1e-15
        )
    ours = matrix(Operation("zz", (0, 1), (), (2 * math.pi * 0.2,)))
    np.testing.assert_allclose(big_to_little(ours), np.asarray(qiskit_native.ZZGate(0.2)), atol=1e-15)


def test_qis_gates_match_cirq() -> None:
    theta = 0.83
    pairs = {
        "x": cirq.X,
        "y": cirq.Y,
        "z": cirq.Z,
        "h": cirq.H,
        "s": cirq.S,
        "si": cirq.S**-1,
        "t": cirq.T,
        "ti": cirq.T**-1,
        "v": cirq.XPowGate(exponent=0.5),
        "vi": cirq.XPowGate(exponent=-0.5),
    }
    for name, gate in pairs.items():
        np.testing.assert_allclose(matrix(Operation(name, (0,))), cirq.unitary(gate), atol=1e-15)
    np.testing.assert_allclose(
        matrix(Operation("rx", (0,), (), (theta,))), cirq.unitary(cirq.rx(theta)), atol=1e-15
    )
    np.testing.assert_allclose(
        matrix(Operation("ry", (0,), (), (theta,))), cirq.unitary(cirq.ry(theta)), atol=1e-15
    )
    np.testing.assert_allclose(
        matrix(Operation("rz", (0,), (), (theta,))), cirq.unitary(cirq.rz(theta)), atol=1e-15
    )
    np.testing.assert_allclose(
        matrix(Operation("phase", (0,), (), (theta,))),
        cirq.unitary(cirq.ZPowGate(exponent=theta / math.pi)),
        atol=1e-15,
    )
    for name, gate in (("xx", cirq.XXPowGate), ("yy", cirq.YYPowGate), ("zz", cirq.ZZPowGate)):
        expected = cirq.unitary(gate(exponent=theta / math.pi, global_shift=-0.5))
        np.testing.assert_allclose(matrix(Operation(name, (0, 1), (), (theta,))), expected, atol=1e-15)
    np.testing.assert_allclose(matrix(Operation("swap", (0, 1))), cirq.unitary(cirq.SWAP))


# --- controls and ordering -------------------------------------------------------------------------


def test_controlled_matrix_is_big_endian_controls_first() -> None:
    cnot = controlled_matrix(Operation("x", (1,), (0,)))
    np.testing.assert_allclose(cnot, [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, 1], [0, 0, 1, 0]])
    toffoli = controlled_matrix(Operation("x", (2,), (0, 1)))
    np.testing.assert_allclose(toffoli, cirq.unitary(cirq.TOFFOLI))
    cswap = controlled_matrix(Operation("swap", (1, 2), (0,)))
    np.testing.assert_allclose(cswap, cirq.unitary(cirq.FREDKIN))
    assert controlled_matrix(Operation("h", (0,))) is matrix(Operation("h", (0,)))


def test_circuit_unitary_is_little_endian() -> None:
    bell = Circuit(2, (Operation("h", (0,)), Operation("x", (1,), (0,))))
    state = circuit_unitary(bell)[:, 0]
    np.testing.assert_allclose(state, np.array([1, 0, 0, 1]) / math.sqrt(2), atol=1e-15)
    flip = circuit_unitary(Circuit(3, (Operation("x", (0,)),)))[:, 0]
    assert np.argmax(np.abs(flip)) == 1  # qubit 0 is the least significant bit
    flip = circuit_unitary(Circuit(3, (Operation("x", (2,)),)))[:, 0]
    assert np.argmax(np.abs(flip)) == 4


def test_apply_on_scattered_qubits_matches_cirq() -> None:
    """A 3-qubit gate on qubits (3, 0, 2) of 4, checked against cirq with a little-endian qubit order."""
    rng = random.Random(9)
    op = Operation("pauliexp", (0, 2), (3,), (0.6, 0.4, -1.0), ("XZ", "YY"))
    ms = Operation("ms", (2, 1), (), (rng.random(), rng.random(), 0.2))
    circuit = Circuit(4, (Operation("h", (1,)), op, ms, Operation("phase", (0,), (2, 3), (0.7,))))
    q = cirq.LineQubit.range(4)
    # cirq: a gate on (q[a], q[b]) takes a big-endian matrix over (a, b), exactly our convention.
    cirq_ops = [
        cirq.MatrixGate(controlled_matrix(o)).on(*[q[i] for i in o.controls + o.targets])
        for o in circuit.operations
    ]
    expected = cirq.Circuit(cirq_ops).unitary(qubit_order=list(reversed(q)))  # little-endian
    np.testing.assert_allclose(circuit_unitary(circuit), expected, atol=1e-12)
    state = np.zeros(16, dtype=np.complex128)
    state[0] = 1
    for o in circuit.operations:
        state = apply(state, o, 4)
    np.testing.assert_allclose(state, expected[:, 0], atol=1e-12)
