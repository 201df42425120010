"""Preflight: whether the backend can run each circuit, checked at submission (a 422 naming why).

IonQ refuses what its machines cannot run before the job is queued; so does the platform, so that a
job never sits in the queue only to fail:

* the ideal ``simulator`` takes any circuit up to 29 qubits, and wider ones by class: Clifford
  circuits up to the stabilizer cap (1000), weakly entangled ones on the matrix-product-state
  engine (:func:`qumulus.sim.ideal.admit` says which and why not);
* an emulated QPU (a ``qpu.*`` backend, or the simulator with a QPU noise model) runs mid-circuit
  measurement, reset and ``if``/``else`` on measured bits, with the device's noise, per shot
  (:mod:`qumulus.sim.noisy_trajectories`). A ``while`` loop is refused naming the construct: how
  long it runs, hence the QPU time it bills, is not known before it runs (the ideal simulator runs
  it). A program with more than 63 classical bits is refused too (outcomes are 64-bit integers
  there).
"""

from __future__ import annotations

from qumulus.circuits import pauli
from qumulus.circuits.model import Circuit, CircuitBatch, IfElse, Instruction, WhileLoop, iter_operations
from qumulus.errors import InvalidCircuit
from qumulus.store.models import Backend

#: Classical bits a program may have on an emulated QPU (an outcome is a 64-bit integer there).
MAX_EMULATED_CLBITS = 63


def widest_simulator_circuit() -> int:
    """The widest circuit of any class the ideal simulator takes (what parsing allows)."""
    from qumulus.sim.ideal import widths

    return max(widths().values())


def check(batch: CircuitBatch, backend: Backend, emulated: str | None, *, multi: bool) -> None:
    """Raise :class:`InvalidCircuit` for the first circuit ``backend`` cannot run."""
    for index, circuit in enumerate(batch.circuits):
        where = f"input.circuits[{index}]" if multi else "input"
        if emulated is None and backend.kind == "simulator":
            if circuit.qubits > backend.qubits:
                from qumulus.sim.ideal import admit

                reason = admit(circuit)
                if reason is not None:
                    raise InvalidCircuit(f"{where}.qubits: {reason}", field=f"{where}.qubits")
            continue
        _check_emulated(circuit, emulated or backend.name, where)


def _check_emulated(circuit: Circuit, target: str, where: str) -> None:
    for op in iter_operations(circuit.operations):
        if op.name == "pauliexp" and op.arity > pauli.MAX_EMULATED_DENSE_QUBITS and pauli.dense(op):
            raise InvalidCircuit(
                f"{where}.circuit: a pauliexp on {op.arity} qubits whose terms do not commute (or with "
                f"controls) must be synthesised into native gates at a cost growing like 4^{op.arity}; "
                f"{target} takes at most {pauli.MAX_EMULATED_DENSE_QUBITS} such qubits (commuting terms "
                "without controls run at any width; the ideal simulator takes "
                f"{pauli.MAX_DENSE_TARGETS})",
                field=f"{where}.circuit",
            )
    if circuit.has_control_flow and _nested_loop(circuit.operations) is not None:
        raise InvalidCircuit(
            f"{where}.data: 'while' (a loop) cannot run on {target}: the QPU time it would take, "
            "hence its bill, is not known before it runs; the ideal simulator runs it "
            "('if'/'else' run on the emulated QPUs)",
            field=f"{where}.data",
        )
    if circuit.measures_explicitly and circuit.clbits > MAX_EMULATED_CLBITS:
        raise InvalidCircuit(
            f"{where}.data: {circuit.clbits} classical bits: {target} takes at most {MAX_EMULATED_CLBITS} "
            "(the ideal simulator takes more)",
            field=f"{where}.data",
        )


def _nested_loop(instructions: tuple[Instruction, ...]) -> WhileLoop | None:
    for ins in instructions:
        if type(ins) is WhileLoop:
            return ins
        if type(ins) is IfElse:
            found = _nested_loop(ins.then) or _nested_loop(ins.orelse)
            if found is not None:
                return found
    return None
