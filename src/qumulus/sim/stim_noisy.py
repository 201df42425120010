"""Clifford circuits on stim: the same Pauli noise, at any width the device has.

A compiled circuit whose every native gate is a Clifford (GPI at multiples of ⅛ turn, GPI2 at
multiples of ¼, MS(k/4, l/4, ¼), ZZ at multiples of π/2: GHZ states, RB sequences, error-correction
circuits) is sampled by stim's Pauli-frame simulator: one reference simulation, then every shot's
errors propagated as Pauli frames, so a 36-qubit GHZ with 1000 shots takes milliseconds.

The noise is :func:`qumulus.sim.pauli_noise.build_program` in ``mode="clifford"`` (the frequency
drift twirled into Z errors, since a stabilizer simulator cannot run a small Z rotation): each
location becomes ``PAULI_CHANNEL_1`` / ``PAULI_CHANNEL_2``; readout error is applied afterwards to the
sampled bits, as in the state-vector engine. Each native gate is turned into stim gates through its
stabilizer tableau (``stim.Tableau.from_unitary_matrix``), so the exact unitary decides, not a table
of names. stim is imported on first use (an optional ``server`` dependency).
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np

from qumulus.circuits.gates import matrix
from qumulus.circuits.model import Circuit, Operation
from qumulus.sim.pauli_noise import PauliProgram

_TOL = 1e-9


def _multiple(value: float, step: float) -> bool:
    k = value / step
    return abs(k - round(k)) < _TOL


def is_clifford_op(op: Operation) -> bool:
    """True when a native gate is a Clifford unitary (checked on its parameters, see module doc)."""
    if op.name == "gpi":
        return _multiple(op.params[0], 1 / 8)
    if op.name == "gpi2":
        return _multiple(op.params[0], 1 / 4)
    if op.name == "ms":
        return all(_multiple(p, 1 / 4) for p in op.params[:2]) and _multiple(op.params[2], 1 / 4)
    if op.name == "zz":
        return _multiple(op.params[0], math.pi / 2)
    return False


def is_clifford(native: Circuit) -> bool:
    """True when every gate of a native circuit is a Clifford: stim can run it."""
    return native.gateset == "native" and all(is_clifford_op(op) for op in native.operations)


@functools.lru_cache(maxsize=4096)
def _gate_circuit(name: str, qubits: int, params: tuple[float, ...]) -> Any:
    """stim gates (on local qubits 0..k-1, 0 = the operation's first qubit) for one native gate."""
    import stim

    op = Operation(name, tuple(range(qubits)), params=params)
    tableau = stim.Tableau.from_unitary_matrix(matrix(op), endian="big")
    return tableau.to_circuit("elimination")


def stim_circuit(program: PauliProgram) -> Any:
    """The noisy stim circuit of a Clifford program (measurements of every qubit at the end)."""
    import stim

    out = stim.Circuit()
    by_pos: dict[int, list[Any]] = {}
    for loc in program.locations:
        by_pos.setdefault(loc.pos, []).append(loc)

    def noise(pos: int) -> None:
        for loc in by_pos.get(pos, ()):
            probs = [float(p) for p in loc.probs[1:]]
            name = "PAULI_CHANNEL_1" if len(loc.qubits) == 1 else "PAULI_CHANNEL_2"
            out.append(name, list(loc.qubits), probs)

    for i, op in enumerate(program.ops):
        noise(i)
        key = tuple(round(p, 12) for p in op.params)
        local = _gate_circuit(op.name, op.arity, key)
        for instruction in local:
            targets = [op.qubits[t.value] for t in instruction.targets_copy()]
            out.append(instruction.name, targets)
    noise(program.depth)
    out.append("M", list(range(program.qubits)))
    return out


def sample(program: PauliProgram, shots: int, seed: int) -> np.ndarray:
    """``shots`` outcomes (little-endian ints, before readout error) of a Clifford program."""
    bits = stim_circuit(program).compile_sampler(seed=seed).sample(shots)
    weights = np.uint64(1) << np.arange(program.qubits, dtype=np.uint64)
    return (bits.astype(np.uint64) * weights).sum(axis=1, dtype=np.uint64)
