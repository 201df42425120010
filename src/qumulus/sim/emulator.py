"""Run a circuit on an emulated QPU: compile, schedule, add the device's noise, sample shots with Aer.

``emulate`` is what a job on ``qpu.*`` (or on ``simulator`` with ``noise.model`` = a QPU name) runs:

1. compile to the device's native gates (:mod:`qumulus.circuits.compile`);
2. schedule them as the timing model does (:mod:`qumulus.backends.timing`) and put each idle gap's
   and each gate's noise channel where it happens (:mod:`qumulus.sim.noise`);
3. sample ``shots`` with qiskit-aer, seeded: exact density matrix up to
   :data:`DENSITY_MATRIX_MAX_QUBITS` qubits, state-vector trajectories above (one trajectory per
   shot; a density matrix doubles the qubits' memory, 2·n qubits' worth of amplitudes);
4. return the per-shot outcomes in shot order, and the QPU time the timing model bills.

**Debiasing** (``debias=True``, IonQ's ``error_mitigation.debiasing``) splits the shots over
:data:`DEBIAS_VARIANTS` symmetrized variants: each maps the circuit's qubits onto a random set of
physical qubits (a qubit-permutation symmetry: per-qubit biases average out) and compiles it with a
random Pauli twirl of every two-qubit gate (a gate-level symmetry: coherent errors such as frequency
drift no longer add up coherently). The variants' distributions are averaged
(:func:`aggregate_average`), or combined by plurality vote (:func:`aggregate_plurality`, the
results' ``sharpen=true``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from qumulus.backends.device import DeviceModel
from qumulus.backends.timing import execution_seconds, gate_seconds, schedule
from qumulus.circuits.compile import compile_native
from qumulus.circuits.gates import matrix
from qumulus.circuits.model import Circuit
from qumulus.sim.noise import NoiseBuilder

#: Up to this many qubits the exact density matrix is sampled; above, trajectories (see docs).
DENSITY_MATRIX_MAX_QUBITS = 10
#: Number of symmetrized variants a debiased job is split into (fewer when shots are fewer).
DEBIAS_VARIANTS = 16
ENGINE_NAME = "aer-noisy"


@dataclass
class Emulation:
    """Shots in execution order (little-endian ints), how many belong to each variant, billed time."""

    outcomes: np.ndarray
    variant_shots: list[int]
    seconds: float
    native_gates: dict[str, int] = field(default_factory=dict)
    method: str = ""


def emulate(
    circuit: Circuit,
    device: DeviceModel,
    shots: int,
    *,
    seed: int,
    debias: bool = False,
    threads: int | None = None,
) -> Emulation:
    """Emulate ``circuit`` on ``device`` for ``shots`` shots; reproducible for a given ``seed``."""
    if circuit.qubits > device.qubits:
        raise ValueError(f"the device has {device.qubits} qubits, the circuit needs {circuit.qubits}")
    rng = np.random.default_rng(seed)
    method = "density_matrix" if circuit.qubits <= DENSITY_MATRIX_MAX_QUBITS else "statevector"
    builder = _builder(device, trajectories=method == "statevector")
    if debias:
        count = max(1, min(DEBIAS_VARIANTS, shots))
        sizes = [shots // count + (1 if v < shots % count else 0) for v in range(count)]
        plans = [
            (
                [int(q) for q in rng.permutation(device.qubits)[: circuit.qubits]],
                int(rng.integers(2**31)),
            )
            for _ in sizes
        ]
    else:
        sizes = [shots]
        plans = [(list(range(circuit.qubits)), None)]
    outcomes: list[np.ndarray] = []
    natives: list[Circuit] = []
    for size, (layout, twirl) in zip(sizes, plans, strict=True):
        native = compile_native(circuit, device.native_2q, twirl_seed=twirl).circuit
        natives.append(native)
        qc = noisy_circuit(native, device, layout, builder)
        outcomes.append(
            _sample(qc, builder.readout_model(layout), size, int(rng.integers(2**31)), method, threads)
        )
    seconds = device.job_overhead + sum(
        execution_seconds([n], device, s) - device.job_overhead for n, s in zip(natives, sizes, strict=True)
    )
    counts = {"1q": 0, "2q": 0}
    for op in natives[0].operations:
        counts["2q" if op.arity == 2 else "1q"] += 1
    return Emulation(np.concatenate(outcomes), sizes, seconds, counts, method)


_BUILDERS: dict[tuple[Any, ...], NoiseBuilder] = {}


def _builder(device: DeviceModel, *, trajectories: bool) -> NoiseBuilder:
    """One builder (and its channel cache) per device model and representation in this process."""
    key = (
        trajectories,
        device.t1, device.t2, device.f1q, device.detuning_hz, tuple(sorted(device.f2q.items())),
        device.f2q_default, device.t_1q, device.t_2q,
    )  # fmt: skip
    if key not in _BUILDERS:
        if len(_BUILDERS) > 16:
            _BUILDERS.clear()
        _BUILDERS[key] = NoiseBuilder(device, trajectories=trajectories)
    return _BUILDERS[key]


def noisy_circuit(native: Circuit, device: DeviceModel, layout: Sequence[int], builder: NoiseBuilder) -> Any:
    """The qiskit circuit Aer runs: native gates as exact unitaries, noise where the schedule puts it.

    Simulated qubit ``i`` is physical qubit ``layout[i]`` (its T1/T2, fidelities, readout).
    """
    from qiskit import QuantumCircuit
    from qiskit.circuit.library import UnitaryGate

    plan = schedule(native, device)
    qc = QuantumCircuit(native.qubits)
    free = [0.0] * native.qubits
    for op, start in zip(native.operations, plan.starts, strict=True):
        qubits = op.qubits
        for q in qubits:
            if start - free[q] > 1e-12:
                qc.append(builder.idle(layout[q], start - free[q]), [q])
        # Our matrices are big-endian over the op's qubits; Aer reads qargs little-endian.
        applied = matrix(_as_run(op, layout, device))
        qc.append(UnitaryGate(applied, label=op.name, check_input=False), list(reversed(qubits)))
        qc.append(builder.gate(tuple(layout[q] for q in qubits)), list(qubits))
        end = start + gate_seconds(op, device)
        for q in qubits:
            free[q] = end
    for q in range(native.qubits):
        if plan.duration - free[q] > 1e-12:
            qc.append(builder.idle(layout[q], plan.duration - free[q]), [q])
    qc.measure_all()
    return qc


def _as_run(op: Any, layout: Sequence[int], device: DeviceModel) -> Any:
    """The gate the hardware actually applies: MS/ZZ over-rotated by the pair's systematic excess."""
    from dataclasses import replace

    if op.name == "ms":
        excess = device.over_rotation(layout[op.qubits[0]], layout[op.qubits[1]])
        return replace(op, params=(op.params[0], op.params[1], op.params[2] + excess))
    if op.name == "zz":
        excess = device.over_rotation(layout[op.qubits[0]], layout[op.qubits[1]])
        return replace(op, params=(op.params[0] + 2 * math.pi * excess,))
    return op


def _sample(qc: Any, readout: Any, shots: int, seed: int, method: str, threads: int | None) -> np.ndarray:
    from qiskit_aer import AerSimulator

    from qumulus.sim._common import default_threads

    backend = AerSimulator(
        method=method,
        noise_model=readout,
        seed_simulator=seed,
        max_parallel_threads=threads or default_threads(),
    )
    result = backend.run(qc, shots=shots, memory=True).result()
    if not result.success:
        raise RuntimeError(f"qiskit-aer failed: {result.status}")
    memory = result.get_memory(0)
    return np.fromiter((int(bits.replace(" ", ""), 2) for bits in memory), dtype=np.uint64, count=len(memory))


# aggregation -------------------------------------------------------------------------------------


def _split(outcomes: np.ndarray, variant_shots: Sequence[int]) -> list[np.ndarray]:
    bounds = np.cumsum([0, *variant_shots])
    return [outcomes[bounds[i] : bounds[i + 1]] for i in range(len(variant_shots))]


def aggregate_average(outcomes: np.ndarray, variant_shots: Sequence[int]) -> dict[int, float]:
    """Mean of the variants' empirical distributions (debiasing's default aggregation)."""
    parts = [p for p in _split(outcomes, variant_shots) if p.size]
    total: dict[int, float] = {}
    for part in parts:
        keys, counts = np.unique(part, return_counts=True)
        for k, c in zip(keys.tolist(), counts.tolist(), strict=True):
            total[int(k)] = total.get(int(k), 0.0) + c / part.size / len(parts)
    return dict(sorted(total.items()))


def aggregate_plurality(outcomes: np.ndarray, variant_shots: Sequence[int]) -> dict[int, float]:
    """Plurality vote (``sharpen``): each variant votes for its most frequent outcome(s), ties share
    the vote; the result is the share of votes each outcome won."""
    parts = [p for p in _split(outcomes, variant_shots) if p.size]
    votes: dict[int, float] = {}
    for part in parts:
        keys, counts = np.unique(part, return_counts=True)
        winners = keys[counts == counts.max()].tolist()
        for k in winners:
            votes[int(k)] = votes.get(int(k), 0.0) + 1.0 / len(winners) / len(parts)
    return dict(sorted(votes.items()))
