"""Emulated QPUs: compilation to native gates, characterizations, noise budget, timing, sampling."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from qumulus.backends.catalog import BY_NAME, CATALOG
from qumulus.backends.device import COHERENT_2Q_SHARE, DeviceModel, device_model, pair_key
from qumulus.backends.timing import estimate_execution_seconds, execution_seconds, schedule
from qumulus.circuits.compile import compile_native
from qumulus.circuits.gates import circuit_unitary
from qumulus.circuits.model import Circuit, Operation
from qumulus.sim.emulator import aggregate_average, aggregate_plurality, emulate
from qumulus.sim.noise import NoiseBuilder, depolarizing_parameter

QPUS = [spec for spec in CATALOG if spec.kind == "qpu"]


def device(name: str) -> DeviceModel:
    spec = BY_NAME[name]
    return device_model(spec.characterization(), spec.qubits)


def bell() -> Circuit:
    return Circuit(2, (Operation("h", (0,)), Operation("x", (1,), controls=(0,))))


def ghz(n: int) -> Circuit:
    ops = [Operation("h", (0,)), *(Operation("x", (i + 1,), controls=(i,)) for i in range(n - 1))]
    return Circuit(n, tuple(ops))


# compilation -------------------------------------------------------------------------------------

_ONE = ["x", "y", "z", "h", "s", "si", "t", "ti", "v", "vi"]
_ROT = ["rx", "ry", "rz", "phase"]


def random_qis_circuit(rng: random.Random, qubits: int, gates: int) -> Circuit:
    """Every kind of QIS operation: fixed and rotation 1q gates, Ising, swap, (multi-)controlled."""
    ops: list[Operation] = []
    for _ in range(gates):
        kind = rng.random()
        wires = rng.sample(range(qubits), 3 if qubits >= 3 else 2)
        if kind < 0.35:
            ops.append(Operation(rng.choice(_ONE), (wires[0],)))
        elif kind < 0.6:
            ops.append(Operation(rng.choice(_ROT), (wires[0],), params=(rng.uniform(-4, 4),)))
        elif kind < 0.75:
            name = rng.choice(["xx", "yy", "zz"])
            ops.append(Operation(name, (wires[0], wires[1]), params=(rng.uniform(-7, 7),)))
        elif kind < 0.8:
            ops.append(Operation("swap", (wires[0], wires[1])))
        elif kind < 0.9:
            ops.append(Operation("x", (wires[1],), controls=(wires[0],)))
        else:
            name = rng.choice(["x", "z", "rz", "h"])
            params = (rng.uniform(-3, 3),) if name == "rz" else ()
            controls = tuple(wires[:-1]) if qubits >= 3 else (wires[0],)
            ops.append(Operation(name, (wires[-1],), controls=controls, params=params))
    return Circuit(qubits, tuple(ops))


def equivalence_error(source: Circuit, compiled) -> float:  # type: ignore[no-untyped-def]
    """max |V − e^{iα}·U| where V = (⊗ Rz(frame))·U_native: exact equivalence up to global phase."""
    frame = tuple(Operation("rz", (q,), params=(f,)) for q, f in enumerate(compiled.frame))
    u = circuit_unitary(source)
    v = circuit_unitary(Circuit(source.qubits, compiled.circuit.operations + frame))
    k = int(np.argmax(np.abs(u)))
    phase = v.flat[k] / u.flat[k]
    return float(np.max(np.abs(v - phase * u)))


@pytest.mark.parametrize("native_2q", ["ms", "zz"])
def test_compiled_circuits_are_unitarily_equivalent_and_native(native_2q: str) -> None:
    rng = random.Random(11)
    for n in range(25):
        source = random_qis_circuit(rng, qubits=2 + n % 3, gates=12)
        for twirl in (None, n):
            compiled = compile_native(source, native_2q, twirl_seed=twirl)
            assert equivalence_error(source, compiled) < 1e-9, (n, twirl)
            names = {op.name for op in compiled.circuit.operations}
            assert names <= {"gpi", "gpi2", native_2q}
            assert compiled.circuit.gateset == "native"
            for op in compiled.circuit.operations:
                if op.name == "ms":
                    assert 0 < op.params[2] <= 0.25 + 1e-12  # the hardware's angle range
                if op.name in ("gpi", "gpi2"):
                    assert 0 <= op.params[0] < 1


def test_compilation_is_deterministic_and_native_input_is_kept() -> None:
    source = ghz(4)
    assert compile_native(source, "ms") == compile_native(source, "ms")
    native = compile_native(source, "ms").circuit
    assert compile_native(native, "ms").circuit is native


# characterization --------------------------------------------------------------------------------


@pytest.mark.parametrize("spec", QPUS, ids=lambda s: s.name)
def test_characterization_spreads_around_the_published_medians(spec) -> None:  # type: ignore[no-untyped-def]
    data = spec.characterization()
    assert data == spec.characterization()  # seeded: the same device on every install
    n = spec.qubits
    assert data["fidelity"]["1q"]["median"] == pytest.approx(spec.medians["1q"], abs=1e-6)
    assert data["fidelity"]["2q"]["median"] == pytest.approx(spec.medians["2q"], abs=1e-6)
    assert data["fidelity"]["spam"]["median"] == pytest.approx(spec.medians["spam"], abs=1e-6)
    per = data["qubit"]
    assert all(len(per[key]) == n for key in ("t1", "t2", "spam", "1q", "detuning_hz"))
    assert len(set(per["1q"])) > n // 2  # a spread, not a constant
    assert all(t2 <= 2 * t1 for t1, t2 in zip(per["t1"], per["t2"], strict=True))
    assert len(data["pair"]["2q"]) == n * (n - 1) // 2 == len(data["connectivity"])
    assert data["native_2q"] == spec.native_2q
    model = device_model(data, n)
    assert model.fidelity_2q(3, 1) == data["pair"]["2q"][pair_key(1, 3)]


def test_a_medians_only_snapshot_gives_a_uniform_device() -> None:
    data = BY_NAME["qpu.aria-1"].characterization()
    old = {k: data[k] for k in ("fidelity", "timing", "connectivity", "native_2q")}
    model = device_model(old, 25)
    assert set(model.f1q) == {data["fidelity"]["1q"]["median"]}
    assert model.fidelity_2q(0, 24) == data["fidelity"]["2q"]["median"]
    assert model.t1 == (data["timing"]["t1"],) * 25


# noise -------------------------------------------------------------------------------------------


def test_depolarizing_parameter_fills_the_remaining_budget() -> None:
    # Nothing else: λ·(d−1)/d is the whole infidelity.
    assert depolarizing_parameter(0.99, 1.0, 2) == pytest.approx(0.01 * 4 / 3)
    # Other sources at 0.9996: (0.9996 − 0.999)/(0.9996 − 1/2).
    assert depolarizing_parameter(0.999, 0.9996, 1) == pytest.approx(0.0006 / 0.4996)
    assert depolarizing_parameter(0.999, 0.998, 1) == 0.0  # relaxation alone exceeds the figure


@pytest.mark.parametrize("name", ["qpu.harmony", "qpu.aria-1", "qpu.forte-1"])
def test_gate_channels_have_the_characterized_average_fidelity(name: str) -> None:
    """Relaxation + drift + over-rotation + depolarizing = the characterization's fidelity."""
    from qiskit.quantum_info import Operator, SuperOp, average_gate_fidelity

    from qumulus.circuits.gates import matrix

    dev = device(name)
    builder = NoiseBuilder(dev)
    for q in (0, 3, 7):
        f = average_gate_fidelity(builder.gate((q,)).to_quantumchannel())
        assert f == pytest.approx(dev.f1q[q], abs=1e-9)
    for a, b in ((0, 1), (2, 7)):
        excess = dev.over_rotation(a, b)
        over = Operator(matrix(Operation("ms", (a, b), params=(0.0, 0.0, excess))))
        channel = SuperOp(over).compose(builder.gate((a, b)).to_quantumchannel())
        assert average_gate_fidelity(channel) == pytest.approx(dev.fidelity_2q(a, b), abs=1e-9)
        coherent = 0.8 * math.sin(math.pi * excess) ** 2
        assert coherent == pytest.approx(COHERENT_2Q_SHARE * (1 - dev.fidelity_2q(a, b)))


# timing ------------------------------------------------------------------------------------------


def test_schedule_is_the_critical_path() -> None:
    dev = device("qpu.aria-1")
    circuit = Circuit(
        3,
        (
            Operation("gpi2", (0,), params=(0.0,)),
            Operation("gpi2", (1,), params=(0.0,)),  # parallel with the first
            Operation("ms", (0, 1), params=(0.0, 0.0, 0.25)),
            Operation("gpi", (2,), params=(0.0,)),  # parallel with everything
            Operation("gpi2", (1,), params=(0.5,)),
        ),
        gateset="native",
    )
    plan = schedule(circuit, dev)
    assert plan.starts == (0.0, 0.0, dev.t_1q, 0.0, dev.t_1q + dev.t_2q)
    assert plan.duration == pytest.approx(2 * dev.t_1q + dev.t_2q)
    per_shot = plan.duration + dev.t_readout + dev.t_reset
    assert execution_seconds([circuit], dev, 1000) == pytest.approx(dev.job_overhead + 1000 * per_shot)


def test_estimate_equals_what_the_emulator_bills() -> None:
    spec = BY_NAME["qpu.forte-1"]
    data = spec.characterization()
    estimate = estimate_execution_seconds(data, ghz(3), 500)
    billed = emulate(ghz(3), device_model(data, spec.qubits), 500, seed=1).seconds
    assert estimate == pytest.approx(billed)
    assert estimate > 500 * (data["timing"]["readout"] + data["timing"]["reset"])


# sampling ----------------------------------------------------------------------------------------


def test_same_seed_same_shots_other_seed_other_shots() -> None:
    dev = device("qpu.harmony")
    first = emulate(ghz(3), dev, 400, seed=5)
    assert np.array_equal(first.outcomes, emulate(ghz(3), dev, 400, seed=5).outcomes)
    assert not np.array_equal(first.outcomes, emulate(ghz(3), dev, 400, seed=6).outcomes)
    debiased = emulate(ghz(3), dev, 400, seed=5, debias=True)
    assert np.array_equal(debiased.outcomes, emulate(ghz(3), dev, 400, seed=5, debias=True).outcomes)
    assert sum(debiased.variant_shots) == 400 and len(debiased.variant_shots) == 16


def predicted_bell_fidelity(dev: DeviceModel) -> float:
    """P(00) + P(11) of a Bell pair from the characterization alone, to first order.

    A 2q gate with infidelity r leaks 2r/3 of the population out of {00, 11} (a depolarizing
    channel's uniform mixture keeps half there; its coherent part leaks sin²(πε) = 1.25·r_coh); each
    1q gate leaks its infidelity r (X/Y errors flip); readout loses P(flip) on each qubit, averaged
    over the two branches.
    """
    compiled = compile_native(bell(), dev.native_2q).circuit
    r2 = 1 - dev.fidelity_2q(0, 1)
    leak = (1 - COHERENT_2Q_SHARE) * r2 * 2 / 3 + 1.25 * COHERENT_2Q_SHARE * r2
    for op in compiled.operations:
        if op.arity == 1:
            leak += (1 - dev.f1q[op.targets[0]]) * 2 / 3
    for q in (0, 1):
        leak += (dev.p1_given_0[q] + dev.p0_given_1[q]) / 2
    return 1 - leak


@pytest.mark.parametrize("name", ["qpu.harmony", "qpu.aria-1"])
def test_noisy_bell_fidelity_is_what_the_characterization_predicts(name: str) -> None:
    dev = device(name)
    shots = 20_000
    result = emulate(bell(), dev, shots, seed=2024)
    kept = float(np.isin(result.outcomes, [0, 3]).mean())
    predicted = predicted_bell_fidelity(dev)
    sigma = math.sqrt(predicted * (1 - predicted) / shots)
    # 4σ of shot noise plus 10 % of the predicted error for the first-order model itself.
    assert abs(kept - predicted) < 4 * sigma + 0.1 * (1 - predicted), (kept, predicted)
    assert kept < 1 - 0.5 * (1 - predicted)  # and the noise is really there


def test_aggregation_average_and_plurality_vote() -> None:
    outcomes = np.array([0, 0, 3, 1, 3, 3, 0, 3, 3], dtype=np.uint64)
    sizes = [3, 3, 3]
    assert aggregate_average(outcomes, sizes) == pytest.approx({0: 3 / 9, 1: 1 / 9, 3: 5 / 9})
    # variant 1 votes 0 (2 of 3), variant 2 votes 3 (2 of 3), variant 3 votes 3 (3 of 3)
    assert aggregate_plurality(outcomes, sizes) == pytest.approx({0: 1 / 3, 3: 2 / 3})
    tie = np.array([1, 2], dtype=np.uint64)
    assert aggregate_plurality(tie, [2]) == {1: 0.5, 2: 0.5}


def test_trajectories_agree_with_the_density_matrix() -> None:
    """The reference engines: Aer's trajectories of the full model (errors as Aer mixtures instead
    of Kraus channels) sample the same noise as its density matrix, so the same GHZ population
    within shot noise."""
    dev, shots = device("qpu.forte-1"), 4000
    exact = emulate(ghz(6), dev, shots, seed=3, engine="aer-density-matrix")
    sampled = emulate(ghz(6), dev, shots, seed=3, engine="aer-trajectories")
    assert (exact.method, sampled.method) == ("aer-density-matrix", "aer-trajectories")
    p, q = (float(np.isin(r.outcomes, [0, 63]).mean()) for r in (exact, sampled))
    assert abs(p - q) < 4 * math.sqrt(2 * p * (1 - p) / shots), (p, q)


def test_which_jobs_are_emulated_and_with_which_qpu() -> None:
    from qumulus.backends.catalog import emulation_target

    assert emulation_target("qpu.forte-1", None) == "qpu.forte-1"
    assert emulation_target("qpu.aria-1", {"model": "harmony"}) == "qpu.aria-1"  # a QPU is itself
    assert emulation_target("simulator", {"model": "harmony-2", "seed": 1}) == "qpu.harmony"
    assert emulation_target("simulator", {"model": "ideal"}) is None
    assert emulation_target("simulator", None) is None


def test_a_multi_circuit_estimate_pays_the_overhead_per_circuit() -> None:
    from qumulus.circuits.model import CircuitBatch

    data = BY_NAME["qpu.aria-1"].characterization()
    one = estimate_execution_seconds(data, bell(), 100)
    both = estimate_execution_seconds(data, CircuitBatch((bell(), bell()), multi=True), 100)
    assert both == pytest.approx(2 * one)
    assert one == pytest.approx(data["emulation"]["job_overhead"] + 100 * 1.19e-3, rel=0.05)


def test_a_small_run_gives_the_same_shots_on_one_thread_or_many() -> None:
    """A small density-matrix run goes on one Aer thread (more only cost their start-up): the
    shots are the ones the same seed gives on any thread count, and the noise is still there."""
    dev = device("qpu.aria-1")
    single = emulate(bell(), dev, 2000, seed=11)
    assert single.method == "aer-density-matrix"
    assert np.array_equal(single.outcomes, emulate(bell(), dev, 2000, seed=11, threads=2).outcomes)
    assert 0 < np.isin(single.outcomes, [1, 2]).mean() < 0.1  # a noisy Bell pair, not an ideal one


def test_the_exact_engine_is_chosen_without_pricing_the_others_only_when_pricing_agrees() -> None:
    """The shortcut past the error-pattern pricing picks the density matrix exactly when the full
    pricing (``choose`` over every engine) does."""
    from qumulus.sim.emulator import choose, engine_costs, plainly_exact, run_shape

    for name, circuit in (("qpu.aria-1", bell()), ("qpu.forte-1", ghz(6)), ("qpu.forte-1", ghz(11))):
        dev = device(name)
        native = compile_native(circuit, dev.native_2q).circuit
        for shots in (100, 100_000):
            run = run_shape(native, dev, shots, None)
            if plainly_exact(run[1]):
                assert choose(engine_costs(native, dev, shots, None, run)[0]) == "aer-density-matrix"
    assert plainly_exact(run_shape(compile_native(bell(), dev.native_2q).circuit, dev, 1000, None)[1])
