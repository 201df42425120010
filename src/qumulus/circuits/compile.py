"""Compile QIS circuits to a trapped-ion native gateset: GPI, GPI2 and MS (Harmony, Aria) or ZZ (Forte).

How (and why this way):

1. The circuit becomes a qiskit ``QuantumCircuit`` of standard gates (or exact ``unitary`` blocks for
   gates qiskit has no equivalent of: native, multi-controlled exotic, ``pauliexp``).
2. ``qiskit.transpile`` decomposes it to ``rz, sx, x`` plus ``rxx`` (MS devices) or ``rzz`` (ZZ
   devices), merging runs of one-qubit gates (optimization level 1, fixed seed: the same circuit
   always compiles to the same gates, so estimates and bills agree). Qiskit does this well: KAK for
   two-qubit blocks, multi-controlled decompositions, one-qubit resynthesis.
3. A walk over the result maps ``sx`` → GPI2, ``x`` → GPI, ``rxx`` → MS, ``rzz`` → ZZ, and turns every
   ``rz`` into a *virtual* Z: a per-qubit frame pushed to the end of the circuit, shifting the phases
   of the gates it passes (Rz(λ)†·σ(φ)·Rz(λ) = σ(φ − λ/2π); ZZ commutes with it). That is what the
   hardware does: Z rotations cost no time and no error. The frame left at the end does not change
   measured probabilities; :class:`Compiled` returns it so tests can prove exact unitary equivalence.

Programs that measure (OpenQASM): ``measure`` and ``reset`` are kept in place (a Z-basis measurement
commutes with the virtual-Z frame, and a reset qubit starts a fresh frame). Classical control
(``if``/``while``) has no form in IonQ's native gate list, so :func:`compile_native` refuses it
(:class:`ControlFlowNotCompiled`: no ``ionq.native.v1`` artifact for such a program).
:func:`compile_program` is what the emulated QPUs run instead: every straight-line block compiled as
above, the blocks kept inside their ``if``/``while``, and the virtual-Z frame a block leaves turned into
explicit zero-duration ``rz`` operations before the next block (a branch taken or not leaves different
frames, so a frame cannot be carried across a branch point statically; the control system applies it
as a frame update, which costs no time and no error).

``twirl_seed`` (used by debiasing) inserts random Pauli pairs around every CNOT before step 2
(qiskit's ``pauli_twirl_2q_gates``). The circuit's unitary is unchanged, but the native gates
differ per seed, so a coherent error that would add up along the circuit adds up with random
signs instead (a "gate-level symmetry" variant).

qiskit is imported on first use.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

from qumulus.circuits.gates import controlled_matrix, matrix
from qumulus.circuits.model import Circuit, IfElse, Instruction, Operation, WhileLoop, iter_operations
from qumulus.circuits.pauli import lower_circuit

#: Standard qiskit gates with our exact semantics (see qumulus.sim.aer): our name -> qiskit method.
_STANDARD = {
    "x": "x", "y": "y", "z": "z", "h": "h", "s": "s", "si": "sdg", "t": "t", "ti": "tdg",
    "v": "sx", "vi": "sxdg", "rx": "rx", "ry": "ry", "rz": "rz", "phase": "p",
    "xx": "rxx", "yy": "ryy", "zz": "rzz", "swap": "swap",
}  # fmt: skip
#: qiskit's name for our native two-qubit gate.
_ENTANGLER = {"ms": "rxx", "zz": "rzz"}
TWO_PI = 2 * math.pi


@dataclass(frozen=True)
class Compiled:
    """A native circuit and the virtual-Z frame (radians per qubit) left after its last gate.

    ``U_input ≅ (⊗_q Rz(frame[q])) · U_native`` up to a global phase.
    """

    circuit: Circuit
    frame: tuple[float, ...]


class ControlFlowNotCompiled(ValueError):
    """``if``/``while`` have no native-gate form (IonQ refuses them in preflight too)."""


def compile_native(circuit: Circuit, native_2q: str, *, twirl_seed: int | None = None) -> Compiled:
    """``circuit`` in native gates for a device whose entangler is ``native_2q`` (``ms`` or ``zz``).

    A circuit already in the native gateset is returned as it is (the user chose those gates).
    """
    if native_2q not in _ENTANGLER:
        raise ValueError(f"native_2q must be 'ms' or 'zz', got {native_2q!r}")
    if circuit.has_control_flow:
        construct = next(op.name for op in circuit.operations if type(op) is not Operation)
        raise ControlFlowNotCompiled(f"'{construct}' (classical control) cannot be compiled to native gates")
    if circuit.gateset == "native" and twirl_seed is None:
        return Compiled(circuit, (0.0,) * circuit.qubits)
    circuit = lower_circuit(circuit)  # a commuting pauliexp as rotations, not a synthesised unitary
    from qiskit import transpile

    qc = to_qiskit(circuit)
    if twirl_seed is not None:
        from qiskit.circuit import pauli_twirl_2q_gates

        qc = transpile(
            qc,
            basis_gates=["rz", "sx", "x", "cx", "measure", "reset"],
            optimization_level=1,
            seed_transpiler=0,
        )
        qc = pauli_twirl_2q_gates(qc, seed=twirl_seed)
    basis = ["rz", "sx", "x", _ENTANGLER[native_2q], "measure", "reset"]
    out = transpile(qc, basis_gates=basis, optimization_level=1, seed_transpiler=0)
    compiled = _to_native(out, circuit.qubits, circuit.name)
    if circuit.measures_explicitly:
        native = replace(compiled.circuit, clbits=circuit.clbits, cregs=circuit.cregs)
        return Compiled(native, compiled.frame)
    return compiled


def compile_program(circuit: Circuit, native_2q: str, *, twirl_seed: int | None = None) -> Circuit:
    """``circuit`` in native gates, classical control included (see the module docstring).

    Without ``if``/``while`` this is :func:`compile_native`'s circuit. With them, each straight-line
    block is compiled on its own and followed by virtual ``rz`` operations (zero duration, no error)
    for the frame it leaves, except the program's last block, whose frame a measurement ignores.
    """
    if not circuit.has_control_flow:
        return compile_native(circuit, native_2q, twirl_seed=twirl_seed).circuit
    counter = [0]

    def block(instructions: tuple[Instruction, ...], last: bool) -> tuple[Instruction, ...]:
        out: list[Instruction] = []
        run: list[Operation] = []

        def flush(final: bool) -> None:
            if not run:
                return
            seed = None if twirl_seed is None else twirl_seed + counter[0]
            counter[0] += 1
            piece = Circuit(
                circuit.qubits, tuple(run), circuit.gateset, clbits=circuit.clbits, cregs=circuit.cregs
            )
            compiled = compile_native(piece, native_2q, twirl_seed=seed)
            out.extend(compiled.circuit.operations)
            if not final:
                out.extend(
                    Operation("rz", (q,), params=(_radians(angle),))
                    for q, angle in enumerate(compiled.frame)
                    if abs(_radians(angle)) > 1e-12
                )
            run.clear()

        for ins in instructions:
            if type(ins) is Operation:
                run.append(ins)
                continue
            flush(False)
            if type(ins) is IfElse:
                out.append(IfElse(ins.condition, block(ins.then, False), block(ins.orelse, False)))
            else:
                assert type(ins) is WhileLoop
                out.append(WhileLoop(ins.condition, block(ins.body, False)))
        flush(last)
        return tuple(out)

    operations = block(circuit.operations, True)
    return Circuit(
        circuit.qubits,
        operations,
        gateset="native",
        name=circuit.name,
        clbits=circuit.clbits,
        cregs=circuit.cregs,
    )


def native_from_qiskit(qc: Any, native_2q: str) -> Compiled:
    """A qiskit circuit (e.g. a Clifford's ``to_circuit()``) compiled the same way, for tools."""
    from qiskit import transpile

    basis = ["rz", "sx", "x", _ENTANGLER[native_2q]]
    out = transpile(qc, basis_gates=basis, optimization_level=1, seed_transpiler=0)
    return _to_native(out, qc.num_qubits, None)


def transpile_template(qc: Any, native_2q: str) -> Any:
    """Step 2 for a qiskit circuit that still has free parameters: compiled once, bound many times
    (a hybrid workload's ansatz per measurement group); :func:`native_of_bound` does step 3."""
    from qiskit import transpile

    basis = ["rz", "sx", "x", _ENTANGLER[native_2q]]
    return transpile(qc, basis_gates=basis, optimization_level=1, seed_transpiler=0)


def native_of_bound(qc: Any, qubits: int) -> Circuit:
    """Step 3 on a transpiled template whose parameters are bound: the native circuit."""
    return _to_native(qc, qubits, None).circuit


def to_qiskit(circuit: Circuit) -> Any:
    """A qiskit ``QuantumCircuit`` with the same unitary (little-endian, like ours)."""
    from qiskit import QuantumCircuit
    from qiskit.circuit.library import UnitaryGate

    qc = QuantumCircuit(circuit.qubits, circuit.clbits)
    for op in circuit.operations:
        assert type(op) is Operation  # control flow is refused by compile_native
        if op.name == "measure":
            qc.measure(op.targets[0], op.clbits[0])
        elif op.name == "reset":
            qc.reset(op.targets[0])
        elif not op.controls and op.name in _STANDARD:
            getattr(qc, _STANDARD[op.name])(*op.params, *op.targets)
        elif op.controls and op.name == "x":
            qc.mcx(list(op.controls), op.targets[0])
        elif op.controls and op.name in ("z", "phase"):
            angle = math.pi if op.name == "z" else op.params[0]
            qc.mcp(angle, list(op.controls), op.targets[0])
        else:
            unitary = controlled_matrix(op) if op.controls else matrix(op)
            # Our matrices are big-endian over the listed qubits; qiskit reads its qargs little-endian.
            qc.append(UnitaryGate(unitary, check_input=False), list(reversed(op.qubits)))
    return qc


def _to_native(qc: Any, qubits: int, name: str | None) -> Compiled:
    frame = [0.0] * qubits
    ops: list[Operation] = []

    def phase(q: int) -> float:
        """The native phase (turns) of an X-axis pulse on ``q`` seen through the current frame."""
        return _turns(-frame[q] / TWO_PI)

    for instruction in qc.data:
        gate = instruction.operation
        qs = [qc.find_bit(bit).index for bit in instruction.qubits]
        label = gate.name
        if label == "rz":
            frame[qs[0]] += float(gate.params[0])
        elif label == "sx":
            ops.append(Operation("gpi2", (qs[0],), params=(phase(qs[0]),)))
        elif label == "x":
            ops.append(Operation("gpi", (qs[0],), params=(phase(qs[0]),)))
        elif label == "rzz":
            ops.append(Operation("zz", (qs[0], qs[1]), params=(_radians(float(gate.params[0])),)))
        elif label == "rxx":
            ops.extend(_ms(float(gate.params[0]), qs[0], qs[1], phase(qs[0]), phase(qs[1])))
        elif label == "measure":
            clbit = qc.find_bit(instruction.clbits[0]).index
            ops.append(Operation("measure", (qs[0],), clbits=(clbit,)))
        elif label == "reset":
            ops.append(Operation("reset", (qs[0],)))
            frame[qs[0]] = 0.0  # |0⟩ carries no frame: Rz on it is a global phase
        elif label in ("barrier", "id", "delay"):
            continue
        else:  # pragma: no cover - the basis above is all transpile may emit
            raise ValueError(f"unexpected gate {label!r} after transpilation")
    return Compiled(Circuit(qubits, tuple(ops), gateset="native", name=name), tuple(frame))


def _ms(alpha: float, a: int, b: int, pa: float, pb: float) -> list[Operation]:
    """``rxx(α)`` = exp(−iα/2·X⊗X) seen through the frame: MS gates with angle in [0, 0.25] turns.

    α is brought into (−π, π] (rxx(α + 2π) = −rxx(α)); |α| > π/2 becomes rxx(α ∓ π)·(X⊗X), the X's
    being GPI pulses; a negative angle flips the first qubit's phase by half a turn (σ(φ+½) = −σ(φ)).
    """
    alpha = _radians(alpha)
    ops: list[Operation] = []
    flips = abs(alpha) > math.pi / 2
    if flips:
        alpha -= math.copysign(math.pi, alpha)
    if abs(alpha) > 1e-12:
        first = pa if alpha > 0 else _turns(pa + 0.5)
        ops.append(Operation("ms", (a, b), params=(first, pb, abs(alpha) / TWO_PI)))
    if flips:
        ops.append(Operation("gpi", (a,), params=(pa,)))
        ops.append(Operation("gpi", (b,), params=(pb,)))
    return ops


def _radians(angle: float) -> float:
    """``angle`` brought into (−π, π]."""
    wrapped = math.remainder(angle, TWO_PI)
    return math.pi if wrapped == -math.pi else wrapped


def _turns(value: float) -> float:
    """A phase in turns brought into [0, 1) (phases are periodic in one turn)."""
    wrapped = value % 1.0
    return 0.0 if math.isclose(wrapped, 1.0) else wrapped


def native_gate_counts(circuit: Circuit) -> dict[str, int]:
    """``{"1q": n, "2q": m}`` of a native circuit (virtual Z gates are not gates); gates inside
    classical control count once each."""
    counts = {"1q": 0, "2q": 0}
    for op in iter_operations(circuit.operations):
        if op.name in ("measure", "reset", "rz"):
            continue
        counts["2q" if op.arity == 2 else "1q"] += 1
    return counts
