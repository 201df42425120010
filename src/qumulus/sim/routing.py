"""Which engine runs a job: a per-job decision from measured speed, precision and memory.

Policy for ideal runs (``exact=True``), from the measurements below and simulators.md:

* ``n ≤ QULACS_MAX_QUBITS`` (14): **qulacs** (double precision, lowest per-call overhead);
* larger: **qsim** (float32, gate fusion) on x86_64 when installed; without it (or with
  ``double_precision=True``) qulacs up to ``QULACS_MAX_QUBITS_VS_AER`` (15), then **Aer**;
* an engine that cannot take the circuit (qsim: a ``pauliexp`` wider than 6 targets, 4 if
  controlled) is skipped; ``exact=False`` (noisy emulation) goes to Aer;
* :func:`run_ideal` refuses up front a run whose planned peak memory (``peak_bytes``) exceeds 90 % of
  the memory available now, instead of letting the kernel kill the worker.

Measured on this machine (2 vCPU AMD EPYC with AVX-512, 24 GiB, no swap), **shared with other
sessions** (load average 2–5 during most runs), so wall times are upper bounds; CPU seconds are
given where contention made wall time misleading. Circuits are
``bench/large_circuit_engines.random_ionq_circuit``: per layer one random rx/ry/rz on every qubit,
then a random perfect matching with cnot or xx per pair. Warm process, ``engine.probabilities()``.

Crossover, wall ms, median of 7 (n ≤ 16) or 3 runs interleaved in random order (load ≈ 1.8):

    depth 20     n=10   n=12   n=13   n=14   n=15   n=16   n=18   n=20
    aer           8.2   17.7   21.2   35.8   29.9   49.2    192    848
    qsim          9.4   11.5   12.7   24.4   14.5   15.7   26.7   69.2
    qulacs        2.8    8.0    6.1   14.9   27.3   44.4    165    765

    depth 5      n=10   n=12   n=13   n=14   n=15   n=16
    aer           2.9    4.8    5.7   10.2   12.3   17.9
    qsim          3.0    4.1    3.7    5.7    4.7    5.6
    qulacs        0.9    1.8    1.9    3.4   14.4   21.2

(An earlier run with 3 rotations per qubit per layer, load ≈ 0.4, put the qulacs/qsim crossover at
13/14: n=14 qulacs 22.6–31.2 ms vs qsim 25.6–28.2 ms, n=16 84–118 vs 37–39 ms, n=20 1.75 s vs 0.11 s.)
qulacs slows sharply from 14 qubits, where it starts using OpenMP threads.

Qubit limit through :func:`run_ideal` (qsim, f=4), one fresh process per run, peak RSS of the process:

    circuit                 n=26            n=28             n=29             n=30
    GHZ (n gates)           1.4 s  0.76 GiB  9.6–17 s 2.4 GiB  14 s    4.7 GiB   41 s  9.2 GiB
    random depth 20         14.5 s 0.69 GiB  44.5 s   2.2 GiB  95 s    4.2 GiB   not run (est. 200–220 s,
      (780/840/860 gates)   (17.5 CPU s)     (64 CPU s)        (152 CPU s)       ~8.2 GiB)

Memory is the state alone: qsim's complex64 buffer is turned into float64 probabilities in place, so
30 qubits need 8 GiB (+1 GiB mask for a sparse result). 31 qubits (16 GiB + 2 GiB) would just fit an
otherwise idle 24 GiB machine and was not run on this shared one; 32 cannot fit. Double precision
(Aer: state + probabilities = 25 B/amplitude, measured 1.75 GiB GHZ-26 in 9.6 s, 6.25 GiB GHZ-28 in
44 s) tops out at 29 qubits (12.5 GiB); its random depth-20 time at 28–29 is several minutes
(simulators.md: 69 s at 26, ~300 s estimated at 28).

State → Distribution cost (random depth 20, qsim): 24 qubits 0.03–0.06 s of probabilities plus
≤ 0.02 s of ``from_dense`` against 3.1–5.6 s of simulation (1.0–1.4 %); 26 qubits 0.12–0.13 s
against 11.8–19.2 s (0.6–1.4 %). Before the in-place conversion and the sampled density check it was
0.25 s of a 1.55 s run at 24 qubits (16 %). GHZ is the worst case because its simulation is trivial:
at 26 qubits 0.13–0.28 s (probabilities) + 0.04–0.13 s (sparse extraction) vs 0.55–1.2 s.

qsim endianness: simulating with the qubit order reversed costs nothing; the alternative (default
order, then ``reshape((2,)*n).transpose(reversed)``) added 0.6–1.15 s at 24 qubits (+40 %).
"""

from __future__ import annotations

import functools
import importlib.util
import os
import platform
from dataclasses import dataclass, field
from typing import Any

from qumulus.circuits.model import Circuit, Operation
from qumulus.sim.engine import Distribution, Engine, Samples
from qumulus.sim.mps import bond_bound
from qumulus.sim.stabilizer import is_clifford, max_qubits_configured

#: Up to this many qubits qulacs is fastest when qsim is the alternative. Measured crossover 14/15
#: (table above): depth 20 at n=14 qulacs 14.9 ms vs qsim 24.4 ms, at n=15 27.3 vs 14.5 ms;
#: depth 5 at n=14 3.4 vs 5.7 ms, at n=15 14.4 vs 4.7 ms.
QULACS_MAX_QUBITS = 14
#: Up to this many qubits qulacs is used instead of Aer (no qsim, or double precision asked). qulacs
#: does not fuse gates, so beyond this it is gate-count dependent: depth 5 at n=16 Aer 17.9 ms vs
#: qulacs 21.2 ms; depth 20 qulacs stays ~10 % ahead to n=20, while an earlier circuit with 3 rotations
#: per qubit per layer had Aer ahead from n=16 (77 vs 84 ms) and 2.1x ahead at n=20 (0.82 vs 1.75 s).
QULACS_MAX_QUBITS_VS_AER = 15
#: Fraction of the memory available now that one simulation may plan to use (see ``peak_bytes``).
MEMORY_FRACTION = 0.9
#: Environment variable that pins the engine for ideal runs (benchmarks, debugging), e.g. ``aer``.
ENGINE_OVERRIDE_ENV = "QUMULUS_SIM_ENGINE"

_MODULES = {"aer": "qiskit_aer", "qsim": "qsimcirq", "qulacs": "qulacs"}


@functools.cache
def available_engines() -> dict[str, Engine]:
    """The engines whose package is installed (checked without importing them), by name."""
    engines: dict[str, Engine] = {}
    for name, module in _MODULES.items():
        if importlib.util.find_spec(module) is None:
            continue
        engines[name] = _make(name)
    return engines


def warm_up() -> dict[str, float]:
    """Import every available engine and run a Bell circuit on each: seconds per engine.

    :func:`available_engines` deliberately imports nothing; a worker process calls this once at
    start so the first job does not pay the imports (cirq/qsimcirq ~1.8 s, qiskit-aer ~0.45 s).
    """
    import time

    bell = Circuit(2, (Operation("h", (0,)), Operation("x", (1,), controls=(0,))))
    seconds: dict[str, float] = {}
    for name, engine in available_engines().items():
        start = time.perf_counter()
        engine.probabilities(bell)
        seconds[name] = time.perf_counter() - start
    stim = sampling_engines().get("stim")
    if stim is not None:  # import (20 ms) and first compile before the first wide Clifford job
        start = time.perf_counter()
        stim.sample(bell, 10, seed=0)
        stim.probabilities(bell)
        seconds["stim"] = time.perf_counter() - start
    return seconds


def _make(name: str) -> Engine:
    if name == "aer":
        from qumulus.sim.aer import AerEngine

        return AerEngine()
    if name == "qsim":
        from qumulus.sim.qsim import QsimEngine

        return QsimEngine()
    from qumulus.sim.qulacs_engine import QulacsEngine

    return QulacsEngine()


def choose_engine(
    circuit: Circuit, *, exact: bool = True, double_precision: bool = False, pinned: str | None = None
) -> Engine:
    """The engine for ``circuit``.

    ``exact=True`` asks for the ideal (noiseless) output distribution, what the IonQ ``simulator``
    returns. ``exact=False`` means a noisy emulation: that goes to Aer, the engine whose noise
    models the platform uses (the noise itself is configured by the caller, not here).
    ``double_precision=True`` excludes qsim (float32, ~1e-7) so probabilities agree to ~1e-15.
    ``$QUMULUS_SIM_ENGINE`` (``aer``, ``qsim`` or ``qulacs``) pins the engine for ideal runs.
    """
    engines = available_engines()
    if not engines:
        raise RuntimeError("no simulation engine installed: install qiskit-aer (pip install qumulus[server])")
    if not exact:
        return _first(engines, ("aer", "qulacs", "qsim"))
    pinned = pinned if pinned is not None else os.environ.get(ENGINE_OVERRIDE_ENV, "")
    if pinned:
        if pinned not in engines:
            raise RuntimeError(f"{ENGINE_OVERRIDE_ENV}={pinned!r} is not installed (have: {sorted(engines)})")
        return engines[pinned]
    n = circuit.qubits
    use_qsim = not double_precision and "qsim" in engines and _qsim_preferred()
    small = QULACS_MAX_QUBITS if use_qsim else QULACS_MAX_QUBITS_VS_AER
    if n <= small:
        order: tuple[str, ...] = ("qulacs", "aer", "qsim")
    elif use_qsim:
        order = ("qsim", "aer", "qulacs")
    else:
        order = ("aer", "qulacs", "qsim")
    for name in order:
        engine = engines.get(name)
        if engine is None:
            continue
        supports = getattr(engine, "supports", None)
        if supports is not None and not supports(circuit):
            continue
        if double_precision and name == "qsim":
            continue
        return engine
    raise RuntimeError(f"no installed engine can run this {n}-qubit circuit")


def _first(engines: dict[str, Engine], order: tuple[str, ...]) -> Engine:
    for name in order:
        if name in engines:
            return engines[name]
    raise RuntimeError("no simulation engine installed")


@functools.cache
def _qsim_preferred() -> bool:
    # qsimcirq ships x86_64 wheels only; its speed-up was measured on AVX-512 x86_64.
    return platform.machine().lower() in ("x86_64", "amd64")


#: Runs needing at most this much memory skip the free-memory check (any host has 64 MiB to spare).
ALWAYS_FITS_BYTES = 64 << 20


def required_bytes(engine: Engine, qubits: int) -> int:
    """Peak memory ``engine`` plans for a dense ``qubits``-qubit run (state + probabilities)."""
    peak = getattr(engine, "peak_bytes", None)
    return int(peak(qubits)) if peak is not None else (16 + 8 + 1) << qubits


def physical_memory_bytes() -> int:
    """Memory a run may plan on now: ``MemAvailable``, capped by a cgroup v2 limit when there is one."""
    available = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    available = int(line.split()[1]) * 1024
                    break
    except OSError:
        pass
    try:
        with open("/sys/fs/cgroup/memory.max") as limit_file:
            limit = limit_file.read().strip()
        with open("/sys/fs/cgroup/memory.current") as current_file:
            current = int(current_file.read().strip())
        if limit != "max":
            available = min(available, int(limit) - current)
    except (OSError, ValueError):
        pass
    return available


def run_ideal(circuit: Circuit, *, double_precision: bool = False) -> tuple[Distribution, str]:
    """Simulate ``circuit`` on the routed engine: ``(exact distribution, engine name)``.

    Refuses up front (``MemoryError``) a circuit whose state and probability vector would not fit
    in memory, rather than letting the kernel kill the worker half-way.
    """
    engine = choose_engine(circuit, exact=True, double_precision=double_precision)
    needed = required_bytes(engine, circuit.qubits)
    if needed <= ALWAYS_FITS_BYTES:  # reading /proc per tiny job was a third of its simulation time
        return engine.probabilities(circuit), engine.name
    limit = MEMORY_FRACTION * physical_memory_bytes()
    if needed > limit:
        raise MemoryError(
            f"{circuit.qubits} qubits on {engine.name} need about {needed / 2**30:.1f} GiB; "
            f"this machine allows {limit / 2**30:.1f} GiB"
        )
    return engine.probabilities(circuit), engine.name


# --------------------------------------------------------------------------------------------------
# Sampled runs: wide circuits (stabilizer, MPS) and programs that measure mid-circuit (trajectories).


@dataclass(frozen=True)
class Route:
    """The engine a sampled run goes to, and the seconds the cost model predicts for it."""

    engine: str
    seconds: float
    #: A state-vector engine: exact probabilities are available (``run_ideal``).
    state_vector: bool
    #: For a state vector: the unitary part it simulates and the ``(qubit, clbit)`` measured at the
    #: end (``None``: IonQ semantics, every qubit).
    unitary: Circuit | None = field(default=None, compare=False, repr=False)
    measured: tuple[tuple[int, int], ...] | None = field(default=None, compare=False, repr=False)


#: Cost model, seconds (fitted on this box, see docs/simulation.md and bench/engines.py). A state
#: vector costs per call, per gate (building the engine's circuit object) and per amplitude, per
#: gate; sampling adds a pass over the probabilities. MPS pays Aer's call and per-shot sampling
#: overhead plus ~χ³ per gate; stim is near-free per gate and per measured bit.
SV_COST = {
    "qulacs": (5e-5, 2e-6, 6e-10, 1.2e-8),
    "qsim": (8e-4, 4e-5, 1.2e-10, 1.6e-8),
    "aer": (8e-4, 1e-5, 1e-9, 3e-8),
}
MPS_COST = (0.01, 5e-5, 1.5e-6)  # call, per gate·(χ/2)³, per shot·qubit·(χ/2)
STIM_COST = (8e-5, 3e-7, 2e-9)  # call, per gate, per shot·qubit
TRAJECTORY_COST = (1e-4, 5e-6, 2e-9)  # call, per gate per branch, per amplitude·gate per branch
#: The MPS bound is only computed when the state vector is predicted to take longer than this.
MPS_WORTH_FROM = 0.015
#: A state vector wider than this is never planned (memory; see the table at the top).
STATE_VECTOR_MAX_QUBITS = 30


def sv_seconds(engine: str, qubits: int, gates: int, shots: int) -> float:
    call, per_gate, per_amp_gate, per_amp = SV_COST.get(engine, SV_COST["aer"])
    amplitudes = float(1 << qubits)
    return call + per_gate * gates + amplitudes * (per_amp_gate * gates + per_amp) + 1e-7 * shots


def mps_seconds(log_bond: int, qubits: int, gates: int, shots: int) -> float:
    call, per_gate, per_shot_qubit = MPS_COST
    half_bond = max(1.0, 2.0**log_bond / 2)
    return call + per_gate * gates * half_bond**3 + per_shot_qubit * shots * qubits * half_bond


def route(circuit: Circuit, shots: int) -> Route:
    """Where a sampled run of ``circuit`` should go, by predicted cost (cheapest engine that can)."""
    engines = sampling_engines()
    n = circuit.qubits
    gates = len(circuit.operations)
    pinned = os.environ.get(ENGINE_OVERRIDE_ENV, "")
    if pinned in engines and engines[pinned].supports(circuit):  # type: ignore[attr-defined]
        if pinned in _MODULES:  # a state vector: the circuit is unitary (its ``supports`` says so)
            return Route(pinned, 0.0, True, circuit, () if circuit.measures_explicitly else None)
        return Route(pinned, 0.0, False)
    if "stim" in engines and n <= max_qubits_configured() and is_clifford(circuit):
        # Measured cheapest for every Clifford circuit, even tiny ones (GHZ-8: 0.09 ms vs qulacs 0.32).
        call, per_gate, per_bit = STIM_COST
        return Route("stim", call + per_gate * gates + per_bit * shots * n, False)
    unitary: Circuit | None = circuit
    measured: tuple[tuple[int, int], ...] | None = None
    if circuit.measures_explicitly or not circuit.is_unitary:
        split = circuit.split_terminal_measurements()
        unitary, measured = split if split is not None else (None, None)
    unitary_like = unitary is not None
    options: list[Route] = []
    if unitary is not None and n <= STATE_VECTOR_MAX_QUBITS:
        sv = choose_engine(unitary, exact=True, pinned=pinned)
        options.append(Route(sv.name, sv_seconds(sv.name, n, gates, shots), True, unitary, measured))
    if not unitary_like and "trajectories" in engines and n <= STATE_VECTOR_MAX_QUBITS:
        call, per_gate, per_amp = TRAJECTORY_COST
        options.append(Route("trajectories", call + gates * (per_gate + per_amp * (1 << n)), False))
    best_so_far = min((r.seconds for r in options), default=float("inf"))
    if unitary_like and "mps" in engines and best_so_far > MPS_WORTH_FROM:
        log_bond = bond_bound(circuit)
        if log_bond <= MPS_MAX_LOG_BOND:
            options.append(Route("mps", mps_seconds(log_bond, n, gates, shots), False))
    if not options:
        raise ValueError(_no_engine_reason(circuit))
    return min(options, key=lambda r: r.seconds)


#: MPS is planned only when the bond dimension bound is at most 2**this (memory 16·n·χ² bytes).
MPS_MAX_LOG_BOND = 10


def _no_engine_reason(circuit: Circuit) -> str:
    if circuit.has_control_flow or not circuit.is_unitary:
        return (
            f"a {circuit.qubits}-qubit program that measures mid-circuit, resets or branches needs "
            f"per-shot state vectors (at most {STATE_VECTOR_MAX_QUBITS} qubits) or a Clifford circuit"
        )
    return (
        f"{circuit.qubits} qubits: wider than a state vector ({STATE_VECTOR_MAX_QUBITS}), not Clifford "
        "(stabilizer engine), and too entangled for the matrix-product-state engine"
    )


def run_shots(circuit: Circuit, shots: int, seed: int | None = None) -> tuple[Samples, str]:
    """``shots`` sampled outcomes of ``circuit`` on the routed engine: ``(samples, engine name)``.

    Outcomes are the classical bits of a program that measures (``clbits > 0``), else the qubits.
    """
    chosen = route(circuit, shots)
    engine = sampling_engines()[chosen.engine]
    if chosen.state_vector:
        return _sample_state_vector(engine, chosen, circuit, shots, seed), chosen.engine
    if chosen.engine == "stim":
        return engine.sample(circuit, shots, seed, checked=True), "stim"  # type: ignore[call-arg]
    if chosen.engine == "trajectories":
        limit = int(MEMORY_FRACTION * physical_memory_bytes())
        return engine.sample(circuit, shots, seed, max_bytes=limit), chosen.engine  # type: ignore[call-arg]
    return engine.sample(circuit, shots, seed), chosen.engine


def _sample_state_vector(
    engine: Engine, chosen: Route, circuit: Circuit, shots: int, seed: int | None
) -> Samples:
    """A state-vector engine's shots, mapped to classical bits for a program with terminal measurements."""
    import numpy as np

    assert chosen.unitary is not None
    if chosen.measured is None:
        return Samples.from_ints(engine.sample(chosen.unitary, shots, seed), circuit.qubits)
    measured = chosen.measured
    basis = np.asarray(engine.sample(chosen.unitary, shots, seed), dtype=np.uint64)
    bits = np.zeros((shots, circuit.clbits), dtype=bool)
    for qubit, clbit in measured:
        bits[:, clbit] = (basis >> np.uint64(qubit)) & np.uint64(1)
    return Samples.from_bool(bits)


@functools.cache
def sampling_engines() -> dict[str, Any]:
    """Every engine that can sample: the state-vector ones plus stim, MPS and trajectories."""
    engines: dict[str, Any] = dict(available_engines())
    if importlib.util.find_spec("stim") is not None:
        from qumulus.sim.stabilizer import StimEngine

        engines["stim"] = StimEngine()
    if "aer" in engines:
        from qumulus.sim.mps import MPSEngine

        engines["mps"] = MPSEngine()
    if "qulacs" in engines:
        from qumulus.sim.trajectories import TrajectoryEngine

        engines["trajectories"] = TrajectoryEngine()
    return engines
