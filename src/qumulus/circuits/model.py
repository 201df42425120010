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

**Measurement.** An IonQ JSON circuit has no classical bits (``clbits == 0``): every qubit is measured
once, at the end, and an outcome is the integer of the qubits' bits. A program with explicit
measurements (OpenQASM) declares ``clbits`` classical bits, grouped into named registers
(``cregs``); its outcome is the integer of the *classical* bits (bit ``c`` of the outcome is clbit
``c``, little endian again), and it may hold, besides gates:

* ``Operation("measure", (q,), clbits=(c,))``: measure qubit ``q`` into clbit ``c`` (anywhere in the
  circuit: a mid-circuit measurement collapses the state);
* ``Operation("reset", (q,))``: put qubit ``q`` back to |0⟩;
* :class:`IfElse` and :class:`WhileLoop`: classical control on the bits measured so far, with a
  condition from :mod:`qumulus.circuits.classical`. ``for`` loops have constant bounds in OpenQASM
  and are unrolled by the parser, so no engine sees them.

Which engine runs what (docs/simulation.md): a unitary circuit (``Circuit.is_unitary``) runs on any
engine; measurements that nothing follows (``Circuit.split_terminal_measurements``) are sampled from
the final state; anything else (mid-circuit measurement, reset, control flow) needs per-shot
execution, which only the trajectory engines do.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from operator import attrgetter

from qumulus.circuits.classical import Expr

#: One-qubit gates without a parameter.
FIXED_1Q = frozenset({"x", "y", "z", "h", "s", "si", "t", "ti", "v", "vi"})
#: One-qubit rotations taking ``rotation`` (radians). ``phase`` is P(θ).
ROTATIONS_1Q = frozenset({"rx", "ry", "rz", "phase"})
#: Two-qubit Ising rotations exp(-iθ/2·P⊗P), ``rotation`` in radians.
ISING_2Q = frozenset({"xx", "yy", "zz"})
#: Native trapped-ion gates (phases in turns).
NATIVE = frozenset({"gpi", "gpi2", "ms"})
GATES = FIXED_1Q | ROTATIONS_1Q | ISING_2Q | NATIVE | {"swap", "pauliexp"}
#: Operations that are not gates: they act on the state non-unitarily (and ``measure`` on a clbit).
NON_UNITARY = frozenset({"measure", "reset"})
ALL_OPERATIONS = GATES | NON_UNITARY


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

    ``clbits`` is set on ``measure`` only: the classical bit each target's outcome is written to.
    """

    name: str
    targets: tuple[int, ...]
    controls: tuple[int, ...] = ()
    params: tuple[float, ...] = ()
    terms: tuple[str, ...] = ()
    clbits: tuple[int, ...] = ()

    @property
    def qubits(self) -> tuple[int, ...]:
        """Every qubit the operation touches, controls first."""
        return self.controls + self.targets

    @property
    def arity(self) -> int:
        return len(self.controls) + len(self.targets)

    @property
    def is_gate(self) -> bool:
        """A unitary gate (not ``measure`` or ``reset``)."""
        return self.name not in NON_UNITARY


@dataclass(frozen=True, slots=True)
class IfElse:
    """``if (condition) { then } else { orelse }``, decided per shot on the bits measured so far."""

    condition: Expr
    then: tuple[Instruction, ...]
    orelse: tuple[Instruction, ...] = ()
    name: str = field(default="if", init=False)


@dataclass(frozen=True, slots=True)
class WhileLoop:
    """``while (condition) { body }``; engines stop a shot after ``MAX_LOOP_ITERATIONS`` rounds."""

    condition: Expr
    body: tuple[Instruction, ...]
    name: str = field(default="while", init=False)


#: What a circuit's ``operations`` hold: gates, measure/reset, and classical control.
Instruction = Operation | IfElse | WhileLoop
#: A shot that runs a ``while`` body more often than this fails (a program that never ends).
MAX_LOOP_ITERATIONS = 10_000


@dataclass(frozen=True, slots=True)
class Circuit:
    """A circuit on ``qubits`` qubits.

    With ``clbits == 0`` (IonQ JSON) every qubit is measured at the end. With ``clbits > 0`` the
    circuit says what is measured where (``measure`` operations), see the module docstring.
    """

    qubits: int
    operations: tuple[Instruction, ...]
    gateset: str = "qis"
    name: str | None = None
    #: Classical register layout sent by some clients; echoed, not interpreted.
    registers: dict[str, list[int]] | None = field(default=None, compare=False)
    #: Classical bits written by ``measure`` (0: IonQ semantics, every qubit measured at the end).
    clbits: int = 0
    #: Named classical registers in declaration order: ``(name, (clbit, ...))``, element ``i`` of the
    #: tuple being bit ``i`` of the register (what the per-shot register results are keyed by).
    cregs: tuple[tuple[str, tuple[int, ...]], ...] = ()
    #: ``is_unitary`` computed once (routing asks several times per job).
    _unitary: bool | None = field(default=None, init=False, compare=False, repr=False)

    def gate_counts(self) -> dict[str, int]:
        """Gate counts by arity, the ``stats.gate_counts`` shape IonQ reports (``1q``, ``2q``...).

        Measurements and resets are not gates; gates inside control flow count once each.
        """
        counts: dict[str, int] = {}
        for op in iter_operations(self.operations):
            if op.name in NON_UNITARY:
                continue
            key = f"{op.arity}q"
            counts[key] = counts.get(key, 0) + 1
        return counts

    @property
    def is_unitary(self) -> bool:
        """Only gates: any engine can run it, and its outcome is the qubits' bits."""
        if self._unitary is None:
            # Every instruction has a ``name`` ("if"/"while" for control flow): one C-level pass.
            object.__setattr__(self, "_unitary", _NOT_GATES.isdisjoint(map(_NAME, self.operations)))
        return self._unitary  # type: ignore[return-value]

    @property
    def has_control_flow(self) -> bool:
        return not _CONTROL_FLOW.isdisjoint(map(_NAME, self.operations))

    @property
    def measures_explicitly(self) -> bool:
        """Outcomes are classical bits (``clbits > 0``) rather than every qubit."""
        return self.clbits > 0

    def split_terminal_measurements(self) -> tuple[Circuit, tuple[tuple[int, int], ...]] | None:
        """``(unitary circuit, ((qubit, clbit), ...))`` when every measurement is terminal.

        Terminal: no gate, reset or later measurement touches the qubit after it is measured, and
        there is no control flow. Such a program is a unitary followed by one joint measurement, so
        an engine samples it from the final state (no per-shot simulation). ``None`` otherwise (it
        needs trajectories). A clbit written twice keeps the last write, as on hardware.
        """
        if self.has_control_flow:
            return None
        gates: list[Operation] = []
        measured: dict[int, int] = {}  # qubit -> clbit, in order of measurement
        for op in self.operations:
            assert type(op) is Operation
            if op.name == "measure":
                for q, c in zip(op.targets, op.clbits, strict=True):
                    if q in measured:
                        return None
                    measured[q] = c
                continue
            if op.name == "reset" or any(q in measured for q in op.qubits):
                return None
            gates.append(op)
        unitary = Circuit(self.qubits, tuple(gates), self.gateset, self.name)
        return unitary, tuple(measured.items())


_NAME = attrgetter("name")
_CONTROL_FLOW = frozenset({"if", "while"})
_NOT_GATES = NON_UNITARY | _CONTROL_FLOW


def iter_operations(instructions: tuple[Instruction, ...]) -> Iterator[Operation]:
    """Every :class:`Operation`, control-flow bodies included (each written once)."""
    for ins in instructions:
        if type(ins) is Operation:
            yield ins
        elif type(ins) is IfElse:
            yield from iter_operations(ins.then)
            yield from iter_operations(ins.orelse)
        else:
            yield from iter_operations(ins.body)  # type: ignore[union-attr]


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
