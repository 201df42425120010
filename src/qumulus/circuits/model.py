"""The platform's own circuit model: what every layer above ``circuits`` speaks.

The IonQ wire formats (``ionq.circuit.v1``, ``ionq.multi-circuit.v1``, v0.3 ``ionq.circuit.v0``) are
parsed into these objects once, at the edge, so engines, the compiler and the scheduler never see
client quirks (``target`` vs ``targets``, string shots, native ``zz`` in ``angle`` or ``phase``...).

Conventions, fixed here and nowhere else:

* Qubit ``0`` is the least significant bit of a basis-state index (little endian), as on the wire.
* QIS rotations are in **radians**. Native phases (``gpi``, ``gpi2``, ``ms``) are in **turns**.
* A native ``zz`` is stored as the QIS ``zz`` with ``rotation = 2π·angle``: both are
  ``exp(-i·θ/2·Z⊗Z)``, so one definition serves both gatesets.
* ``z`` with a rotation on the wire is the phase gate ``P(θ) = diag(1, e^{iθ})`` and is stored as
  ``phase``; ``not`` and ``cnot`` are stored as ``x`` (with controls for ``cnot``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: One-qubit gates without a parameter.
FIXED_1Q = frozenset({"x", "y", "z", "h", "s", "si", "t", "ti", "v", "vi"})
#: One-qubit rotations taking ``rotation`` (radians). ``phase`` is P(θ).
ROTATIONS_1Q = frozenset({"rx", "ry", "rz", "phase"})
#: Two-qubit Ising rotations exp(-iθ/2·P⊗P), ``rotation`` in radians.
ISING_2Q = frozenset({"xx", "yy", "zz"})
#: Native trapped-ion gates (phases in turns).
NATIVE = frozenset({"gpi", "gpi2", "ms"})
ALL_OPERATIONS = FIXED_1Q | ROTATIONS_1Q | ISING_2Q | NATIVE | {"swap", "pauliexp"}


@dataclass(frozen=True, slots=True)
class Operation:
    """One gate application.

    ``params`` by kind:

    * ``rx``/``ry``/``rz``/``phase``/``xx``/``yy``/``zz``: ``(rotation,)`` in radians;
    * ``gpi``/``gpi2``: ``(phase,)`` in turns;
    * ``ms``: ``(phase0, phase1, angle)`` in turns;
    * ``pauliexp``: ``(time, coefficient_0, coefficient_1, ...)`` with ``terms`` holding the Pauli
      strings (rightmost character acts on ``targets[0]``);
    * everything else: ``()``.
    """

    name: str
    targets: tuple[int, ...]
    controls: tuple[int, ...] = ()
    params: tuple[float, ...] = ()
    terms: tuple[str, ...] = ()

    @property
    def qubits(self) -> tuple[int, ...]:
        """Every qubit the operation touches, controls first."""
        return self.controls + self.targets

    @property
    def arity(self) -> int:
        return len(self.controls) + len(self.targets)


@dataclass(frozen=True, slots=True)
class Circuit:
    """A circuit on ``qubits`` qubits; every qubit is measured at the end (IonQ semantics)."""

    qubits: int
    operations: tuple[Operation, ...]
    gateset: str = "qis"
    name: str | None = None
    #: Classical register layout sent by some clients; echoed, not interpreted.
    registers: dict[str, list[int]] | None = field(default=None, compare=False)

    def gate_counts(self) -> dict[str, int]:
        """Gate counts by arity, the ``stats.gate_counts`` shape IonQ reports (``1q``, ``2q``...)."""
        counts: dict[str, int] = {}
        for op in self.operations:
            key = f"{op.arity}q"
            counts[key] = counts.get(key, 0) + 1
        return counts


@dataclass(frozen=True, slots=True)
class CircuitBatch:
    """What one job asks to run: one circuit, or several (a multi-circuit parent)."""

    circuits: tuple[Circuit, ...]
    multi: bool

    @property
    def qubits(self) -> int:
        return max((c.qubits for c in self.circuits), default=0)

    def gate_counts(self) -> dict[str, int]:
        total: dict[str, int] = {}
        for circuit in self.circuits:
            for key, value in circuit.gate_counts().items():
                total[key] = total.get(key, 0) + value
        return total
