"""Per-shot execution of programs that measure mid-circuit, reset, or branch on what they measured.

Such a program has no single output state: each shot follows its own trajectory. Running every shot
separately would cost ``shots`` full simulations; here shots travel together as long as they agree.
A *branch* is (state vector, classical bits, number of shots, program counter):

* a gate is applied once per branch;
* ``measure q -> c``: P(1) is read from the branch's state, the branch's shots split binomially
  (seeded) between outcome 0 and 1, each part is projected and renormalised; a part with no shots
  is dropped, so a deterministic measurement never copies the state;
* ``reset q`` is a measurement that is not recorded, followed by X on the |1⟩ part;
* ``if``/``while`` are decided per branch: every shot of a branch has the same bits, so the same
  path. The program is flattened into jumps, and a branch that loops more than
  ``MAX_LOOP_ITERATIONS`` times fails the run (a program that never ends);
* the measurements at the very end of the program, on distinct qubits, are sampled per branch from
  its final state in one go (no split per qubit).

Cost follows the number of distinct measurement histories, not the number of shots; memory is one
state per pending branch (depth-first: at most one per measurement on the current path), checked
against ``max_bytes`` before any copy. State vectors are qulacs' (double precision, the lowest
per-call overhead; routing.py has the numbers).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from qumulus.circuits.classical import Expr, clbits_read, evaluate
from qumulus.circuits.model import MAX_LOOP_ITERATIONS, Circuit, IfElse, Instruction, Operation, WhileLoop
from qumulus.sim.engine import Samples

if TYPE_CHECKING:
    from qumulus.sim.noisy_trajectories import DeviceNoise
from qumulus.sim.sampling import sample_from_probabilities


class LoopLimitExceeded(RuntimeError):
    """A ``while`` loop ran more than ``MAX_LOOP_ITERATIONS`` times in one shot."""


# The flattened program: ("op", Operation, waits) | ("jump_unless", Expr, target) | ("jump", target,
# loop); ``waits`` is the set of classical bits the enclosing conditions read (the noisy engine starts
# the operation after their measurements).
_Step = tuple[Any, ...]
_NO_WAITS: frozenset[int] = frozenset()


def flatten(instructions: tuple[Instruction, ...]) -> list[_Step]:
    """``if``/``while`` as conditional jumps; a backward jump carries the loop's id (for the cap)."""
    steps: list[_Step] = []
    _flatten(instructions, steps, _NO_WAITS)
    return steps


def _flatten(instructions: tuple[Instruction, ...], steps: list[_Step], waits: frozenset[int]) -> None:
    for ins in instructions:
        if type(ins) is Operation:
            steps.append(("op", ins, waits))
        elif type(ins) is IfElse:
            inner = waits | clbits_read(ins.condition)
            branch = len(steps)
            steps.append(("jump_unless", ins.condition, -1))
            _flatten(ins.then, steps, inner)
            if ins.orelse:
                skip = len(steps)
                steps.append(("jump", -1, None))
                steps[branch] = ("jump_unless", ins.condition, len(steps))
                _flatten(ins.orelse, steps, inner)
                steps[skip] = ("jump", len(steps), None)
            else:
                steps[branch] = ("jump_unless", ins.condition, len(steps))
        else:
            assert type(ins) is WhileLoop
            top = len(steps)
            steps.append(("jump_unless", ins.condition, -1))
            _flatten(ins.body, steps, waits | clbits_read(ins.condition))
            steps.append(("jump", top, top))
            steps[top] = ("jump_unless", ins.condition, len(steps))


@dataclass
class _Branch:
    state: Any
    bits: int
    shots: int
    pc: int
    loops: dict[int, int]
    #: The branch's timeline on an emulated QPU (``noisy_trajectories.Clock``); None when ideal.
    clock: Any = None

    def fork(self, shots: int) -> _Branch:
        """A copy of this branch (state included) holding ``shots`` of its shots."""
        clock = None if self.clock is None else self.clock.copy()
        return _Branch(self.state.copy(), self.bits, shots, self.pc, dict(self.loops), clock)


class TrajectoryEngine:
    """Runs any program of the model (gates, measure, reset, if, while) shot-faithfully."""

    name = "trajectories"
    precision_bits = 64
    max_qubits = 30

    @staticmethod
    def peak_bytes(qubits: int) -> int:
        """Two states (the branch and one copy) plus the final probabilities."""
        return (16 + 16 + 8) << qubits

    def supports(self, circuit: Circuit) -> bool:
        return circuit.qubits <= self.max_qubits

    def sample(
        self,
        circuit: Circuit,
        shots: int,
        seed: int | None = None,
        *,
        max_bytes: int | None = None,
        noise: DeviceNoise | None = None,
    ) -> Samples:
        """``shots`` outcomes over the classical bits (over the qubits when ``clbits == 0``).

        ``noise``: an emulated QPU's (:mod:`qumulus.sim.noisy_trajectories`; the circuit is then its
        native compilation): branches also split where errors strike, and readout errors flip the
        recorded bits.
        """
        import qulacs

        from qumulus.sim.qulacs_engine import _qulacs_gate

        rng = np.random.default_rng(seed)
        steps, tail, bits_out = program_steps(circuit)
        gates: dict[int, Any] = {}
        results: list[tuple[int, np.ndarray]] = []  # (bits of the branch, sampled basis states)
        state_bytes = 16 << circuit.qubits

        def room(pending: int) -> None:
            if max_bytes is not None and state_bytes * (pending + 3) > max_bytes:
                raise MemoryError(
                    f"{pending + 2} measurement branches of {circuit.qubits} qubits do not fit in memory"
                )

        clock = noise.clock(circuit.qubits) if noise is not None else None
        stack = [_Branch(qulacs.QuantumState(circuit.qubits), 0, shots, 0, {}, clock)]
        while stack:
            branch = stack.pop()
            while branch.pc < len(steps) and branch.shots:
                step = steps[branch.pc]
                kind = step[0]
                if kind == "jump_unless":
                    branch.pc = branch.pc + 1 if evaluate(step[1], branch.bits) else step[2]
                    continue
                if kind == "jump":
                    if step[2] is not None:
                        count = branch.loops.get(step[2], 0) + 1
                        if count > MAX_LOOP_ITERATIONS:
                            raise LoopLimitExceeded(
                                f"a while loop ran more than {MAX_LOOP_ITERATIONS} iterations in one shot"
                            )
                        branch.loops[step[2]] = count
                    branch.pc = step[1]
                    continue
                op = step[1]
                branch.pc += 1
                if noise is not None:
                    _noisy_op(branch, op, step[2], noise, rng, stack, room)
                    continue
                if op.name == "measure" or op.name == "reset":
                    other = _split(branch, op, rng)
                    if other is not None:
                        room(len(stack))
                        stack.append(other)
                    continue
                gate = gates.get(id(op))
                if gate is None:
                    gate = gates[id(op)] = _qulacs_gate(op)
                gate.update_quantum_state(branch.state)
            if not branch.shots:
                continue
            if noise is None:
                results.append((branch.bits, _sample_tail(branch, rng)))
                continue
            ends = [branch]
            pending = len(stack)
            _errors(ends, noise.final(branch.clock), rng, lambda e=ends, n=pending: room(n + len(e)))
            measured = [q for q, _ in tail]
            for member in ends:
                results.append((member.bits, noise.readout(_sample_tail(member, rng), measured, rng)))
        return _assemble(results, tail, bits_out, rng)


def program_steps(circuit: Circuit) -> tuple[list[_Step], list[tuple[int, int]], int]:
    """``(steps, tail, outcome bits)``: the flattened program without its trailing measurements,
    the ``(qubit, clbit)`` pairs those sample from the final state, and the width of an outcome."""
    if circuit.measures_explicitly:
        steps, tail = _split_tail(flatten(circuit.operations))
        return steps, tail, circuit.clbits
    # IonQ semantics: every qubit at the end
    return flatten(circuit.operations), [(q, q) for q in range(circuit.qubits)], circuit.qubits


def _noisy_op(
    branch: _Branch,
    op: Operation,
    waits: frozenset[int],
    noise: DeviceNoise,
    rng: np.random.Generator,
    stack: list[_Branch],
    room: Any,
) -> None:
    """``op`` with the device's noise on ``branch``; branches split off are pushed on ``stack``."""
    step = noise.step(branch.clock, op, waits)
    group = [branch]

    def check() -> None:
        room(len(stack) + len(group))

    _errors(group, step.before, rng, check)
    if op.name == "measure" or op.name == "reset":
        for member in list(group):
            other = _split(member, op, rng)
            parts = [member] if other is None else [member, other]
            if other is not None:
                check()
                group.append(other)
            if op.name == "measure":
                for part in parts:
                    _readout_error(part, op, noise, rng, group, check)
    else:
        if op.name == "rz":
            gates = [noise.gate(op)]
        else:
            gates = [_drift_gate(q, angle) for q, angle in step.drift]
            gates.append(noise.gate(op))
        for member in group:
            for gate in gates:
                gate.update_quantum_state(member.state)
        _errors(group, step.after, rng, check)
    stack.extend(group[1:])


def _drift_gate(q: int, angle: float) -> Any:
    from qumulus.sim.qulacs_engine import _qulacs_gate

    return _qulacs_gate(Operation("rz", (q,), params=(angle,)))


def _errors(group: list[_Branch], locations: list[Any], rng: np.random.Generator, check: Any) -> None:
    """Each location's Pauli errors on every branch of ``group``; the shots hit split off as new
    branches (appended to ``group``, so later locations strike them too)."""
    from qulacs.gate import Pauli

    for qubits, probs in locations:
        rate = 1.0 - float(probs[0])
        for member in list(group):
            hit = int(rng.binomial(member.shots, rate))
            if not hit:
                continue
            dealt = rng.multinomial(hit, probs[1:] / rate)
            codes = [(code + 1, int(k)) for code, k in enumerate(dealt) if k]
            member.shots -= hit
            for index, (code, k) in enumerate(codes):
                if member.shots == 0 and index == len(codes) - 1:
                    target = member  # every shot was hit: the last pattern reuses the state
                else:
                    check()
                    target = member.fork(0)
                    group.append(target)
                target.shots = k
                paulis = [code] if len(qubits) == 1 else [code // 4, code % 4]
                used = [(q, p) for q, p in zip(qubits, paulis, strict=True) if p]
                Pauli([q for q, _ in used], [p for _, p in used]).update_quantum_state(target.state)


def _readout_error(
    branch: _Branch,
    op: Operation,
    noise: DeviceNoise,
    rng: np.random.Generator,
    group: list[_Branch],
    check: Any,
) -> None:
    """The recorded bit of ``branch``'s measurement flips for ``Binomial(shots, p)`` of its shots (a
    copy with the flipped bit); the state stays what it collapsed to."""
    q, c = op.targets[0], op.clbits[0]
    outcome = (branch.bits >> c) & 1
    flips = int(rng.binomial(branch.shots, noise.flip_probability(q, outcome)))
    if not flips:
        return
    if flips == branch.shots:
        branch.bits ^= 1 << c
        return
    check()
    other = branch.fork(flips)
    other.bits ^= 1 << c
    branch.shots -= flips
    group.append(other)


def _split(branch: _Branch, op: Operation, rng: np.random.Generator) -> _Branch | None:
    """Measure (or reset) ``op``'s qubit in ``branch``: its shots go binomially to each outcome.

    ``branch`` becomes the outcome-0 part (or the only part); a second :class:`_Branch` is returned
    when both outcomes got shots.
    """
    from qulacs import gate

    q = op.targets[0]
    p1 = min(1.0, max(0.0, 1.0 - branch.state.get_zero_probability(q)))
    ones = int(rng.binomial(branch.shots, p1))
    zeros = branch.shots - ones
    other = None
    if ones and zeros:
        copy = branch.fork(ones)
        _project(copy, op, 1, gate)
        other = copy
        branch.shots = zeros
        _project(branch, op, 0, gate)
    else:
        _project(branch, op, 1 if ones else 0, gate)
    return other


def _project(branch: _Branch, op: Operation, outcome: int, gate: Any) -> None:
    q = op.targets[0]
    (gate.P1(q) if outcome else gate.P0(q)).update_quantum_state(branch.state)
    branch.state.normalize(branch.state.get_squared_norm())
    if op.name == "measure":
        c = op.clbits[0]
        branch.bits = (branch.bits | (1 << c)) if outcome else (branch.bits & ~(1 << c))
    elif outcome:  # reset: |1⟩ back to |0⟩
        gate.X(q).update_quantum_state(branch.state)


def _split_tail(steps: list[_Step]) -> tuple[list[_Step], list[tuple[int, int]]]:
    """The trailing measurements (each qubit once, nothing after them) are sampled, not split."""
    tail: list[tuple[int, int]] = []
    seen: set[int] = set()
    cut = len(steps)
    jump_targets = {s[2] for s in steps if s[0] == "jump_unless"} | {s[1] for s in steps if s[0] == "jump"}
    while cut > 0:
        step = steps[cut - 1]
        if step[0] != "op" or step[1].name != "measure" or step[1].targets[0] in seen or cut in jump_targets:
            break
        seen.add(step[1].targets[0])
        tail.append((step[1].targets[0], step[1].clbits[0]))
        cut -= 1
    tail.reverse()
    return steps[:cut], tail


def _sample_tail(branch: _Branch, rng: np.random.Generator) -> np.ndarray:
    """The branch's shots drawn from its final state (basis-state indices)."""
    amplitudes = branch.state.get_vector()
    probabilities = amplitudes.real**2 + amplitudes.imag**2
    return sample_from_probabilities(probabilities, branch.shots, int(rng.integers(2**63)))


def _assemble(
    results: list[tuple[int, np.ndarray]], tail: list[tuple[int, int]], bits: int, rng: np.random.Generator
) -> Samples:
    """Every branch's shots as rows of classical bits, shuffled into one shot order."""
    blocks: list[np.ndarray] = []
    for branch_bits, basis in results:
        block = np.zeros((basis.size, bits), dtype=bool)
        for c in range(min(bits, branch_bits.bit_length())):
            if (branch_bits >> c) & 1:
                block[:, c] = True
        for qubit, clbit in tail:
            block[:, clbit] = (basis >> np.uint64(qubit)) & np.uint64(1)
        blocks.append(block)
    array = np.concatenate(blocks) if blocks else np.zeros((0, bits), dtype=bool)
    # Branches were visited depth-first; shots of a real device arrive in no such order.
    array = array[rng.permutation(array.shape[0])]
    return Samples.from_bool(array)


def condition_value(expr: Expr, bits: int) -> bool:
    """Whether a condition holds for these classical bits (exported for tests and other engines)."""
    return bool(evaluate(expr, bits))
