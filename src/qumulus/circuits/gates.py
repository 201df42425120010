"""Exact unitary matrices for every :class:`~qumulus.circuits.model.Operation` (wire spec §10).

One definition per gate, shared by every engine adapter, so the trapped-ion gates (GPI, GPI2, MS,
ZZ) and the IonQ-specific readings (``z`` + rotation = P(θ), ``pauliexp`` term order) are written
down once and checked once.

**Ordering.** :func:`matrix` and :func:`controlled_matrix` are in *textbook (big-endian) order over
the operation's own qubits*: for ``matrix(op)`` the first of ``op.targets`` is the most significant
bit of the row/column index; for ``controlled_matrix(op)`` the order is ``op.controls + op.targets``,
controls first. This is cirq's convention and the one the formulas in the spec are written in. It is
*not* the wire's little-endian basis-state order: an adapter for a little-endian engine (qiskit-aer,
qulacs) passes the qubits reversed, e.g. a 4×4 on ``targets=(a, b)`` goes to Aer as ``[b, a]``.
:func:`circuit_unitary`, a small reference simulator for tests, returns the whole circuit in the
wire's little-endian order (qubit 0 = least significant bit).

Every matrix is ``complex128``.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from qumulus.circuits.model import Circuit, Operation

_I2 = np.eye(2, dtype=np.complex128)
_X = np.array([[0, 1], [1, 0]], dtype=np.complex128)
_Y = np.array([[0, -1j], [1j, 0]], dtype=np.complex128)
_Z = np.array([[1, 0], [0, -1]], dtype=np.complex128)
_H = np.array([[1, 1], [1, -1]], dtype=np.complex128) / math.sqrt(2)
_S = np.diag([1, 1j]).astype(np.complex128)
_T = np.diag([1, np.exp(1j * math.pi / 4)]).astype(np.complex128)
_V = 0.5 * np.array([[1 + 1j, 1 - 1j], [1 - 1j, 1 + 1j]], dtype=np.complex128)  # √X
_SWAP = np.array([[1, 0, 0, 0], [0, 0, 1, 0], [0, 1, 0, 0], [0, 0, 0, 1]], dtype=np.complex128)
_PAULI = {"I": _I2, "X": _X, "Y": _Y, "Z": _Z}

_FIXED: dict[str, np.ndarray] = {
    "x": _X,
    "y": _Y,
    "z": _Z,
    "h": _H,
    "s": _S,
    "si": _S.conj().T,
    "t": _T,
    "ti": _T.conj().T,
    "v": _V,
    "vi": _V.conj().T,
    "swap": _SWAP,
}
for _m in _FIXED.values():
    _m.setflags(write=False)


def _rotation(pauli: np.ndarray, theta: float) -> np.ndarray:
    """exp(-iθ/2·P) for a Pauli product P (P² = I): cos(θ/2)·I − i·sin(θ/2)·P."""
    eye = np.eye(pauli.shape[0], dtype=np.complex128)
    return math.cos(theta / 2) * eye - 1j * math.sin(theta / 2) * pauli


def sigma(phi: float) -> np.ndarray:
    """σ(φ) = cos(2πφ)·X + sin(2πφ)·Y = [[0, e^{−2πiφ}], [e^{2πiφ}, 0]] (φ in turns)."""
    return np.array([[0, np.exp(-2j * math.pi * phi)], [np.exp(2j * math.pi * phi), 0]], dtype=np.complex128)


def _phase(theta: float) -> np.ndarray:
    return np.array([[1, 0], [0, np.exp(1j * theta)]], dtype=np.complex128)


def _gpi(phi: float) -> np.ndarray:
    return sigma(phi)


def _gpi2(phi: float) -> np.ndarray:
    return (_I2 - 1j * sigma(phi)) / math.sqrt(2)


def _ms(phi0: float, phi1: float, angle: float) -> np.ndarray:
    """MS(φ0, φ1, θ) = exp(−iπθ·σ(φ0)⊗σ(φ1)); σ(φ0) on ``targets[0]`` (the high bit)."""
    pair = np.kron(sigma(phi0), sigma(phi1))
    return math.cos(math.pi * angle) * np.eye(4, dtype=np.complex128) - 1j * math.sin(math.pi * angle) * pair


def pauli_sum(terms: tuple[str, ...], coefficients: tuple[float, ...]) -> np.ndarray:
    """Σ c_k·P_k as a big-endian matrix over the targets.

    In an IonQ term string the *rightmost* character acts on ``targets[0]`` (character j of an
    n-letter term acts on ``targets[n−1−j]``). Big-endian order puts ``targets[0]`` first in the
    Kronecker product, so each term is read right to left.
    """
    n = len(terms[0])
    total = np.zeros((1 << n, 1 << n), dtype=np.complex128)
    for term, coefficient in zip(terms, coefficients, strict=True):
        product = np.ones((1, 1), dtype=np.complex128)
        for letter in reversed(term):
            product = np.kron(product, _PAULI[letter])
        total += coefficient * product
    return total


def _pauliexp(op: Operation) -> np.ndarray:
    """exp(−i·time·H), H Hermitian: exact through the eigendecomposition (terms need not commute)."""
    time, coefficients = op.params[0], op.params[1:]
    hamiltonian = pauli_sum(op.terms, coefficients)
    values, vectors = np.linalg.eigh(hamiltonian)
    return (vectors * np.exp(-1j * time * values)) @ vectors.conj().T


_PARAMETRIC: dict[str, Callable[[Operation], np.ndarray]] = {
    "rx": lambda op: _rotation(_X, op.params[0]),
    "ry": lambda op: _rotation(_Y, op.params[0]),
    "rz": lambda op: _rotation(_Z, op.params[0]),
    "phase": lambda op: _phase(op.params[0]),
    "xx": lambda op: _rotation(np.kron(_X, _X), op.params[0]),
    "yy": lambda op: _rotation(np.kron(_Y, _Y), op.params[0]),
    "zz": lambda op: _rotation(np.kron(_Z, _Z), op.params[0]),
    "gpi": lambda op: _gpi(op.params[0]),
    "gpi2": lambda op: _gpi2(op.params[0]),
    "ms": lambda op: _ms(*op.params[:3]),
    "pauliexp": _pauliexp,
}


def matrix(op: Operation) -> np.ndarray:
    """The gate's unitary on ``op.targets`` only (controls excluded), big-endian over the targets.

    Size ``2**len(op.targets)``. Fixed gates return a shared read-only array; copy before writing.
    """
    fixed = _FIXED.get(op.name)
    if fixed is not None:
        return fixed
    build = _PARAMETRIC.get(op.name)
    if build is None:
        raise ValueError(f"no matrix for gate {op.name!r}")
    return build(op)


def controlled_matrix(op: Operation) -> np.ndarray:
    """The full unitary over ``op.controls + op.targets`` (controls first), big-endian.

    The gate acts only when every control is |1⟩: identity everywhere except the last
    ``2**len(targets)`` block, which is :func:`matrix`.
    """
    base = matrix(op)
    if not op.controls:
        return base
    size = base.shape[0] << len(op.controls)
    full = np.eye(size, dtype=np.complex128)
    full[-base.shape[0] :, -base.shape[0] :] = base
    return full


def apply(state: np.ndarray, op: Operation, qubits: int) -> np.ndarray:
    """Apply ``op`` to a little-endian state (or a stack of them along trailing axes).

    ``state`` has ``2**qubits`` rows; any further axes are carried along (a unitary's columns).
    """
    wires = op.controls + op.targets
    k = len(wires)
    gate = controlled_matrix(op).reshape((2,) * (2 * k))
    rest = state.shape[1:]
    tensor = state.reshape((2,) * qubits + rest)
    # Axis a of the C-ordered tensor holds qubit ``qubits - 1 - a`` (little endian).
    axes = [qubits - 1 - q for q in wires]
    moved = np.tensordot(gate, tensor, axes=(list(range(k, 2 * k)), axes))
    # tensordot puts the gate's output axes first, in ``wires`` order: move them back.
    out = np.moveaxis(moved, list(range(k)), axes)
    return out.reshape(state.shape)


def circuit_unitary(circuit: Circuit) -> np.ndarray:
    """The whole circuit's unitary in the wire's little-endian order (qubit 0 = least significant bit).

    A dense reference for tests and small circuits (memory is 16·4**qubits bytes).
    """
    dim = 1 << circuit.qubits
    unitary = np.eye(dim, dtype=np.complex128)
    for op in circuit.operations:
        unitary = apply(unitary, op, circuit.qubits)
    return unitary
