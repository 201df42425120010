"""Hamiltonians as weighted Pauli strings, measured in qubit-wise commuting groups.

Conventions (those of the ``ionq`` package, which takes them from qiskit's ``SparsePauliOp``): a
Pauli string's **rightmost** character acts on qubit 0, and a basis-state index is little endian
(bit ``q`` of the index is qubit ``q``), as everywhere on the wire.

Why qubit-wise commuting (QWC) groups: two strings commute qubit-wise when on every qubit they
agree or one is ``I``; all terms of such a group are diagonal in one product basis, so one circuit
(the ansatz followed by a basis change per qubit) measures every term of the group from the same
shots. Finding the fewest groups is graph colouring (NP-hard); the greedy first-fit below, with
terms taken by decreasing weight (the order qiskit's ``group_commuting(qubit_wise=True)`` uses),
is what the libraries do and gives the optimum on molecular Hamiltonians of this size (H2: 2).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

PAULIS = frozenset("IXYZ")


@dataclass(frozen=True, slots=True)
class PauliTerm:
    """``coefficient · P`` with ``P`` a Pauli string (rightmost character on qubit 0)."""

    pauli: str
    coefficient: float

    def on(self, qubit: int) -> str:
        """The factor acting on ``qubit``."""
        return self.pauli[len(self.pauli) - 1 - qubit]

    @property
    def support(self) -> tuple[int, ...]:
        """Qubits where the factor is not the identity."""
        n = len(self.pauli)
        return tuple(q for q in range(n) if self.pauli[n - 1 - q] != "I")


@dataclass(frozen=True, slots=True)
class Hamiltonian:
    terms: tuple[PauliTerm, ...]
    qubits: int

    def identity_part(self) -> float:
        return sum(t.coefficient for t in self.terms if not t.support)


@dataclass(frozen=True, slots=True)
class MeasurementGroup:
    """Terms measured from one circuit: ``basis[q]`` is the Pauli measured on qubit ``q`` (``Z`` where
    no term of the group acts)."""

    basis: tuple[str, ...]
    terms: tuple[PauliTerm, ...]

    @property
    def diagonal(self) -> bool:
        """Measured in the computational basis (no basis change)."""
        return all(b == "Z" for b in self.basis)


def group_qubit_wise(hamiltonian: Hamiltonian, *, need_z_basis: bool = False) -> list[MeasurementGroup]:
    """Greedy first-fit into qubit-wise commuting groups (identity terms need no measurement).

    ``need_z_basis``: make sure one group is measured in the computational basis (the QCQP penalty
    is a function of the measured bit strings, read from that circuit).
    """
    n = hamiltonian.qubits
    ordered = sorted(
        (t for t in hamiltonian.terms if t.support), key=lambda t: -abs(t.coefficient)
    )  # stable: equal weights keep their given order
    bases: list[list[str]] = []
    members: list[list[PauliTerm]] = []
    for term in ordered:
        for basis, group in zip(bases, members, strict=True):
            if all(term.on(q) == "I" or basis[q] in ("I", term.on(q)) for q in range(n)):
                for q in term.support:
                    basis[q] = term.on(q)
                group.append(term)
                break
        else:
            basis = ["I"] * n
            for q in term.support:
                basis[q] = term.on(q)
            bases.append(basis)
            members.append([term])
    groups = [
        MeasurementGroup(tuple("Z" if b == "I" else b for b in basis), tuple(group))
        for basis, group in zip(bases, members, strict=True)
    ]
    if need_z_basis and not any(g.diagonal for g in groups):
        groups.append(MeasurementGroup(("Z",) * n, ()))
    return groups


def parity(index: int, support: Sequence[int]) -> int:
    """+1 or -1: the eigenvalue of a product of Z on ``support`` for basis state ``index``."""
    ones = 0
    for q in support:
        ones += (index >> q) & 1
    return -1 if ones & 1 else 1


@dataclass(frozen=True, slots=True)
class GroupEstimate:
    value: float
    #: Variance of one shot's outcome of the group's observable (Σ c_i P_i): divide by the shots
    #: for the variance of the mean.
    single_shot_variance: float


def estimate_group(
    group: MeasurementGroup,
    probabilities: Mapping[int, float],
    extra: Callable[[int], float] | None = None,
) -> GroupEstimate:
    """⟨Σ c_i P_i⟩ and its one-shot variance from the distribution measured after the basis change.

    After the change every factor of the group is Z, so each term's eigenvalue on outcome ``k`` is
    the parity of ``k`` on the term's support; the observable is diagonal: O(k) = Σ c_i parity_i(k).
    ``extra(k)`` adds a diagonal term of the caller's (the QCQP penalty).
    """
    mean = 0.0
    square = 0.0
    total = 0.0
    for index, p in probabilities.items():
        if p <= 0:
            continue
        o = 0.0
        for term in group.terms:
            o += term.coefficient * parity(index, term.support)
        if extra is not None:
            o += extra(index)
        mean += p * o
        square += p * o * o
        total += p
    if total > 0 and not math.isclose(total, 1.0, rel_tol=1e-9):
        mean, square = mean / total, square / total
    return GroupEstimate(mean, max(0.0, square - mean * mean))


def exact_matrix(hamiltonian: Hamiltonian):  # type: ignore[no-untyped-def]
    """The dense matrix (little endian), for tests and the exact ground energy of small problems."""
    import numpy as np

    single = {
        "I": np.eye(2),
        "X": np.array([[0, 1], [1, 0]], dtype=complex),
        "Y": np.array([[0, -1j], [1j, 0]], dtype=complex),
        "Z": np.diag([1.0, -1.0]).astype(complex),
    }
    dim = 2**hamiltonian.qubits
    total = np.zeros((dim, dim), dtype=complex)
    for term in hamiltonian.terms:
        m = np.array([[1.0 + 0j]])
        for ch in term.pauli:  # leftmost = highest qubit = most significant in kron order
            m = np.kron(m, single[ch])
        total += term.coefficient * m
    return total
