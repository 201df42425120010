"""What a ``pauliexp`` costs, and the form in which a wide one runs (issue 17.3).

``exp(-i·t·Σ c_k P_k)`` written as one dense unitary costs ``4^n`` memory and ``8^n`` time in its
width ``n`` (the eigendecomposition in ``gates._pauliexp``; qiskit's synthesis for the emulated
QPUs is worse): 12 targets ran 84 s and 13 grew to 5.4 GiB. So:

* a pauliexp whose terms all commute and that has no controls is *lowered* before it runs
  (:func:`lower_circuit`): it is exactly the product of one rotation per term, and each
  ``exp(-iθP)`` is a basis change, a CNOT ladder, one ``rz`` and the way back — ``O(n)`` gates
  per term, whatever ``n``, and an ordinary circuit for every engine and for the native compiler;
* any other pauliexp (terms that do not commute, or controls) needs the dense matrix, and is
  refused at submission wider than :data:`MAX_DENSE_TARGETS` qubits (the emulated QPUs, which
  must also synthesise it into native gates, refuse it wider than :data:`MAX_EMULATED_DENSE_QUBITS`:
  ``services/jobs/preflight.py``);
* a pauliexp has at most :data:`MAX_TERMS` terms, and counts as its lowered gates toward the
  gate limit (:func:`weight`).
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Iterable

from qumulus.circuits.model import Circuit, IfElse, Instruction, Operation, WhileLoop

#: Widest pauliexp that runs as one dense unitary (1024 × 1024: a fraction of a second).
MAX_DENSE_TARGETS = 10
#: Widest dense pauliexp (qubits, controls included) the emulated QPUs take: the native compiler
#: synthesises it, at a cost growing like 4^n two-qubit gates.
MAX_EMULATED_DENSE_QUBITS = 4
#: Most terms in one pauliexp.
MAX_TERMS = 1024


def _masks(term: str) -> tuple[int, int]:
    """(x bits, z bits) of a Pauli string, bit j for character j."""
    x = z = 0
    for j, letter in enumerate(term):
        if letter in "XY":
            x |= 1 << j
        if letter in "ZY":
            z |= 1 << j
    return x, z


def commute(terms: Iterable[str]) -> bool:
    """Whether every pair of Pauli strings commutes (an even number of anticommuting positions)."""
    masks = [_masks(t) for t in terms]
    for i, (xa, za) in enumerate(masks):
        for xb, zb in masks[i + 1 :]:
            if ((xa & zb) ^ (za & xb)).bit_count() & 1:
                return False
    return True


def lowerable(op: Operation) -> bool:
    """Whether a pauliexp runs as rotations (commuting terms, no controls)."""
    return op.name == "pauliexp" and not op.controls and commute(op.terms)


def dense(op: Operation) -> bool:
    """Whether a pauliexp needs its dense matrix to run."""
    return op.name == "pauliexp" and not lowerable(op)


def weight(op: Operation) -> int:
    """Gates the operation counts as toward the gate limit: a pauliexp its lowered size."""
    if op.name != "pauliexp":
        return 1
    return max(1, sum(2 * max(0, len(t) - t.count("I")) + 1 for t in op.terms))


def lower(op: Operation) -> list[Operation]:
    """The pauliexp as one ``exp(-i·t·c_k·P_k)`` per term (exact when the terms commute, which the
    caller checks: :func:`lowerable`). Each is a basis change to Z on the term's support, a CNOT
    ladder onto its last qubit, ``rz(2·t·c_k)`` there, and the ladder and basis change undone."""
    time, coefficients = op.params[0], op.params[1:]
    n = len(op.targets)
    out: list[Operation] = []
    for term, coefficient in zip(op.terms, coefficients, strict=True):
        # character j acts on targets[n-1-j] (the rightmost on targets[0])
        support = [(op.targets[n - 1 - j], letter) for j, letter in enumerate(term) if letter != "I"]
        if not support:
            continue  # the identity: a global phase
        theta = time * coefficient
        before: list[Operation] = []
        after: list[Operation] = []
        for qubit, letter in support:
            if letter == "X":
                before.append(Operation("h", (qubit,)))
                after.append(Operation("h", (qubit,)))
            elif letter == "Y":  # rx(π/2) takes Y to Z: rx(-π/2)·Z·rx(π/2) = Y
                before.append(Operation("rx", (qubit,), params=(math.pi / 2,)))
                after.append(Operation("rx", (qubit,), params=(-math.pi / 2,)))
        qubits = [q for q, _ in support]
        ladder = [Operation("x", (b,), controls=(a,)) for a, b in itertools.pairwise(qubits)]
        out += before + ladder + [Operation("rz", (qubits[-1],), params=(2 * theta,))]
        out += list(reversed(ladder)) + after
    return out


def _lower_all(instructions: tuple[Instruction, ...]) -> tuple[tuple[Instruction, ...], bool]:
    out: list[Instruction] = []
    changed = False
    for ins in instructions:
        if type(ins) is Operation:
            if ins.name == "pauliexp" and lowerable(ins):
                out += lower(ins)
                changed = True
            else:
                out.append(ins)
        elif type(ins) is IfElse:
            then, a = _lower_all(ins.then)
            orelse, b = _lower_all(ins.orelse)
            out.append(IfElse(ins.condition, then, orelse) if a or b else ins)
            changed = changed or a or b
        elif type(ins) is WhileLoop:
            body, a = _lower_all(ins.body)
            out.append(WhileLoop(ins.condition, body) if a else ins)
            changed = changed or a
        else:
            out.append(ins)
    return tuple(out), changed


def lower_circuit(circuit: Circuit) -> Circuit:
    """The circuit with every lowerable pauliexp replaced by its rotations (the same unitary up to
    a global phase); the circuit itself when it has none."""
    if not any(op.name == "pauliexp" for op in _ops(circuit.operations)):
        return circuit
    operations, changed = _lower_all(circuit.operations)
    if not changed:
        return circuit
    return dataclasses.replace(circuit, operations=operations)


def _ops(instructions: tuple[Instruction, ...]) -> Iterable[Operation]:
    from qumulus.circuits.model import iter_operations

    return iter_operations(instructions)
