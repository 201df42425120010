"""The noisy engines' cost model: predicted wall-clock seconds of an emulated run, before running it.

Pure functions of what the run will do, priced with constants measured on the reference box (2
vCPU AMD EPYC with AVX-512, 24 GiB, shared; ``bench/noisy_calibrate.py`` refits them and
docs/simulation.md gives the fit and its error):

* **Pauli state vector** (qsim or qulacs): the work is counted exactly by walking the pattern tree
  of the run's own error sample (:func:`qumulus.sim.error_patterns.work_plan`: the trunk, each
  branch from its first error, segments, forks, leaves); each unit is priced per amplitude,
  ``2**n``. The pattern sample used for the prediction is drawn with a fixed seed, so the
  prediction is deterministic (the job's own sample differs only by sampling noise);
* **stim**: ``shots × (gates + noise locations)`` frame updates, in 64-shot words;
* **Aer density matrix**: ``(gates + channels) × 4**n`` superoperator work;
* **Aer trajectories** (reference only): ``shots × (gates + channels) × 2**n``;
* plus the compilation (qiskit transpile), linear in the submitted gate count.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from qumulus.sim.error_patterns import WorkPlan

#: qsim branching, per amplitude, by width (``bench/noisy_calibrate.py``, 1 thread, 2-vCPU EPYC box
#: shared at load 6-7, best of 3-4; interpolated linearly in the width, held outside): a gate
#: application (fused as the engine fuses), a call (the state copied in and out: from 22 qubits it
#: no longer fits the cache and costs ~50 gates), a leaf sample (one pass over the amplitudes).
QSIM_WIDTHS = (16, 18, 20, 22, 24)
QSIM_GATE_AMP = (1.0e-10, 2.1e-10, 2.0e-10, 2.9e-10, 3.3e-10)
QSIM_SEGMENT_AMP = (1.4e-9, 1.7e-9, 6.4e-9, 14e-9, 15.8e-9)
QSIM_LEAF_AMP = (1.8e-9, 1.0e-9, 0.9e-9, 2.1e-9, 2.1e-9)
#: per gate added to a segment, fixed per segment.
QSIM_GATE_FIXED = 3.0e-6
QSIM_SEGMENT_FIXED = 40e-6
#: qulacs branching: per gate application × amplitude, fixed per gate (Python call), per fork ×
#: amplitude, per leaf × amplitude.
QULACS_GATE_AMP = 2.0e-9
QULACS_GATE_FIXED = 2.0e-6
QULACS_FORK_AMP = 2.0e-9
QULACS_LEAF_AMP = 8.0e-9
#: stim: fixed (circuit build, sampler compile per gate/location), per shot-word × operation.
STIM_FIXED = 5e-3
STIM_PER_OP = 20e-6
STIM_WORD_OP = 0.3e-6
#: Aer density matrix: fixed, per instruction, per instruction × 4**n.
AER_DM_FIXED = 20e-3
AER_DM_OP = 20e-6
AER_DM_OP_AMP = 3.0e-9
#: Aer trajectories: per shot × instruction × 2**n, per shot × instruction.
AER_TRAJ_OP_AMP = 4.0e-9
AER_TRAJ_OP = 1.0e-6
#: Compilation (qiskit transpile + the native walk): fixed and per submitted gate.
COMPILE_FIXED = 20e-3
COMPILE_PER_GATE = 1.2e-3
#: Building the Pauli program and sampling the patterns: per gate and per error event.
SETUP_PER_GATE = 60e-6
SETUP_PER_EVENT = 3e-6


@dataclass(frozen=True)
class RunShape:
    """What the cost model needs to know about one emulated run (one debiasing variant)."""

    qubits: int
    gates: int
    locations: int
    shots: int
    expected_errors: float


def compile_seconds(submitted_gates: int) -> float:
    return COMPILE_FIXED + COMPILE_PER_GATE * submitted_gates


def setup_seconds(shape: RunShape) -> float:
    return (
        SETUP_PER_GATE * (shape.gates + shape.locations)
        + SETUP_PER_EVENT * shape.shots * shape.expected_errors
    )


def _by_width(qubits: int, table: tuple[float, ...]) -> float:
    return float(np.interp(qubits, QSIM_WIDTHS, table))


def qsim_seconds(shape: RunShape, plan: WorkPlan) -> float:
    amps = float(2**shape.qubits)
    n = shape.qubits
    # Pauli errors are fused into the neighbouring gates: they cost their call, not a pass.
    return (
        setup_seconds(shape)
        + plan.gates * _by_width(n, QSIM_GATE_AMP) * amps
        + (plan.gates + plan.paulis) * QSIM_GATE_FIXED
        + plan.segments * (_by_width(n, QSIM_SEGMENT_AMP) * amps + QSIM_SEGMENT_FIXED)
        + plan.leaves * _by_width(n, QSIM_LEAF_AMP) * amps
    )


def qsim_probe_seconds(qubits: int, gates: int) -> float:
    """Predicted seconds of one qsim call of ``gates`` gates from |0…0⟩ (the emulator's speed probe)."""
    amps = float(2**qubits)
    return (
        gates * (_by_width(qubits, QSIM_GATE_AMP) * amps + QSIM_GATE_FIXED)
        + _by_width(qubits, QSIM_SEGMENT_AMP) * amps
        + QSIM_SEGMENT_FIXED
    )


def qulacs_seconds(shape: RunShape, plan: WorkPlan) -> float:
    amps = float(2**shape.qubits)
    applied = plan.gates + plan.paulis
    return (
        setup_seconds(shape)
        + applied * (QULACS_GATE_AMP * amps + QULACS_GATE_FIXED)
        + plan.forks * QULACS_FORK_AMP * amps
        + plan.leaves * QULACS_LEAF_AMP * amps
    )


def stim_seconds(shape: RunShape) -> float:
    ops = shape.gates + shape.locations
    return STIM_FIXED + STIM_PER_OP * ops + STIM_WORD_OP * ops * math.ceil(shape.shots / 64)


def density_matrix_seconds(shape: RunShape) -> float:
    ops = shape.gates + shape.locations
    return AER_DM_FIXED + ops * (AER_DM_OP + AER_DM_OP_AMP * float(4**shape.qubits))


def aer_trajectories_seconds(shape: RunShape) -> float:
    ops = shape.gates + shape.locations
    return AER_DM_FIXED + shape.shots * ops * (AER_TRAJ_OP + AER_TRAJ_OP_AMP * float(2**shape.qubits))


#: Programs (mid-circuit measurement, reset, ``if``) on the noisy trajectory engine
#: (:mod:`qumulus.sim.noisy_trajectories`), fitted with ``bench/noisy_programs.py`` (3-16 qubits,
#: 1000 shots, ``OMP_NUM_THREADS=1``, 2-vCPU box shared): per operation a branch walks (Python, the
#: noise draws, the gate call: ~8 µs), per amplitude of such a step, per branch (a state copy and
#: the final sample), per shot (assembling the outcomes), and a fixed call.
PROGRAM_FIXED = 2e-3
PROGRAM_OP = 8e-6
PROGRAM_OP_AMP = 2.6e-9
PROGRAM_BRANCH_AMP = 10e-9
PROGRAM_SHOT = 1.0e-6


@dataclass(frozen=True)
class ProgramShape:
    """What the program cost model needs: width, operations (every branch of an ``if`` once),
    shots, mean Pauli errors per shot, mid-circuit measurements + resets (each may split a branch),
    and the mean readout flips per shot on mid-circuit measurements."""

    qubits: int
    operations: int
    shots: int
    expected_errors: float
    splits: int
    expected_flips: float


def program_branches(shape: ProgramShape) -> float:
    """An upper estimate of the distinct histories: every measurement outcome history (at most
    ``2**splits``, at most the shots), plus one per shot with an error or a readout flip."""
    outcomes = min(float(shape.shots), 2.0 ** min(shape.splits, 60))
    struck = shape.shots * (1.0 - math.exp(-(shape.expected_errors + shape.expected_flips)))
    return max(1.0, min(float(shape.shots), outcomes + struck))


def program_seconds(shape: ProgramShape) -> float:
    """Predicted seconds of one run: every branch priced as if it walked the whole program (a branch
    splits off mid-way, so this is an upper bound of the same order)."""
    amps = float(2**shape.qubits)
    branches = program_branches(shape)
    return (
        PROGRAM_FIXED
        + branches * shape.operations * (PROGRAM_OP + PROGRAM_OP_AMP * amps)
        + branches * PROGRAM_BRANCH_AMP * amps
        + shape.shots * PROGRAM_SHOT
    )
