"""QCQP constraints turned into a penalty on measured bit strings (what ``ionq.problems`` sends).

``ionq.problems.QuadraticProgram`` minimises ``xᵀQx`` over bit strings under linear constraints
``a·x ≤ b`` and quadratic ones ``xᵀPx + r·x ≤ c``. It sends the objective as an Ising Hamiltonian
(``x_j → (I − Z_j)/2``, variable ``j`` on qubit ``j``) plus the constraints and a ``penalty``
weight, and leaves the constraints to the server. The server adds, for every measured bit string
``x``, ``penalty · Σ_j max(0, violation_j(x))`` to the energy: the same positive-part violations
the package's own ``compute_violations`` and ``is_feasible`` use, so a state the package calls
feasible is never penalised and the penalised minimum is the feasible optimum once the penalty
outweighs what breaking a constraint can gain. The penalty is diagonal in the computational basis,
so it is read from the group measured without a basis change.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class LinearConstraint:
    coeffs: tuple[float, ...]
    rhs: float


@dataclass(frozen=True, slots=True)
class QuadraticConstraint:
    quadratic: tuple[tuple[float, ...], ...]
    linear: tuple[float, ...]
    rhs: float


#: The weight ``ionq.problems.QuadraticProgram.quantum_function_objective`` uses when none is given.
DEFAULT_PENALTY = 10.0


@dataclass(frozen=True, slots=True)
class Penalty:
    weight: float
    linear: tuple[LinearConstraint, ...] = ()
    quadratic: tuple[QuadraticConstraint, ...] = ()

    def violation(self, index: int, qubits: int) -> float:
        """Σ positive parts of every constraint's ``lhs − rhs`` for basis state ``index``."""
        x = [(index >> q) & 1 for q in range(qubits)]
        total = 0.0
        for c in self.linear:
            lhs = sum(a * xi for a, xi in zip(c.coeffs, x, strict=False)) - c.rhs
            if lhs > 1e-9:
                total += lhs
        for c in self.quadratic:
            lhs = -c.rhs
            for i, row in enumerate(c.quadratic):
                if x[i]:
                    lhs += sum(p * xj for p, xj in zip(row, x, strict=False))
            lhs += sum(r * xi for r, xi in zip(c.linear, x, strict=False))
            if lhs > 1e-9:
                total += lhs
        return total

    def term(self, index: int, qubits: int) -> float:
        """What the penalty adds to the energy of basis state ``index``."""
        return self.weight * self.violation(index, qubits)
