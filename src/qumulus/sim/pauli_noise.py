"""An emulated QPU's noise as Pauli channels: the program the fast noisy engines run.

The characterization is the same one :mod:`qumulus.sim.noise` turns into Aer's exact channels
(per-qubit T1/T2 and frequency offset, per-qubit 1q and per-pair 2q fidelity, asymmetric readout,
durations from the timing model's schedule); here every *random* channel becomes a Pauli channel, so
a noisy shot is the ideal circuit with a few sampled Pauli gates inserted — pure unitaries:

* **T1/T2 relaxation** (idle gaps, and each gate's duration on its qubits) by the Pauli-twirl
  approximation: ``p_X = p_Y = (1 − e^{−t/T1})/4``, ``p_Z = (1 + e^{−t/T1} − 2e^{−t/T2})/4``. The twirl
  keeps the channel's process (hence average gate) fidelity; it drops amplitude damping's
  non-unital part (a bias towards |0⟩ of order t/T1 ≤ 1e-5 per gate here, see docs/simulation.md);
* **depolarizing** after each gate is a Pauli channel already (exact), sized as in
  :func:`qumulus.sim.noise.depolarizing_parameter` so the gate's average fidelity is the
  characterized one;
* the **frequency offset** is a deterministic Z rotation, not a random channel. Every channel above
  commutes with Z rotations (twirled relaxation has ``p_X = p_Y``; depolarizing commutes with every
  unitary), so the accumulated drift of a qubit is moved, exactly, into the next gate on it
  (``mode="exact"``: the state-vector engines) and dropped before measurement (a Z rotation does not
  change a Z measurement). A stabilizer simulator cannot run that rotation, so ``mode="clifford"``
  twirls it instead: the drift accumulated since the qubit's last non-diagonal gate (ZZ commutes
  with it) becomes a Z error with probability ``sin²(θ/2)`` just before the next one;
* the (default-off) **coherent over-rotation** of MS/ZZ stays in the gate, exactly;
* **readout** error is not a channel here: the engines flip sampled bits classically with the
  per-qubit ``P(1|0)``, ``P(0|1)``.

A :class:`PauliProgram` is the gates (exact matrices, in order) and the error *locations*: after how
many gates an error may strike, on which qubit(s), with which Pauli probabilities.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np

from qumulus.backends.device import DeviceModel
from qumulus.backends.timing import gate_seconds, schedule
from qumulus.circuits.gates import matrix
from qumulus.circuits.model import Circuit, Operation
from qumulus.sim.noise import depolarizing_parameter

#: Pauli index: 0 = I, 1 = X, 2 = Y, 3 = Z; a two-qubit code is ``4·p_first + p_second`` (stim's order).
PAULI_LETTERS = "IXYZ"
#: Gates that commute with Z rotations on both their qubits (the drift passes through them).
DIAGONAL_GATES = frozenset({"zz"})


@dataclass(frozen=True)
class Location:
    """Where an error may strike: after ``pos`` gates, on ``qubits`` (one or two).

    ``probs[c]`` is the probability of Pauli code ``c`` (``c = 0`` is no error): 4 entries for one
    qubit, 16 for two (``4·p_first + p_second``).
    """

    pos: int
    qubits: tuple[int, ...]
    probs: np.ndarray

    @property
    def rate(self) -> float:
        """Probability that any error happens here."""
        return float(1.0 - self.probs[0])


@dataclass(frozen=True)
class PauliProgram:
    """A native circuit with Pauli noise, ready for a state-vector or stabilizer engine.

    ``gates[i]`` is ``(qubits, unitary)`` with the unitary big-endian over ``qubits`` (the drift and
    over-rotation already in it for ``mode="exact"``); ``ops[i]`` is the native operation it came from.
    """

    qubits: int
    gates: tuple[tuple[tuple[int, ...], np.ndarray], ...]
    ops: tuple[Operation, ...]
    locations: tuple[Location, ...]
    p1_given_0: np.ndarray
    p0_given_1: np.ndarray
    mode: str

    @property
    def depth(self) -> int:
        """Number of gates (the unit the cost model counts work in)."""
        return len(self.gates)

    def expected_errors(self) -> float:
        """Mean number of Pauli errors per shot (readout flips not counted)."""
        return float(sum(loc.rate for loc in self.locations))


def relaxation_paulis(t1: float, t2: float, seconds: float) -> np.ndarray:
    """Pauli twirl of T1/T2 relaxation for ``seconds``: ``[p_I, p_X, p_Y, p_Z]``.

    From the channel's Pauli transfer matrix diagonal (e^{−t/T2}, e^{−t/T2}, e^{−t/T1}).
    """
    a = math.exp(-seconds / t1)
    c = math.exp(-seconds / t2)
    px = (1.0 - a) / 4.0
    pz = max(0.0, (1.0 + a - 2.0 * c) / 4.0)
    return np.array([1.0 - 2 * px - pz, px, px, pz])


def relaxation_process_fidelity(t1: float, t2: float, seconds: float, angle: float) -> float:
    """Process fidelity of relaxation for ``seconds`` followed by Rz(``angle``) (the drift)."""
    a = math.exp(-seconds / t1)
    c = math.exp(-seconds / t2)
    return (1.0 + a + 2.0 * c * math.cos(angle)) / 4.0


def _average(process_fidelity: float, d: int) -> float:
    return (d * process_fidelity + 1.0) / (d + 1.0)


def _rz(angle: float) -> np.ndarray:
    return np.diag([np.exp(-0.5j * angle), np.exp(0.5j * angle)])


def _over_rotated(op: Operation, layout: Sequence[int], device: DeviceModel) -> Operation:
    """The gate the hardware applies: MS/ZZ over-rotated by the pair's systematic excess (as the
    exact model does, ``emulator._as_run``)."""
    if op.name not in ("ms", "zz"):
        return op
    excess = device.over_rotation(layout[op.qubits[0]], layout[op.qubits[1]])
    if excess == 0.0:
        return op
    if op.name == "ms":
        return replace(op, params=(op.params[0], op.params[1], op.params[2] + excess))
    return replace(op, params=(op.params[0] + 2 * math.pi * excess,))


def _two_qubit_lambda(device: DeviceModel, a: int, b: int) -> float:
    """Depolarizing λ of pair (a, b): what the characterized 2q fidelity leaves after relaxation,
    drift and over-rotation during the gate (the same budget as ``NoiseBuilder``)."""
    t = device.t_2q
    fa = relaxation_process_fidelity(device.t1[a], device.t2[a], t, 2 * math.pi * device.detuning_hz[a] * t)
    fb = relaxation_process_fidelity(device.t1[b], device.t2[b], t, 2 * math.pi * device.detuning_hz[b] * t)
    excess = device.over_rotation(a, b)
    # With an over-rotation the composition is not a product: computed on the superoperators.
    other = fa * fb if excess == 0.0 else _process_fidelity_2q(device, a, b, excess)
    return depolarizing_parameter(device.fidelity_2q(a, b), _average(other, 4), 2)


def _process_fidelity_2q(device: DeviceModel, a: int, b: int, excess: float) -> float:
    t = device.t_2q

    def superop(q: int) -> np.ndarray:
        # Row-major vec of a 2x2 ρ: (00, 01, 10, 11); relaxation then Rz(θ).
        g = 1.0 - math.exp(-t / device.t1[q])
        c = math.exp(-t / device.t2[q])
        theta = 2 * math.pi * device.detuning_hz[q] * t
        s = np.zeros((4, 4), dtype=np.complex128)
        s[0, 0], s[0, 3], s[3, 3] = 1.0, g, 1.0 - g
        s[1, 1] = c * np.exp(-1j * theta)
        s[2, 2] = c * np.exp(1j * theta)
        return s

    sa, sb = superop(a), superop(b)
    # Two-qubit superoperator in row-major vec of the 4x4 ρ (indices (ia ib),(ja jb)).
    s2 = np.einsum("ikjl,mnop->imknjolp", sa.reshape(2, 2, 2, 2), sb.reshape(2, 2, 2, 2)).reshape(16, 16)
    u = matrix(Operation("ms", (0, 1), params=(0.0, 0.0, excess)))
    su = np.kron(u, u.conj())
    return float(np.real(np.trace(su @ s2))) / 16.0


def _one_qubit_lambda(device: DeviceModel, q: int) -> float:
    t = device.t_1q
    f = relaxation_process_fidelity(device.t1[q], device.t2[q], t, 2 * math.pi * device.detuning_hz[q] * t)
    return depolarizing_parameter(device.f1q[q], _average(f, 2), 1)


def _depolarizing_probs(lam: float, qubits: int) -> np.ndarray:
    k = 4**qubits
    probs = np.full(k, lam / k)
    probs[0] = 1.0 - lam * (k - 1) / k
    return probs


def alap_order(circuit: Circuit) -> Circuit:
    """The same circuit with its gates in *as-late-as-possible* order (a topological order of the
    same gate DAG, so the same unitary and the same as-soon-as-possible schedule per gate).

    Why: a noisy branch is simulated from its first error to the end, so its cost is the number of
    gates listed after that error. Listing each gate as late as its successors allow moves gates that
    are not yet needed (one-qubit rotations, gates on other qubits) behind the errors that strike
    earlier, out of most branches: measured 2 % fewer gate applications at 20 qubits × 20 layers and
    9 % at 25 × 10 (``bench/noisy.py``), for nothing.
    """
    ops = circuit.operations
    level = [0] * len(ops)
    nxt = [len(ops)] * circuit.qubits
    for i in range(len(ops) - 1, -1, -1):
        level[i] = min(nxt[q] for q in ops[i].qubits) - 1
        for q in ops[i].qubits:
            nxt[q] = level[i]
    order = sorted(range(len(ops)), key=lambda i: (level[i], i))
    return replace(circuit, operations=tuple(ops[i] for i in order))


def build_program(
    native: Circuit,
    device: DeviceModel,
    layout: Sequence[int] | None = None,
    *,
    mode: Literal["exact", "clifford"] = "exact",
) -> PauliProgram:
    """The Pauli-noise program of a native circuit on ``device``; simulated qubit ``i`` is physical
    qubit ``layout[i]`` (its T1/T2, fidelities, readout).

    Noise sits where the timing model's as-soon-as-possible schedule puts it, in the same order as
    the exact model (:func:`qumulus.sim.emulator.noisy_circuit`): idle gaps before a gate, the gate,
    then its relaxation and depolarizing; the last idle gap before readout.
    """
    native = alap_order(native)
    n = native.qubits
    phys = list(range(n)) if layout is None else list(layout)
    plan = schedule(native, device)
    free = [0.0] * n
    frame = [0.0] * n  # drift angle (radians) accumulated since the qubit's last absorbing gate
    gates: list[tuple[tuple[int, ...], np.ndarray]] = []
    ops: list[Operation] = []
    locations: list[Location] = []
    lam1: dict[int, float] = {}
    lam2: dict[tuple[int, int], float] = {}
    relax_cache: dict[tuple[int, float], np.ndarray] = {}

    def relax(q: int, seconds: float) -> None:
        key = (phys[q], round(seconds, 12))
        probs = relax_cache.get(key)
        if probs is None:
            p = phys[q]
            probs = relax_cache[key] = relaxation_paulis(device.t1[p], device.t2[p], seconds)
        if probs[0] < 1.0:
            locations.append(Location(len(gates), (q,), probs))
        frame[q] += 2 * math.pi * device.detuning_hz[phys[q]] * seconds

    def absorb_drift(op: Operation, unitary: np.ndarray) -> np.ndarray:
        if mode == "exact":
            rot = _rz(frame[op.qubits[0]])
            for q in op.qubits[1:]:
                rot = np.kron(rot, _rz(frame[q]))
            for q in op.qubits:
                frame[q] = 0.0
            return unitary @ rot
        if op.name not in DIAGONAL_GATES:
            for q in op.qubits:
                p = math.sin(frame[q] / 2) ** 2
                if p > 0.0:
                    locations.append(Location(len(gates), (q,), np.array([1.0 - p, 0.0, 0.0, p])))
                frame[q] = 0.0
        return unitary

    for op, start in zip(native.operations, plan.starts, strict=True):
        if op.controls or op.name not in ("gpi", "gpi2", "ms", "zz"):
            raise ValueError(f"not a native gate: {op.name!r}")
        for q in op.qubits:
            if start - free[q] > 1e-12:
                relax(q, start - free[q])
        unitary = absorb_drift(op, matrix(_over_rotated(op, phys, device)))
        gates.append((op.qubits, unitary))
        ops.append(op)
        duration = gate_seconds(op, device)
        for q in op.qubits:
            relax(q, duration)
            free[q] = start + duration
        if op.arity == 1:
            p = phys[op.qubits[0]]
            if p not in lam1:
                lam1[p] = _one_qubit_lambda(device, p)
            if lam1[p] > 0:
                locations.append(Location(len(gates), op.qubits, _depolarizing_probs(lam1[p], 1)))
        else:
            key = (phys[op.qubits[0]], phys[op.qubits[1]])
            if key not in lam2:
                lam2[key] = _two_qubit_lambda(device, *key)
            if lam2[key] > 0:
                locations.append(Location(len(gates), op.qubits, _depolarizing_probs(lam2[key], 2)))
    for q in range(n):
        if plan.duration - free[q] > 1e-12:
            relax(q, plan.duration - free[q])
    return PauliProgram(
        qubits=n,
        gates=tuple(gates),
        ops=tuple(ops),
        locations=tuple(locations),
        p1_given_0=np.array([device.p1_given_0[p] for p in phys]),
        p0_given_1=np.array([device.p0_given_1[p] for p in phys]),
        mode=mode,
    )


def apply_readout(outcomes: np.ndarray, program: PauliProgram, rng: np.random.Generator) -> np.ndarray:
    """Asymmetric readout error on sampled little-endian outcomes: each bit 0 reads 1 with
    ``P(1|0)`` and each bit 1 reads 0 with ``P(0|1)`` of its qubit."""
    out = np.asarray(outcomes, dtype=np.uint64).copy()
    if out.size == 0:
        return out
    for q in range(program.qubits):
        bit = (out >> np.uint64(q)) & np.uint64(1)
        u = rng.random(out.size)
        flip = np.where(bit == 1, u < program.p0_given_1[q], u < program.p1_given_0[q])
        out ^= flip.astype(np.uint64) << np.uint64(q)
    return out
