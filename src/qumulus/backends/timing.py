"""The timing model of an emulated QPU: how long a job occupies the machine, which is what it bills.

Per shot, the native circuit runs as a schedule: each gate starts when all its qubits are free
(as soon as possible) and lasts its characterized duration (GPI/GPI2: ``timing.1q``; MS/ZZ:
``timing.2q``; virtual Z: nothing), so a shot takes the **critical path** of the circuit, then
readout, then reset (re-cooling and state preparation). A job adds a fixed overhead::

    execution = shots × (critical path + readout + reset) + job overhead

:func:`schedule` and :func:`execution_seconds` are pure functions of a native circuit and a
:class:`~qumulus.backends.device.DeviceModel`; the emulator uses the same schedule for idle noise,
so the time a qubit is billed for waiting is the time it decoheres for.
:func:`estimate_execution_seconds` is the entry point for callers that hold a characterization and
the *submitted* circuits (budget holds, ``/jobs/estimate``): it compiles QIS circuits first (the
same deterministic compilation the emulator runs), so the estimate equals the bill.

**Programs that measure** (OpenQASM): a mid-circuit ``measure`` occupies its qubit for
``timing.readout`` and a ``reset`` for ``timing.reset`` while the others go on (or idle); the
measurements at the very end (:func:`final_readouts`) are the shot's readout, already counted once
per shot, so they take no time in the schedule. A gate inside ``if`` waits for the measurements its
condition reads. A program with ``if`` is billed the schedule of *all* its branches, one after the
other: no shot's path takes longer (an as-soon-as-possible schedule only grows when operations are
added), and the bill is known before the run, so the estimate still equals it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from qumulus.backends.device import DeviceModel, device_model
from qumulus.circuits.classical import clbits_read
from qumulus.circuits.model import Circuit, CircuitBatch, IfElse, Instruction, Operation, WhileLoop


@dataclass(frozen=True)
class Schedule:
    """Start time of every operation (same order as the circuit), and the circuit's duration."""

    starts: tuple[float, ...]
    duration: float
    #: When each qubit finishes its last gate.
    busy_until: tuple[float, ...]


def gate_seconds(op: Operation, device: DeviceModel) -> float:
    """How long one native operation takes (a virtual ``rz`` takes none; a mid-circuit measurement a
    readout, a reset a reset)."""
    if op.name == "rz" and not op.controls:
        return 0.0
    if op.name == "measure":
        return device.t_readout
    if op.name == "reset":
        return device.t_reset
    return device.t_2q if op.arity >= 2 else device.t_1q


def schedule(circuit: Circuit, device: DeviceModel) -> Schedule:
    """As-soon-as-possible schedule of a native circuit: its critical path, gate by gate.

    A program that measures: ``starts`` follows :func:`~qumulus.circuits.model.iter_operations`'
    order (every branch of an ``if``, a ``while`` body once), see the module docstring.
    """
    if circuit.is_unitary:
        free = [0.0] * circuit.qubits
        starts: list[float] = []
        for op in circuit.operations:
            qubits = op.qubits
            start = max(free[q] for q in qubits)
            end = start + gate_seconds(op, device)
            for q in qubits:
                free[q] = end
            starts.append(start)
        return Schedule(tuple(starts), max(free, default=0.0), tuple(free))
    return _program_schedule(circuit, device)


def final_readouts(circuit: Circuit) -> frozenset[int]:
    """Indices (in ``circuit.operations``) of the measurements that are the shot's final readout:
    the trailing top-level measurements, each on a qubit nothing touches afterwards (the same ones
    the trajectory engines sample from the final state)."""
    if not circuit.measures_explicitly:
        return frozenset()
    seen: set[int] = set()
    out: set[int] = set()
    for index in range(len(circuit.operations) - 1, -1, -1):
        op = circuit.operations[index]
        if type(op) is not Operation or op.name != "measure" or op.targets[0] in seen:
            break
        seen.add(op.targets[0])
        out.add(index)
    return frozenset(out)


def _program_schedule(circuit: Circuit, device: DeviceModel) -> Schedule:
    final = final_readouts(circuit)
    free = [0.0] * circuit.qubits
    ready: dict[int, float] = {}  # clbit -> when the measurement writing it ends
    starts: list[float] = []

    def walk(instructions: tuple[Instruction, ...], waits: frozenset[int], top: bool) -> None:
        for index, ins in enumerate(instructions):
            if type(ins) is Operation:
                qubits = ins.qubits
                start = max(
                    max(free[q] for q in qubits), max((ready.get(c, 0.0) for c in waits), default=0.0)
                )
                starts.append(start)
                if top and index in final:
                    continue  # the shot's readout: counted once per shot
                end = start + gate_seconds(ins, device)
                for q in qubits:
                    free[q] = end
                for c in ins.clbits:
                    ready[c] = end
            elif type(ins) is IfElse:
                inner = waits | clbits_read(ins.condition)
                walk(ins.then, inner, False)
                walk(ins.orelse, inner, False)
            else:
                assert type(ins) is WhileLoop
                walk(ins.body, waits | clbits_read(ins.condition), False)

    walk(circuit.operations, frozenset(), True)
    return Schedule(tuple(starts), max(free, default=0.0), tuple(free))


def shot_seconds(circuit: Circuit, device: DeviceModel) -> float:
    """One shot: critical path + readout + reset."""
    return schedule(circuit, device).duration + device.t_readout + device.t_reset


def execution_seconds(native_circuits: Iterable[Circuit], device: DeviceModel, shots: int) -> float:
    """QPU time of a job running every one of ``native_circuits`` ``shots`` times, overhead included.

    Shots are per circuit (a multi-circuit job runs each circuit ``shots`` times).
    """
    return device.job_overhead + shots * sum(shot_seconds(c, device) for c in native_circuits)


def estimate_execution_seconds(
    backend_characterization: dict[str, Any], circuits: Circuit | CircuitBatch, shots: int
) -> float:
    """QPU seconds a job would be billed on the backend ``backend_characterization`` describes.

    ``backend_characterization`` is a stored snapshot's ``data`` (``Characterization.data``, or
    ``BackendSpec.characterization()``); QIS circuits are compiled to its native gateset first.
    Multi-circuit jobs are billed per circuit (each child job pays the overhead once), like the
    platform does.
    """
    batch = circuits.circuits if isinstance(circuits, CircuitBatch) else (circuits,)
    qubits = max((c.qubits for c in batch), default=0)
    device = device_model(backend_characterization, max(qubits, _snapshot_qubits(backend_characterization)))
    from qumulus.circuits.compile import compile_program

    return sum(execution_seconds([compile_program(c, device.native_2q)], device, shots) for c in batch)


def _snapshot_qubits(data: dict[str, Any]) -> int:
    return 1 + max((max(pair) for pair in data.get("connectivity", [])), default=-1)
