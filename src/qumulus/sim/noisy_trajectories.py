"""An emulated QPU's noise on programs that measure mid-circuit, reset or branch on what they measured.

Such a program has no single output state, so the Pauli-pattern engines (:mod:`qumulus.sim.branching`,
which simulate one error-free circuit and branch errors off it) cannot run it. The per-shot trajectory
engine (:mod:`qumulus.sim.trajectories`) can: shots travel together as branches, and here a branch
also splits where the device's noise strikes. The noise is the one the Pauli-pattern engines sample
for unitary circuits (:mod:`qumulus.sim.pauli_noise`, the same functions give the same numbers):

* each gate: T1/T2 relaxation (Pauli-twirled) for its duration on its qubits, then depolarizing sized
  so the gate's average fidelity is the characterized one; MS/ZZ over-rotation (default off) in the
  gate;
* each idle gap before an operation: twirled relaxation for the gap, and the qubit's frequency-offset
  drift, a Z rotation applied (exactly) before its next gate and dropped at a measurement or a reset
  (a Z rotation does not change a Z measurement, and the qubit is a basis state afterwards);
* a mid-circuit ``measure`` takes ``timing.readout`` on its qubit and a ``reset`` ``timing.reset``
  (the timing model's figures; the other qubits go on or idle). The measured outcome collapses the
  state; the **readout error** (the qubit's ``P(1|0)``, ``P(0|1)``) then flips the *recorded* bit, so
  a later ``if`` sees the flipped bit while the qubit stays in the state it collapsed to. No other
  error is modelled during a measurement or a reset (state preparation is taken as perfect: the
  characterization has no separate figure for it);
* an operation inside ``if`` waits for the measurements its condition reads;
* the trailing measurements are the shot's final readout: every qubit idles (and relaxes) until the
  last one is free, then the readout error flips the sampled bits.

Timing is per branch (a branch that skips an ``if`` body is not delayed by it), so the noise a shot
sees follows the path it took; the bill (:mod:`qumulus.backends.timing`) is the longest path.

A split at a noise location draws, for a branch of ``s`` shots, ``Binomial(s, p_error)`` shots with an
error and deals them over the Pauli terms (multinomial); a branch with no error (nearly all) costs one
draw. Cost therefore follows the distinct (measurement, error) histories.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from qumulus.backends.device import DeviceModel
from qumulus.backends.timing import gate_seconds
from qumulus.circuits.model import Operation
from qumulus.sim.pauli_noise import (
    _depolarizing_probs,
    _one_qubit_lambda,
    _over_rotated,
    _two_qubit_lambda,
    relaxation_paulis,
)

#: A place where an error may strike: the qubits (one or two) and the Pauli probabilities
#: (4 or 16 entries, code ``4·p_first + p_second``, 0 = no error), as :class:`pauli_noise.Location`.
Loc = tuple[tuple[int, ...], np.ndarray]

_TWO_PI = 2 * np.pi


@dataclass
class Clock:
    """One branch's timeline: when each qubit is free, its accumulated drift (radians), and when
    each classical bit's measurement ends."""

    free: list[float]
    frame: list[float]
    ready: dict[int, float]

    def copy(self) -> Clock:
        return Clock(list(self.free), list(self.frame), dict(self.ready))


@dataclass
class Step:
    """What one operation does to a branch: errors before it, the drift to apply before the gate
    (``(qubit, angle)``), errors after it."""

    before: list[Loc]
    drift: list[tuple[int, float]]
    after: list[Loc]


class DeviceNoise:
    """The device's noise for the trajectory engine; simulated qubit ``i`` is physical ``layout[i]``."""

    def __init__(self, device: DeviceModel, layout: Sequence[int]) -> None:
        self.device = device
        self.phys = list(layout)
        self._relax: dict[tuple[int, float], np.ndarray] = {}
        self._depol1: dict[int, np.ndarray] = {}
        self._depol2: dict[tuple[int, int], np.ndarray] = {}
        self._gates: dict[int, Any] = {}
        self.p1_given_0 = np.array([device.p1_given_0[p] for p in self.phys])
        self.p0_given_1 = np.array([device.p0_given_1[p] for p in self.phys])

    def clock(self, qubits: int) -> Clock:
        return Clock([0.0] * qubits, [0.0] * qubits, {})

    def gate(self, op: Operation) -> Any:
        """The qulacs gate the hardware applies for ``op`` (MS/ZZ over-rotated as characterized)."""
        from qumulus.sim.qulacs_engine import _qulacs_gate

        cached = self._gates.get(id(op))
        if cached is None:
            cached = self._gates[id(op)] = (op, _qulacs_gate(_over_rotated(op, self.phys, self.device)))
        return cached[1]

    def relaxation(self, q: int, seconds: float) -> np.ndarray | None:
        key = (q, round(seconds, 12))
        probs = self._relax.get(key)
        if probs is None:
            p = self.phys[q]
            probs = self._relax[key] = relaxation_paulis(self.device.t1[p], self.device.t2[p], seconds)
        return probs if probs[0] < 1.0 else None

    def _idle(self, clock: Clock, q: int, until: float, out: list[Loc]) -> None:
        gap = until - clock.free[q]
        if gap > 1e-12:
            probs = self.relaxation(q, gap)
            if probs is not None:
                out.append(((q,), probs))
            clock.frame[q] += _TWO_PI * self.device.detuning_hz[self.phys[q]] * gap
            clock.free[q] = until

    def step(self, clock: Clock, op: Operation, waits: frozenset[int]) -> Step:
        """The noise of ``op`` for a branch at ``clock`` (advanced past ``op``).

        ``waits``: the classical bits the enclosing conditions read (``op`` starts after them).
        """
        qubits = op.qubits
        start = max(clock.free[q] for q in qubits)
        for c in waits:
            start = max(start, clock.ready.get(c, 0.0))
        before: list[Loc] = []
        for q in qubits:
            self._idle(clock, q, start, before)
        duration = gate_seconds(op, self.device)
        if op.name == "measure" or op.name == "reset":
            q = qubits[0]
            clock.frame[q] = 0.0
            clock.free[q] = start + duration
            for c in op.clbits:
                clock.ready[c] = start + duration
            return Step(before, [], [])
        if op.name == "rz":  # a virtual Z (a frame update): no time, no error
            return Step(before, [], [])
        drift = [(q, clock.frame[q]) for q in qubits if clock.frame[q] != 0.0]
        after: list[Loc] = []
        for q in qubits:
            clock.frame[q] = 0.0
            probs = self.relaxation(q, duration)
            if probs is not None:
                after.append(((q,), probs))
            clock.frame[q] += _TWO_PI * self.device.detuning_hz[self.phys[q]] * duration
            clock.free[q] = start + duration
        depol = self._depolarizing(qubits)
        if depol is not None:
            after.append((qubits, depol))
        return Step(before, drift, after)

    def _depolarizing(self, qubits: tuple[int, ...]) -> np.ndarray | None:
        if len(qubits) == 1:
            p = self.phys[qubits[0]]
            probs = self._depol1.get(p)
            if probs is None:
                probs = self._depol1[p] = _depolarizing_probs(_one_qubit_lambda(self.device, p), 1)
        else:
            key = (self.phys[qubits[0]], self.phys[qubits[1]])
            probs = self._depol2.get(key)
            if probs is None:
                probs = self._depol2[key] = _depolarizing_probs(_two_qubit_lambda(self.device, *key), 2)
        return probs if probs[0] < 1.0 else None

    def final(self, clock: Clock) -> list[Loc]:
        """The idle until the shot's final readout (when the last qubit is free)."""
        end = max(clock.free, default=0.0)
        out: list[Loc] = []
        for q in range(len(clock.free)):
            self._idle(clock, q, end, out)
        return out

    def flip_probability(self, q: int, outcome: int) -> float:
        """Probability that qubit ``q`` measured in ``outcome`` is recorded as the other value."""
        return float(self.p0_given_1[q] if outcome else self.p1_given_0[q])

    def readout(self, basis: np.ndarray, qubits: Sequence[int], rng: np.random.Generator) -> np.ndarray:
        """Readout error on sampled basis states (little-endian ints), for the measured ``qubits``."""
        out = np.asarray(basis, dtype=np.uint64).copy()
        if out.size == 0:
            return out
        for q in qubits:
            bit = (out >> np.uint64(q)) & np.uint64(1)
            u = rng.random(out.size)
            flip = np.where(bit == 1, u < self.p0_given_1[q], u < self.p1_given_0[q])
            out ^= flip.astype(np.uint64) << np.uint64(q)
        return out

    def expected_errors(self, steps: Sequence[tuple[Any, ...]], qubits: int) -> tuple[float, int]:
        """``(mean Pauli errors per shot, operations)`` over every operation of a flattened program,
        every branch taken once (the cost model's input; exact for a program without ``if``)."""
        clock = self.clock(qubits)
        total = 0.0
        count = 0
        for step in steps:
            if step[0] != "op":
                continue
            count += 1
            noise = self.step(clock, step[1], step[2])
            total += sum(1.0 - float(probs[0]) for _, probs in noise.before + noise.after)
        total += sum(1.0 - float(probs[0]) for _, probs in self.final(clock))
        return total, count
