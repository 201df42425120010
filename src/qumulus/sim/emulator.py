"""Run a circuit on an emulated QPU: compile, schedule, add the device's noise, sample shots.

``emulate`` is what a job on ``qpu.*`` (or on ``simulator`` with ``noise.model`` = a QPU name) runs:

1. compile to the device's native gates (:mod:`qumulus.circuits.compile`);
2. schedule them as the timing model does (:mod:`qumulus.backends.timing`) and put each idle gap's
   and each gate's noise where it happens;
3. sample ``shots`` on the engine the cost model (:mod:`qumulus.sim.cost`) predicts fastest:

   * ``pauli-stim`` — a Clifford circuit (after compilation) on stim, any width
     (:mod:`qumulus.sim.stim_noisy`);
   * ``pauli-qsim`` / ``pauli-qulacs`` — the Pauli-noise state-vector engine: every shot's errors
     sampled up front, the error-free circuit simulated once, distinct error patterns branched from
     shared error-free prefixes (:mod:`qumulus.sim.pauli_noise`, :mod:`qumulus.sim.error_patterns`,
     :mod:`qumulus.sim.branching`);
   * ``aer-density-matrix`` — Aer's exact density matrix with the full (non-twirled) channels of
     :mod:`qumulus.sim.noise`, kept for tiny circuits: it is chosen whenever it is predicted within
     :data:`EXACT_PREFERENCE_SECONDS` of the fastest, and it is the accuracy reference;
   * ``aer-trajectories`` — the full model on Aer's state-vector trajectories (a reference engine,
     never chosen automatically; ``engine=`` or ``$QUMULUS_NOISY_ENGINE`` pins any engine);
   * ``noisy-trajectories`` — the per-shot trajectory engine with the same Pauli noise
     (:mod:`qumulus.sim.noisy_trajectories`): the only engine for a **program** (mid-circuit
     measurement, reset, ``if``; compiled by :func:`qumulus.circuits.compile.compile_program`),
     whatever is pinned; on a unitary circuit only when pinned (a cross-check);
4. return the per-shot outcomes in shot order, and the QPU time the timing model bills.

:func:`predict` is the cost model's entry point for a submitted circuit: the predicted wall time of
``emulate`` on this machine class, before anything runs.

**Debiasing** (``debias=True``, IonQ's ``error_mitigation.debiasing``) splits the shots over
:data:`DEBIAS_VARIANTS` symmetrized variants: each maps the circuit's qubits onto a random set of
physical qubits (a qubit-permutation symmetry: per-qubit biases average out) and compiles it with a
random Pauli twirl of every two-qubit gate (a gate-level symmetry: coherent errors such as frequency
drift no longer add up coherently). The variants' distributions are averaged
(:func:`aggregate_average`), or combined by plurality vote (:func:`aggregate_plurality`, the
results' ``sharpen=true``).
"""

from __future__ import annotations

import importlib.util
import logging
import math
import os
import platform
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from qumulus.backends.device import COHERENT_2Q_SHARE, DeviceModel
from qumulus.backends.timing import execution_seconds, gate_seconds, schedule
from qumulus.circuits.compile import compile_native, compile_program
from qumulus.circuits.gates import matrix
from qumulus.circuits.model import Circuit
from qumulus.sim import cost
from qumulus.sim.noise import NoiseBuilder

log = logging.getLogger(__name__)

#: The density matrix is never considered above this width (4**n memory: 268 MB of complex128 at 12).
DENSITY_MATRIX_MAX_QUBITS = 12
#: The exact density matrix is chosen when predicted at most this many seconds slower than the fastest.
EXACT_PREFERENCE_SECONDS = 0.25
#: Number of symmetrized variants a debiased job is split into (fewer when shots are fewer).
DEBIAS_VARIANTS = 16
#: Environment variable pinning the noisy engine (benches, debugging), e.g. ``aer-density-matrix``.
ENGINE_ENV = "QUMULUS_NOISY_ENGINE"
ENGINES = (
    "pauli-stim", "pauli-qsim", "pauli-qulacs", "aer-density-matrix", "aer-trajectories", "noisy-trajectories"
)  # fmt: skip
#: The engine of programs (mid-circuit measurement, reset, ``if``): per-shot trajectories.
PROGRAM_ENGINE = "noisy-trajectories"
#: Seed of the error sample the prediction counts work on (fixed: a prediction is deterministic).
PREDICTION_SEED = 12
#: The engine family name recorded on results (the exact engine is ``Emulation.method``).
ENGINE_NAME = "emulator"
#: Aer's ``statevector_parallel_threshold``: fewer (state-vector-equivalent) qubits are updated
#: on one thread; a density matrix of ``n`` qubits counts as ``2n``.
AER_PARALLEL_THRESHOLD = 14
#: Trajectory-budget mode plans a run to fill this share of the limit (headroom for the cost model's
#: error and for a loaded machine).
BUDGET_SHARE = 0.6
#: Fewest shared trajectories budget mode runs; a job that does not fit even so is refused.
MIN_TRAJECTORIES = 32
#: The state-vector engines budget mode applies to (stim and the density matrix are exact and cheap).
BUDGET_ENGINES = ("pauli-qsim", "pauli-qulacs")


@dataclass
class Emulation:
    """Shots in execution order (little-endian ints), how many belong to each variant, billed time."""

    outcomes: np.ndarray
    variant_shots: list[int]
    seconds: float
    native_gates: dict[str, int] = field(default_factory=dict)
    method: str = ""
    #: Budget mode: the trajectories each variant's shots with errors shared (None: one per pattern).
    trajectories: int | None = None


@dataclass(frozen=True)
class Prediction:
    """The cost model's answer for one job: the engine it picks and its predicted wall seconds."""

    seconds: float
    engine: str
    #: Predicted seconds of every engine considered (the chosen one included).
    engines: dict[str, float]
    #: Distinct error patterns in the prediction's error sample (state-vector engines' unit of work).
    patterns: int
    qubits: int
    native_gates: int
    #: Trajectory-budget mode: trajectories per variant (None: exact, one trajectory per pattern).
    trajectories: int | None = None


def available_noisy_engines() -> tuple[str, ...]:
    """The noisy engines whose packages are installed here (checked without importing them)."""
    have = []
    if importlib.util.find_spec("stim") is not None:
        have.append("pauli-stim")
    if importlib.util.find_spec("qsimcirq") is not None and platform.machine().lower() in ("x86_64", "amd64"):
        have.append("pauli-qsim")
    if importlib.util.find_spec("qulacs") is not None:
        have.append("pauli-qulacs")
    have += ["aer-density-matrix", "aer-trajectories"]
    return tuple(have)


def _variants(shots: int, debias: bool) -> list[int]:
    if not debias:
        return [shots]
    count = max(1, min(DEBIAS_VARIANTS, shots))
    return [shots // count + (1 if v < shots % count else 0) for v in range(count)]


def engine_costs(native: Circuit, device: DeviceModel, shots: int, layout: Sequence[int] | None = None,
                 run: tuple[Any, cost.RunShape] | None = None) -> tuple[dict[str, float], int]:  # fmt: skip
    """Predicted seconds of each available engine for one compiled run, and its pattern count
    (``run``: the run's :func:`run_shape`, when already built)."""
    from qumulus.sim.error_patterns import sample_patterns, work_plan
    from qumulus.sim.stim_noisy import is_clifford

    program, shape = run or run_shape(native, device, shots, layout)
    have = available_noisy_engines()
    costs: dict[str, float] = {}
    patterns = 0
    if "pauli-stim" in have and COHERENT_2Q_SHARE == 0.0 and is_clifford(native):
        costs["pauli-stim"] = cost.stim_seconds(shape)
    if "pauli-qsim" in have or "pauli-qulacs" in have:
        from qumulus.sim.branching import stride

        sample = sample_patterns(program, shots, np.random.default_rng(PREDICTION_SEED))
        if "pauli-qsim" in have:
            plan = work_plan(sample, program.depth, stride("qsim"))
            costs["pauli-qsim"] = cost.qsim_seconds(shape, plan)
        if "pauli-qulacs" in have:
            plan = work_plan(sample, program.depth, stride("qulacs"))
            costs["pauli-qulacs"] = cost.qulacs_seconds(shape, plan)
        patterns = plan.patterns
    if native.qubits <= DENSITY_MATRIX_MAX_QUBITS:
        costs["aer-density-matrix"] = cost.density_matrix_seconds(shape)
    costs["aer-trajectories"] = cost.aer_trajectories_seconds(shape)
    return costs, patterns


def plainly_exact(shape: cost.RunShape) -> bool:
    """Whether :func:`choose` picks ``aer-density-matrix`` whatever the other engines cost: it is
    predicted within :data:`EXACT_PREFERENCE_SECONDS` of zero (and no engine is pinned). Then
    they need no pricing, which samples every shot's error pattern (2 of the 5 ms a 2-qubit
    circuit's emulation takes)."""
    return (
        not os.environ.get(ENGINE_ENV)
        and shape.qubits <= DENSITY_MATRIX_MAX_QUBITS
        and cost.density_matrix_seconds(shape) <= EXACT_PREFERENCE_SECONDS
    )


def run_shape(native: Circuit, device: DeviceModel, shots: int, layout: Sequence[int] | None
              ) -> tuple[Any, cost.RunShape]:  # fmt: skip
    """The run's Pauli program (its noise locations) and the shape the cost model prices."""
    from qumulus.sim.pauli_noise import build_program

    program = build_program(native, device, layout)
    shape = cost.RunShape(qubits=native.qubits, gates=program.depth, locations=len(program.locations),
                          shots=shots, expected_errors=program.expected_errors())  # fmt: skip
    return program, shape


def choose(costs: dict[str, float]) -> str:
    """The fastest automatic engine, or the exact density matrix when it is nearly as fast."""
    pinned = os.environ.get(ENGINE_ENV)
    if pinned:
        if pinned not in ENGINES:
            raise ValueError(f"{ENGINE_ENV}={pinned!r}: not one of {', '.join(ENGINES)}")
        return pinned
    automatic = {k: v for k, v in costs.items() if k != "aer-trajectories"}
    best = min(automatic, key=automatic.__getitem__)
    exact = automatic.get("aer-density-matrix")
    if exact is not None and exact <= automatic[best] + EXACT_PREFERENCE_SECONDS:
        return "aer-density-matrix"
    return best


def budget_trajectories(
    native: Circuit,
    device: DeviceModel,
    shots: int,
    engine: str,
    seconds: float,
    layout: Sequence[int] | None = None,
) -> tuple[int, float] | None:
    """Budget mode's plan for one variant: ``(K, predicted seconds)`` with the most shared
    trajectories ``K`` (≥ :data:`MIN_TRAJECTORIES`) whose predicted run fits ``seconds``; None when
    even the fewest do not fit. Priced like the exact run: the fixed-seed error sample, its shots with
    errors dealt to ``K`` representatives, the resulting tree walked without simulating.
    """
    from qumulus.sim.branching import stride
    from qumulus.sim.error_patterns import sample_patterns, share_trajectories, work_plan
    from qumulus.sim.pauli_noise import build_program

    if engine not in BUDGET_ENGINES:
        return None
    program = build_program(native, device, layout)
    shape = cost.RunShape(
        native.qubits, program.depth, len(program.locations), shots, program.expected_errors()
    )
    sample = sample_patterns(program, shots, np.random.default_rng(PREDICTION_SEED))
    price = cost.qsim_seconds if engine == "pauli-qsim" else cost.qulacs_seconds
    step = stride("qsim" if engine == "pauli-qsim" else "qulacs")

    def predicted(k: int) -> float:
        shared = share_trajectories(sample, k, np.random.default_rng(PREDICTION_SEED))
        return price(shape, work_plan(shared, program.depth, step))

    low, high = MIN_TRAJECTORIES, max(MIN_TRAJECTORIES, len(sample.patterns))
    if predicted(low) > seconds:
        return None
    while high - low > max(1, low // 64):  # to ~1.5 %: the cost model is not finer than that
        mid = (low + high + 1) // 2
        if predicted(mid) <= seconds:
            low = mid
        else:
            high = mid - 1
    return low, predicted(low)


#: A run predicted over this share of its limit measures the machine's speed first (:func:`slowdown`).
PROBE_FROM = 0.2
#: Timed one-gate calls the speed probe makes (their median counts: one call can land in a lull).
PROBE_CALLS = 3


def slowdown(
    native: Circuit, device: DeviceModel, engine: str, layout: Sequence[int] | None, threads: int | None
) -> float:
    """Measured ÷ predicted seconds of a one-gate qsim call on a full state (a pass over the state,
    as the calibration's unit), now, clipped to [1, 20]: how much slower than the calibration this
    machine runs at the moment (other work on a shared box takes cores and memory bandwidth; never
    planned *faster* than calibrated: a probe can land in a lull). 1.0 on engines without a probe.
    Costs four short calls (~2 s at 25 qubits)."""
    if engine != "pauli-qsim":
        return 1.0
    import time

    from qumulus.sim.branching import QsimBackend
    from qumulus.sim.pauli_noise import build_program

    program = build_program(native, device, layout)
    if program.depth < 2:
        return 1.0
    backend = QsimBackend(program, np.random.default_rng(0), 1, threads=threads)
    state = backend.run(None, [], 0, 1)
    measured = []
    for _ in range(PROBE_CALLS):
        started = time.perf_counter()
        backend.run(state, [], 1, 2)
        measured.append(time.perf_counter() - started)
    return float(np.clip(np.median(measured) / cost.qsim_probe_seconds(native.qubits, 1), 1.0, 20.0))


def _unitary_part(circuit: Circuit) -> tuple[Circuit, tuple[tuple[int, int], ...] | None] | None:
    """``(gates only, (qubit, clbit) pairs or None)``: an OpenQASM program whose measurements are all
    terminal runs as its unitary, its outcome being the measured bits. None for a *program* (a
    mid-circuit measurement, a reset, classical control): it runs per shot (:func:`_emulate_program`)."""
    if circuit.is_unitary and not circuit.measures_explicitly:
        return circuit, None
    return circuit.split_terminal_measurements()


def _to_clbits(outcomes: np.ndarray, mapping: tuple[tuple[int, int], ...]) -> np.ndarray:
    out = np.zeros(outcomes.size, dtype=np.uint64)
    for qubit, clbit in mapping:
        out |= ((outcomes >> np.uint64(qubit)) & np.uint64(1)) << np.uint64(clbit)
    return out


def predict(
    circuit: Circuit,
    device: DeviceModel,
    shots: int,
    *,
    debias: bool = False,
    max_seconds: float | None = None,
) -> Prediction:
    """Predicted wall seconds of :func:`emulate` on this machine class, and the engine it would use.

    Pure and deterministic (a fixed-seed error sample; no timing of anything): the compile it does is
    the same deterministic compilation the run does. A debiased job is priced as its variants, each
    with its share of the shots, on the untwirled compilation (a twirl changes phases, not sizes).
    With ``max_seconds`` (the server's limit), a run predicted over it is priced in trajectory-budget
    mode (:func:`budget_trajectories`, planned at :data:`BUDGET_SHARE` of the limit) when that fits.
    """
    split = _unitary_part(circuit)
    if split is None:
        return _predict_program(circuit, device, shots, debias=debias)
    circuit = split[0]
    native = compile_native(circuit, device.native_2q).circuit
    return predict_native(
        native, device, shots, debias=debias, max_seconds=max_seconds, submitted_gates=len(circuit.operations)
    )


def _predict_program(circuit: Circuit, device: DeviceModel, shots: int, *, debias: bool) -> Prediction:
    """:func:`predict` of a program (it runs on ``noisy-trajectories``, see :func:`cost.program_seconds`)."""
    from qumulus.circuits.model import iter_operations
    from qumulus.sim.noisy_trajectories import DeviceNoise
    from qumulus.sim.trajectories import program_steps

    native = compile_program(circuit, device.native_2q)
    steps, _, _ = program_steps(native)
    errors, ops = DeviceNoise(device, range(native.qubits)).expected_errors(steps, native.qubits)
    splits = sum(1 for s in steps if s[0] == "op" and s[1].name in ("measure", "reset"))
    measures = sum(1 for s in steps if s[0] == "op" and s[1].name == "measure")
    flip = float(np.mean([device.p1_given_0[q] + device.p0_given_1[q] for q in range(native.qubits)])) / 2
    sizes = _variants(shots, debias)
    submitted = sum(1 for _ in iter_operations(circuit.operations))
    seconds = cost.compile_seconds(submitted) * len(sizes)
    branches = 0
    for size in sizes:
        shape = cost.ProgramShape(native.qubits, ops, size, errors, splits, measures * flip)
        seconds += cost.program_seconds(shape)
        branches += cost.program_branches(shape)
    return Prediction(
        seconds=seconds,
        engine=PROGRAM_ENGINE,
        engines={PROGRAM_ENGINE: seconds},
        patterns=int(branches),
        qubits=native.qubits,
        native_gates=ops,
    )


def predict_native(
    native: Circuit,
    device: DeviceModel,
    shots: int,
    *,
    debias: bool = False,
    max_seconds: float | None = None,
    submitted_gates: int = 0,
) -> Prediction:
    """:func:`predict` of an already compiled circuit (``submitted_gates``: what compilation costs;
    0 = nothing to compile). ``GET /jobs/estimate``, which knows gate counts only, prices a
    representative native circuit with those counts this way."""
    sizes = _variants(shots, debias)
    per_variant: dict[str, float] = {}
    patterns = 0
    for size in sorted(set(sizes)):
        costs, found = engine_costs(native, device, size)
        repeat = sizes.count(size)
        patterns += found * repeat
        for name, seconds in costs.items():
            per_variant[name] = per_variant.get(name, 0.0) + seconds * repeat
    engine = choose(per_variant)
    compiling = cost.compile_seconds(submitted_gates) * len(sizes) if submitted_gates else 0.0
    total = {name: seconds + compiling for name, seconds in per_variant.items()}
    seconds = total.get(engine, math.inf)
    trajectories = None
    if max_seconds and seconds > max_seconds:
        each = (max_seconds * BUDGET_SHARE - compiling) / len(sizes)
        plan = budget_trajectories(native, device, max(sizes), engine, each) if each > 0 else None
        if plan is not None:
            trajectories, variant_seconds = plan
            seconds = compiling + variant_seconds * len(sizes)
            patterns = min(patterns, (trajectories + 1) * len(sizes))
    return Prediction(
        seconds=seconds,
        engine=engine,
        engines=total,
        patterns=patterns,
        qubits=native.qubits,
        native_gates=len(native.operations),
        trajectories=trajectories,
    )


def emulate(
    circuit: Circuit,
    device: DeviceModel,
    shots: int,
    *,
    seed: int,
    debias: bool = False,
    threads: int | None = None,
    engine: str | None = None,
    max_seconds: float | None = None,
    trajectories: int | None = None,
) -> Emulation:
    """Emulate ``circuit`` on ``device`` for ``shots`` shots; reproducible for a given ``seed``.

    ``engine`` pins the noisy engine (one of :data:`ENGINES`); by default the cost model picks it.
    ``max_seconds`` (the server's limit): a variant predicted over its share of it runs in
    trajectory-budget mode, as :func:`predict` planned; ``trajectories`` forces that mode with ``K``
    shared trajectories per variant (tests, benches).
    """
    if circuit.qubits > device.qubits:
        raise ValueError(f"the device has {device.qubits} qubits, the circuit needs {circuit.qubits}")
    split = _unitary_part(circuit)
    if split is None:
        return _emulate_program(circuit, device, shots, seed=seed, debias=debias)
    circuit, clbits = split
    rng = np.random.default_rng(seed)
    sizes = _variants(shots, debias)
    if debias:
        plans = [
            (
                [int(q) for q in rng.permutation(device.qubits)[: circuit.qubits]],
                int(rng.integers(2**31)),
            )
            for _ in sizes
        ]
    else:
        plans = [(list(range(circuit.qubits)), None)]
    outcomes: list[np.ndarray] = []
    natives: list[Circuit] = []
    chosen = engine
    shared = trajectories
    for size, (layout, twirl) in zip(sizes, plans, strict=True):
        native = compile_native(circuit, device.native_2q, twirl_seed=twirl).circuit
        natives.append(native)
        costs: dict[str, float] | None = None
        if chosen is None:
            run = run_shape(native, device, size, layout)
            if plainly_exact(run[1]):
                chosen = "aer-density-matrix"
            else:
                costs = engine_costs(native, device, size, layout, run)[0]
                chosen = choose(costs)
        if max_seconds and trajectories is None and chosen in BUDGET_ENGINES:
            costs = costs or engine_costs(native, device, size, layout)[0]
            share = max_seconds / len(sizes)
            # A long run first measures how fast this machine is right now (a shared box may run at
            # a third of the calibrated speed) and plans for the limit at that speed.
            slower = 1.0
            if costs.get(chosen, 0.0) > PROBE_FROM * share:
                slower = slowdown(native, device, chosen, layout, threads)
            each = (share * BUDGET_SHARE - cost.compile_seconds(len(circuit.operations))) / slower
            if costs.get(chosen, 0.0) * slower > share:
                plan = budget_trajectories(native, device, size, chosen, each, layout) if each > 0 else None
                # The job was admitted: at worst it runs with the fewest trajectories, never exactly.
                shared = plan[0] if plan is not None else MIN_TRAJECTORIES
                log.info(
                    "budget mode: %d trajectories (exact predicted %.0f s, machine %.1fx slower than "
                    "calibrated, limit %.0f s)", shared, costs.get(chosen, 0.0), slower, share,
                )  # fmt: skip
            else:
                shared = None
        seed_v = int(rng.integers(2**31))
        outcomes.append(_run(chosen, native, device, layout, size, seed_v, threads, shared))
    seconds = device.job_overhead + sum(
        execution_seconds([n], device, s) - device.job_overhead for n, s in zip(natives, sizes, strict=True)
    )
    counts = {"1q": 0, "2q": 0}
    for op in natives[0].operations:
        counts["2q" if op.arity == 2 else "1q"] += 1
    shots_out = np.concatenate(outcomes)
    if clbits is not None:
        shots_out = _to_clbits(shots_out, clbits)
    method = chosen or ""
    if shared is not None:
        method = f"{method} budget:{shared}"
    return Emulation(shots_out, sizes, seconds, counts, method, shared)


def _run(
    engine: str,
    native: Circuit,
    device: DeviceModel,
    layout: list[int],
    shots: int,
    seed: int,
    threads: int | None,
    trajectories: int | None = None,
) -> np.ndarray:
    """One variant's outcomes on ``engine`` (``trajectories``: budget mode, state-vector engines)."""
    if engine not in ENGINES:
        raise ValueError(f"unknown noisy engine {engine!r}: one of {', '.join(ENGINES)}")
    if engine == PROGRAM_ENGINE:
        return _program_outcomes(native, device, layout, shots, seed)
    if engine.startswith("aer-"):
        method = "density_matrix" if engine == "aer-density-matrix" else "statevector"
        builder = _builder(device, trajectories=method == "statevector")
        qc = noisy_circuit(native, device, layout, builder)
        return _sample(qc, builder.readout_model(layout), shots, seed, method, threads)
    from qumulus.sim.pauli_noise import apply_readout, build_program
    from qumulus.sim.stim_noisy import is_clifford

    rng = np.random.default_rng(seed)
    if engine == "pauli-stim" and is_clifford(native) and COHERENT_2Q_SHARE == 0.0:
        from qumulus.sim import stim_noisy

        program = build_program(native, device, layout, mode="clifford")
        return apply_readout(stim_noisy.sample(program, shots, int(rng.integers(2**63))), program, rng)
    from qumulus.sim.branching import run_program

    program = build_program(native, device, layout)
    have_qsim = "pauli-qsim" in available_noisy_engines()
    backend = "qulacs" if engine == "pauli-qulacs" or not have_qsim else "qsim"
    if engine == "pauli-stim":  # a twirled variant of a Clifford circuit that is not Clifford
        backend = "qsim" if "pauli-qsim" in available_noisy_engines() else "qulacs"
    return run_program(program, shots, rng, backend, threads=threads, trajectories=trajectories)


def _emulate_program(
    circuit: Circuit, device: DeviceModel, shots: int, *, seed: int, debias: bool
) -> Emulation:
    """A program (mid-circuit measurement, reset, ``if``) on ``device``: compiled block by block
    (:func:`compile_program`), run per shot with the device's noise on the trajectory engine; billed
    the timing model's time of the compiled program (the longest path of an ``if``). Debiasing
    splits the shots over variants as for a circuit (a random physical layout and a random twirl of
    the two-qubit gates each)."""
    if circuit.measures_explicitly and circuit.clbits > 63:
        raise ValueError(f"a program with {circuit.clbits} classical bits: at most 63 run on an emulated QPU")
    rng = np.random.default_rng(seed)
    sizes = _variants(shots, debias)
    outcomes: list[np.ndarray] = []
    natives: list[Circuit] = []
    for size in sizes:
        if debias:
            layout = [int(q) for q in rng.permutation(device.qubits)[: circuit.qubits]]
            twirl: int | None = int(rng.integers(2**31))
        else:
            layout, twirl = list(range(circuit.qubits)), None
        native = compile_program(circuit, device.native_2q, twirl_seed=twirl)
        natives.append(native)
        outcomes.append(_program_outcomes(native, device, layout, size, int(rng.integers(2**31))))
    seconds = device.job_overhead + sum(
        execution_seconds([n], device, s) - device.job_overhead for n, s in zip(natives, sizes, strict=True)
    )
    from qumulus.circuits.compile import native_gate_counts

    return Emulation(np.concatenate(outcomes), sizes, seconds, native_gate_counts(natives[0]), PROGRAM_ENGINE)


def _program_outcomes(native: Circuit, device: DeviceModel, layout: Sequence[int], shots: int, seed: int
                      ) -> np.ndarray:  # fmt: skip
    """One variant's outcomes (little-endian ints over the clbits, or the qubits) on the noisy
    trajectory engine."""
    from qumulus.sim.noisy_trajectories import DeviceNoise
    from qumulus.sim.routing import MEMORY_FRACTION, physical_memory_bytes
    from qumulus.sim.trajectories import TrajectoryEngine

    limit = int(MEMORY_FRACTION * physical_memory_bytes())
    samples = TrajectoryEngine().sample(
        native, shots, seed, max_bytes=limit, noise=DeviceNoise(device, layout)
    )
    return np.asarray(samples.outcomes(), dtype=np.uint64)


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


def noisy_circuit(
    native: Circuit,
    device: DeviceModel,
    layout: Sequence[int],
    builder: NoiseBuilder,
    *,
    measure: bool = True,
) -> Any:
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
    if measure:
        qc.measure_all()
    return qc


def exact_probabilities(
    native: Circuit, device: DeviceModel, layout: Sequence[int] | None = None, *, model: str = "full"
) -> np.ndarray:
    """The exact output distribution (readout error included) of a small noisy run: the accuracy
    reference. ``model="full"`` is the physical model (Aer's Kraus channels, :mod:`qumulus.sim.noise`);
    ``"pauli"`` / ``"clifford"`` are the Pauli programs the fast engines sample
    (:func:`qumulus.sim.pauli_noise.build_program` in ``exact`` / ``clifford`` mode), run exactly.
    Density matrix: small circuits only (4**n memory).
    """
    from qiskit import QuantumCircuit
    from qiskit.circuit.library import UnitaryGate
    from qiskit_aer import AerSimulator
    from qiskit_aer.noise import pauli_error

    from qumulus.sim.pauli_noise import PAULI_LETTERS, build_program

    n = native.qubits
    phys = list(range(n)) if layout is None else list(layout)
    if model == "full":
        qc = noisy_circuit(native, device, phys, NoiseBuilder(device), measure=False)
    else:
        program = build_program(native, device, phys, mode="exact" if model == "pauli" else "clifford")
        by_pos: dict[int, list[Any]] = {}
        for loc in program.locations:
            by_pos.setdefault(loc.pos, []).append(loc)
        qc = QuantumCircuit(n)

        def channels(pos: int) -> None:
            for loc in by_pos.get(pos, ()):
                k = len(loc.qubits)
                terms = []
                for code, p in enumerate(loc.probs):
                    if p > 0:
                        letters = (
                            [PAULI_LETTERS[code]]
                            if k == 1
                            else [PAULI_LETTERS[code // 4], PAULI_LETTERS[code % 4]]
                        )
                        # qiskit labels are little-endian over the qargs: the last letter is qargs[0].
                        terms.append(("".join(reversed(letters)), float(p)))
                qc.append(pauli_error(terms), list(loc.qubits))

        for i, ((wires, unitary), op) in enumerate(zip(program.gates, program.ops, strict=True)):
            channels(i)
            gate = matrix(op) if model == "clifford" else unitary
            qc.append(UnitaryGate(gate, check_input=False), list(reversed(wires)))
        channels(program.depth)
    qc.save_probabilities(label="p")
    result = AerSimulator(method="density_matrix").run(qc, shots=1).result()
    probs = np.asarray(result.data(0)["p"], dtype=np.float64).reshape((2,) * n)
    for i, q in enumerate(phys):
        p10, p01 = device.p1_given_0[q], device.p0_given_1[q]
        confusion = np.array([[1 - p10, p01], [p10, 1 - p01]])  # [read, true]
        axis = n - 1 - i  # C order: axis 0 holds the most significant qubit
        probs = np.moveaxis(np.tensordot(confusion, probs, axes=([1], [axis])), 0, axis)
    return probs.reshape(-1)


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

    if threads is None and method == "density_matrix" and 2 * qc.num_qubits < AER_PARALLEL_THRESHOLD:
        # A state this small is below Aer's threshold for parallel updates and its shots are
        # sampled from one final state, so more threads add nothing but their start-up: a 2-qubit
        # run took 23 ms with 2 threads and 13 ms with 1 (busy 2-core box). Same seed, same shots.
        threads = 1
    backend = AerSimulator(
        method=method,
        noise_model=readout,
        seed_simulator=seed,
        max_parallel_threads=threads or default_threads(),
    )
    result = backend.run(qc, shots=shots, memory=True).result()
    if not result.success:
        raise RuntimeError(f"qiskit-aer failed: {result.status}")
    # Aer's raw per-shot memory is the classical register's value in hex: read it as is
    # (``Result.get_memory`` first formats each shot as a padded bit string, ~2 ms per 1000 shots).
    memory = result.results[0].data.memory
    return np.fromiter((int(value, 16) for value in memory), dtype=np.uint64, count=len(memory))


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
