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
from typing import Any

import numpy as np

from qumulus.circuits.classical import Expr, evaluate
from qumulus.circuits.model import MAX_LOOP_ITERATIONS, Circuit, IfElse, Instruction, Operation, WhileLoop
from qumulus.sim.engine import Samples
from qumulus.sim.sampling import sample_from_probabilities


class LoopLimitExceeded(RuntimeError):
    """A ``while`` loop ran more than ``MAX_LOOP_ITERATIONS`` times in one shot."""


# The flattened program: ("op", Operation) | ("jump_unless", Expr, target) | ("jump", target, loop).
_Step = tuple[Any, ...]


def flatten(instructions: tuple[Instruction, ...]) -> list[_Step]:
    """``if``/``while`` as conditional jumps; a backward jump carries the loop's id (for the cap)."""
    steps: list[_Step] = []
    _flatten(instructions, steps)
    return steps


def _flatten(instructions: tuple[Instruction, ...], steps: list[_Step]) -> None:
    for ins in instructions:
        if type(ins) is Operation:
            steps.append(("op", ins))
        elif type(ins) is IfElse:
            branch = len(steps)
            steps.append(("jump_unless", ins.condition, -1))
            _flatten(ins.then, steps)
            if ins.orelse:
                skip = len(steps)
                steps.append(("jump", -1, None))
                steps[branch] = ("jump_unless", ins.condition, len(steps))
                _flatten(ins.orelse, steps)
                steps[skip] = ("jump", len(steps), None)
            else:
                steps[branch] = ("jump_unless", ins.condition, len(steps))
        else:
            assert type(ins) is WhileLoop
            top = len(steps)
            steps.append(("jump_unless", ins.condition, -1))
            _flatten(ins.body, steps)
            steps.append(("jump", top, top))
            steps[top] = ("jump_unless", ins.condition, len(steps))


@dataclass
class _Branch:
    state: Any
    bits: int
    shots: int
    pc: int
    loops: dict[int, int]


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
        self, circuit: Circuit, shots: int, seed: int | None = None, *, max_bytes: int | None = None
    ) -> Samples:
        """``shots`` outcomes over the classical bits (over the qubits when ``clbits == 0``)."""
        import qulacs

        from qumulus.sim.qulacs_engine import _qulacs_gate

        rng = np.random.default_rng(seed)
        operations = circuit.operations
        explicit = circuit.measures_explicitly
        steps, tail = _split_tail(flatten(operations)) if explicit else (flatten(operations), [])
        if not explicit:  # IonQ semantics: every qubit at the end
            tail = [(q, q) for q in range(circuit.qubits)]
        bits_out = circuit.clbits if explicit else circuit.qubits
        gates: dict[int, Any] = {}
        results: list[tuple[int, np.ndarray]] = []  # (bits of the branch, sampled basis states)
        state_bytes = 16 << circuit.qubits
        stack = [_Branch(qulacs.QuantumState(circuit.qubits), 0, shots, 0, {})]
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
                if op.name == "measure" or op.name == "reset":
                    other = _split(branch, op, rng)
                    if other is not None:
                        if max_bytes is not None and state_bytes * (len(stack) + 3) > max_bytes:
                            raise MemoryError(
                                f"{len(stack) + 2} measurement branches of {circuit.qubits} qubits "
                                "do not fit in memory"
                            )
                        stack.append(other)
                    continue
                gate = gates.get(id(op))
                if gate is None:
                    gate = gates[id(op)] = _qulacs_gate(op)
                gate.update_quantum_state(branch.state)
            if branch.shots:
                results.append((branch.bits, _sample_tail(branch, rng)))
        return _assemble(results, tail, bits_out, rng)


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
        copy = _Branch(branch.state.copy(), branch.bits, ones, branch.pc, dict(branch.loops))
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
