"""Preflight: whether the backend can run each circuit, checked at submission (a 422 naming why).

IonQ refuses what its machines cannot run before the job is queued; so does the platform, so that a
job never sits in the queue only to fail:

* the ideal ``simulator`` takes any circuit up to 29 qubits, and wider ones by class: Clifford
  circuits up to the stabilizer cap (1000), weakly entangled ones on the matrix-product-state
  engine (:func:`qumulus.sim.ideal.admit` says which and why not);
* an emulated QPU (a ``qpu.*`` backend, or the simulator with a QPU noise model) compiles to native
  gates, which cannot express classical control (``if``/``while``): refused naming the construct,
  as IonQ does. Mid-circuit measurement and reset do not run on the emulators yet: refused too,
  pointing at the ideal simulator, which runs them.
"""

from __future__ import annotations

from qumulus.circuits import pauli
from qumulus.circuits.model import Circuit, CircuitBatch, Operation, iter_operations
from qumulus.errors import InvalidCircuit
from qumulus.store.models import Backend


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
    if circuit.has_control_flow:
        construct = next(op.name for op in circuit.operations if type(op) is not Operation)
        raise InvalidCircuit(
            f"{where}.data: '{construct}' (classical control) cannot run on {target}: like IonQ's "
            "QPUs, the emulated QPUs refuse classical control in preflight; the ideal simulator runs it",
            field=f"{where}.data",
        )
    if circuit.measures_explicitly and circuit.split_terminal_measurements() is None:
        raise InvalidCircuit(
            f"{where}.data: mid-circuit measurement and reset do not run on the emulated {target} yet; "
            "the ideal simulator runs them (measurements at the end run everywhere)",
            field=f"{where}.data",
        )
