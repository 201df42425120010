"""The fast noisy engine: Pauli noise from the characterization, error patterns, branching, stim,
the cost model, and the accuracy guard against Aer's exact density matrix."""

from __future__ import annotations

import math

import numpy as np
import pytest

from qumulus.backends.catalog import BY_NAME
from qumulus.backends.device import DeviceModel, device_model
from qumulus.circuits.compile import compile_native
from qumulus.circuits.model import Circuit, Operation
from qumulus.sim import emulator
from qumulus.sim.emulator import emulate, engine_costs, exact_probabilities, predict
from qumulus.sim.error_patterns import sample_patterns, work_plan
from qumulus.sim.pauli_noise import build_program, relaxation_paulis
from qumulus.sim.stim_noisy import is_clifford

#: Largest total variation distance measured between the Pauli programs run exactly and the full
#: physical model run exactly (random and GHZ circuits of 3-10 qubits, Harmony/Aria/Forte): 4.3e-4
#: for the state-vector program, 8.3e-4 for the Clifford one (drift twirled). docs/simulation.md.
BIAS_BOUND = 2e-3


def device(name: str) -> DeviceModel:
    spec = BY_NAME[name]
    return device_model(spec.characterization(), spec.qubits)


def ghz(n: int) -> Circuit:
    return Circuit(
        n, (Operation("h", (0,)), *(Operation("x", (i + 1,), controls=(i,)) for i in range(n - 1)))
    )


def random_circuit(n: int, depth: int, seed: int) -> Circuit:
    """Issue 12's layer: a random rx/ry/rz on every qubit, then a random CNOT matching."""
    rng = np.random.default_rng(seed)
    ops: list[Operation] = []
    for _ in range(depth):
        for q in range(n):
            ops.append(
                Operation(str(rng.choice(["rx", "ry", "rz"])), (q,), params=(float(rng.uniform(0, 6.3)),))
            )
        perm = rng.permutation(n)
        ops += [Operation("x", (int(perm[i + 1]),), controls=(int(perm[i]),)) for i in range(0, n - 1, 2)]
    return Circuit(n, tuple(ops))


def tvd_to(outcomes: np.ndarray, probs: np.ndarray) -> float:
    counts = np.bincount(outcomes.astype(np.int64), minlength=probs.size) / outcomes.size
    return 0.5 * float(np.abs(counts - probs).sum())


def shot_noise_tvd(probs: np.ndarray, shots: int, rng: np.random.Generator, draws: int = 300) -> float:
    """The 99.9th percentile of the TVD a perfect sampler of ``probs`` shows at ``shots`` shots."""
    values = [0.5 * np.abs(rng.multinomial(shots, probs) / shots - probs).sum() for _ in range(draws)]
    return float(np.quantile(values, 0.999)) * 1.1


# the Pauli noise program ---------------------------------------------------------------------------


def test_relaxation_twirl_is_the_pauli_diagonal_of_aers_thermal_relaxation() -> None:
    from qiskit.quantum_info import PTM
    from qiskit_aer.noise import thermal_relaxation_error

    for t1, t2, t in ((10.0, 0.2, 210e-6), (100.0, 1.0, 3e-3), (1.0, 1.5, 0.4)):
        ptm = np.real(np.diag(PTM(thermal_relaxation_error(t1, t2, t).to_quantumchannel()).data))
        # p_P = (1/4) Σ_Q s(P,Q) R_QQ with the commutation signs of the Pauli twirl.
        signs = np.array([[1, 1, 1, 1], [1, 1, -1, -1], [1, -1, 1, -1], [1, -1, -1, 1]])
        assert relaxation_paulis(t1, t2, t) == pytest.approx(signs @ ptm / 4, abs=1e-12)


@pytest.mark.parametrize("share", [0.0, 0.3])
def test_depolarizing_fills_the_same_budget_as_the_exact_model(
    monkeypatch: pytest.MonkeyPatch, share: float
) -> None:
    """λ of every gate equals the exact model's (relaxation, drift and over-rotation subtracted)."""
    from qiskit.quantum_info import Operator, SuperOp, average_gate_fidelity

    import qumulus.backends.device as device_module
    from qumulus.circuits.gates import matrix
    from qumulus.sim.noise import NoiseBuilder, depolarizing_parameter
    from qumulus.sim.pauli_noise import _one_qubit_lambda, _two_qubit_lambda

    monkeypatch.setattr(device_module, "COHERENT_2Q_SHARE", share)
    dev = device("qpu.harmony")
    builder = NoiseBuilder(dev)
    for q in (0, 4):
        drift = SuperOp(builder._drift(q, dev.t_1q).to_quantumchannel())
        expected = depolarizing_parameter(dev.f1q[q], float(average_gate_fidelity(drift)), 1)
        assert _one_qubit_lambda(dev, q) == pytest.approx(expected, abs=1e-9)
    for a, b in ((0, 1), (3, 7)):
        drift = SuperOp(builder._drift(a, dev.t_2q).to_quantumchannel()).expand(
            SuperOp(builder._drift(b, dev.t_2q).to_quantumchannel())
        )
        excess = Operation("ms", (0, 1), params=(0.0, 0.0, dev.over_rotation(a, b)))
        other = SuperOp(Operator(matrix(excess))).compose(drift)
        expected = depolarizing_parameter(dev.fidelity_2q(a, b), float(average_gate_fidelity(other)), 2)
        assert _two_qubit_lambda(dev, a, b) == pytest.approx(expected, abs=1e-9)


def test_the_program_keeps_the_schedule_and_the_device_qubits() -> None:
    dev = device("qpu.aria-1")
    native = compile_native(ghz(4), "ms").circuit
    program = build_program(native, dev, layout=[5, 2, 9, 0])
    assert program.depth == len(native.operations)
    assert program.p1_given_0.tolist() == [dev.p1_given_0[q] for q in (5, 2, 9, 0)]
    two_qubit = [loc for loc in program.locations if len(loc.qubits) == 2]
    assert len(two_qubit) == sum(op.arity == 2 for op in native.operations)
    assert 0 < program.expected_errors() < 1


# error patterns ------------------------------------------------------------------------------------


def test_patterns_group_the_shots_and_error_free_shots_share_one_simulation() -> None:
    dev = device("qpu.aria-1")
    program = build_program(compile_native(random_circuit(8, 6, 1), "ms").circuit, dev)
    patterns = sample_patterns(program, 5000, np.random.default_rng(4))
    grouped = sorted(s for _, shots in patterns.patterns for s in shots)
    assert sorted(grouped + patterns.error_free) == list(range(5000))
    # P(no quantum event) ≈ e^{−expected errors} (classical and harmless events only make it larger).
    assert len(patterns.error_free) / 5000 > math.exp(-program.expected_errors()) - 0.03
    assert len(patterns.patterns) < 5000 - len(patterns.error_free)  # repeated patterns are grouped
    plan = work_plan(patterns, program.depth)
    # The trunk once, and every branch from its first error: far less than one full run per shot.
    assert program.depth <= plan.gates < 0.5 * 5000 * program.depth
    assert plan.leaves == plan.patterns == len(patterns.patterns) + 1


def test_events_sit_before_a_gate_on_their_qubit_and_the_rest_are_classical_flips() -> None:
    dev = device("qpu.harmony")
    program = build_program(compile_native(ghz(4), "ms").circuit, dev)
    patterns = sample_patterns(program, 20000, np.random.default_rng(1))
    assert patterns.patterns
    for events, _ in patterns.patterns:
        for pos, qubit, code in events:
            assert qubit in program.gates[pos][0]  # moved forward to the next gate on its qubit
            assert code in (1, 2, 3)
    # Errors after a qubit's last gate (the last gates' depolarizing, the final idle) only flip bits.
    assert np.count_nonzero(patterns.flips) > 100


# engines agree with the exact reference (the accuracy guard) ----------------------------------------


@pytest.mark.parametrize(
    ("name", "n", "depth"),
    [("qpu.harmony", 3, 6), ("qpu.aria-1", 5, 5), ("qpu.forte-1", 8, 3)],
)
def test_pauli_programs_are_within_the_bias_bound_of_the_exact_model(name: str, n: int, depth: int) -> None:
    dev = device(name)
    for circuit in (random_circuit(n, depth, n), ghz(n)):
        native = compile_native(circuit, dev.native_2q).circuit
        full = exact_probabilities(native, dev)
        assert 0.5 * np.abs(exact_probabilities(native, dev, model="pauli") - full).sum() < BIAS_BOUND
        if is_clifford(native):
            assert 0.5 * np.abs(exact_probabilities(native, dev, model="clifford") - full).sum() < BIAS_BOUND


@pytest.mark.parametrize(
    ("name", "n", "depth", "shots", "engine"),
    [
        ("qpu.harmony", 3, 8, 4000, "pauli-qulacs"),
        ("qpu.aria-1", 6, 8, 8000, "pauli-qsim"),
        ("qpu.forte-1", 10, 2, 4000, "pauli-qsim"),
    ],
)
def test_fast_engine_matches_the_exact_density_matrix(
    name: str, n: int, depth: int, shots: int, engine: str
) -> None:
    """TVD of the fast engine's shots to Aer's exact distribution ≤ shot noise (99.9 %) + bias bound,
    and (where the shot count resolves it) clearly away from the noiseless distribution."""
    if engine == "pauli-qsim" and "pauli-qsim" not in emulator.available_noisy_engines():
        pytest.skip("qsim is not installed here")
    dev = device(name)
    circuit = random_circuit(n, depth, 10 + n)
    exact = exact_probabilities(compile_native(circuit, dev.native_2q).circuit, dev)
    result = emulate(circuit, dev, shots, seed=11, engine=engine)
    assert result.method == engine
    bound = shot_noise_tvd(exact, shots, np.random.default_rng(0)) + BIAS_BOUND
    assert tvd_to(result.outcomes, exact) < bound
    # and the noise is really there: far from the ideal distribution
    from qumulus.sim.routing import run_ideal

    ideal = np.zeros(2**n)
    dist, _ = run_ideal(circuit)
    idx, vals = dist.nonzero()
    ideal[idx.astype(np.int64)] = vals
    if 0.5 * np.abs(exact - ideal).sum() > 1.5 * bound:  # resolvable at this shot count
        assert tvd_to(result.outcomes, ideal) > bound


def test_stim_matches_the_exact_density_matrix_on_a_clifford_circuit() -> None:
    dev, shots = device("qpu.harmony"), 4000
    native = compile_native(ghz(6), "ms").circuit
    assert is_clifford(native)
    exact = exact_probabilities(native, dev)
    result = emulate(ghz(6), dev, shots, seed=3, engine="pauli-stim")
    bound = shot_noise_tvd(exact, shots, np.random.default_rng(0)) + BIAS_BOUND
    assert tvd_to(result.outcomes, exact) < bound


def test_stim_and_the_state_vector_engine_agree_on_a_wide_ghz_and_stim_goes_to_36_qubits() -> None:
    dev, shots = device("qpu.forte-1"), 2000
    top = 2**16 - 1
    pops = [
        float(np.isin(emulate(ghz(16), dev, shots, seed=4, engine=e).outcomes, [0, top]).mean())
        for e in (
            "pauli-stim",
            "pauli-qsim" if "pauli-qsim" in emulator.available_noisy_engines() else "pauli-qulacs",
        )
    ]
    p = sum(pops) / 2
    assert abs(pops[0] - pops[1]) < 4 * math.sqrt(2 * p * (1 - p) / shots), pops
    prediction = predict(ghz(36), dev, 1000)
    assert prediction.engine == "pauli-stim"
    result = emulate(ghz(36), dev, 1000, seed=2)
    assert result.method == "pauli-stim"
    bits = (result.outcomes[:, None] >> np.arange(36, dtype=np.uint64)) & np.uint64(1)
    assert np.all(np.abs(bits.mean(axis=0) - 0.5) < 0.1)  # a GHZ: every qubit 0 or 1 half the time
    assert np.isin(result.outcomes, [0, 2**36 - 1]).mean() < 0.9  # and the device's noise is there


def test_same_seed_same_shots_on_every_fast_engine() -> None:
    dev = device("qpu.aria-1")
    for engine, circuit in (("pauli-qulacs", random_circuit(5, 3, 2)), ("pauli-stim", ghz(5))):
        first = emulate(circuit, dev, 300, seed=9, engine=engine).outcomes
        assert np.array_equal(first, emulate(circuit, dev, 300, seed=9, engine=engine).outcomes)
        assert not np.array_equal(first, emulate(circuit, dev, 300, seed=10, engine=engine).outcomes)


# routing and the cost model -------------------------------------------------------------------------


def test_routing_follows_the_cost_model() -> None:
    aria, forte = device("qpu.aria-1"), device("qpu.forte-1")
    # tiny: the exact density matrix
    assert predict(ghz(3), aria, 1000).engine == "aer-density-matrix"
    # Clifford at any width: stim
    assert predict(ghz(30), forte, 1000).engine == "pauli-stim"
    # wide and not Clifford: the Pauli state-vector engine
    wide = predict(random_circuit(16, 3, 1), aria, 1000)
    assert wide.engine in ("pauli-qsim", "pauli-qulacs")
    assert wide.patterns > 0
    # the cost grows with the width and the depth
    deeper = predict(random_circuit(16, 6, 1), aria, 1000)
    assert deeper.seconds > wide.seconds
    assert predict(random_circuit(22, 3, 1), aria, 1000).seconds > 8 * wide.seconds


def test_a_pinned_engine_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(emulator.ENGINE_ENV, "pauli-qulacs")
    assert emulate(ghz(3), device("qpu.aria-1"), 100, seed=1).method == "pauli-qulacs"
    monkeypatch.setenv(emulator.ENGINE_ENV, "nonsense")
    with pytest.raises(ValueError, match="QUMULUS_NOISY_ENGINE"):
        emulate(ghz(3), device("qpu.aria-1"), 100, seed=1)


def test_the_prediction_is_deterministic_and_counts_debiasing_variants() -> None:
    dev = device("qpu.aria-1")
    circuit = random_circuit(12, 4, 3)
    assert predict(circuit, dev, 1000) == predict(circuit, dev, 1000)
    plain, debiased = predict(circuit, dev, 1600), predict(circuit, dev, 1600, debias=True)
    assert debiased.seconds > plain.seconds  # 16 trunks and 16 compilations instead of one
    costs, _ = engine_costs(compile_native(circuit, "ms").circuit, dev, 1000)
    assert "aer-density-matrix" in costs and "aer-trajectories" in costs


def test_terminal_measurements_are_emulated_as_the_unitary_and_mid_circuit_ones_per_shot() -> None:
    dev = device("qpu.aria-1")
    measured = Circuit(
        2,
        (Operation("x", (0,)), Operation("measure", (0,), clbits=(1,))),
        clbits=2,
    )
    result = emulate(measured, dev, 400, seed=1)
    # qubit 0 (|1⟩) lands in clbit 1: outcome 2, up to the device's errors
    assert float((result.outcomes == 2).mean()) > 0.9
    assert set(result.outcomes.tolist()) <= {0, 2}
    assert result.method != "noisy-trajectories"
    # A gate after the measurement: the program runs per shot (the X does not change the recorded 0).
    mid = Circuit(1, (Operation("measure", (0,), clbits=(0,)), Operation("x", (0,))), clbits=1)
    ran = emulate(mid, dev, 400, seed=1)
    assert ran.method == "noisy-trajectories" and float((ran.outcomes == 0).mean()) > 0.97


# trajectory-budget mode ------------------------------------------------------------------------------


def test_shared_trajectories_keep_every_shot_and_at_most_k_patterns() -> None:
    from qumulus.sim.error_patterns import share_trajectories

    dev = device("qpu.aria-1")
    program = build_program(compile_native(random_circuit(8, 8, 3), "ms").circuit, dev)
    patterns = sample_patterns(program, 3000, np.random.default_rng(2))
    shared = share_trajectories(patterns, 20, np.random.default_rng(3))
    assert len(shared.patterns) <= 20 < len(patterns.patterns)
    assert shared.error_free == patterns.error_free  # error-free shots are untouched (exact)
    every = sorted(s for _, shots in shared.patterns for s in shots) + shared.error_free
    assert sorted(every) == list(range(3000))
    sizes = [len(shots) for _, shots in shared.patterns]
    errorful = 3000 - len(patterns.error_free)
    assert max(sizes) <= -(-errorful // 20) * 2  # dealt evenly (two representatives may coincide)
    # a shot takes its representative's classical flips with its quantum pattern
    flips_of = {}
    for events, shots in shared.patterns:
        flips_of.setdefault(events, set()).update(int(shared.flips[s]) for s in shots)
    assert share_trajectories(patterns, 10**6, np.random.default_rng(3)) is patterns


def test_budget_mode_is_unbiased_against_the_exact_density_matrix() -> None:
    """Shots sharing K = 8 trajectories: over 40 seeded runs, every outcome's mean frequency is within
    4.5 standard errors (of the runs' spread) + the bias bound of Aer's exact probability, while the
    run-to-run spread is wider than exact per-shot mode's (the stated statistical effect)."""
    dev = device("qpu.aria-1")
    circuit = random_circuit(5, 6, 4)
    exact = exact_probabilities(compile_native(circuit, dev.native_2q).circuit, dev)

    def frequencies(k: int | None, seed: int) -> np.ndarray:
        shots = emulate(circuit, dev, 1000, seed=seed, engine="pauli-qulacs", trajectories=k).outcomes
        return np.bincount(shots.astype(np.int64), minlength=exact.size) / 1000

    runs = {k: np.array([frequencies(k, s) for s in range(40)]) for k in (8, None)}
    budget = runs[8]
    error = np.abs(budget.mean(axis=0) - exact)
    standard = budget.std(axis=0, ddof=1) / np.sqrt(len(budget))
    assert np.all(error <= 4.5 * standard + BIAS_BOUND)
    assert 0.5 * error.sum() < 0.02
    assert budget.std(axis=0).sum() > runs[None].std(axis=0).sum()  # measured 0.168 vs 0.157


def test_over_the_limit_the_prediction_and_the_run_use_the_trajectory_budget() -> None:
    dev = device("qpu.aria-1")
    circuit = random_circuit(18, 10, 5)
    exact = predict(circuit, dev, 1000)
    assert exact.trajectories is None
    limit = exact.seconds / 3
    budget = predict(circuit, dev, 1000, max_seconds=limit)
    assert budget.trajectories is not None and budget.trajectories >= emulator.MIN_TRAJECTORIES
    assert budget.seconds <= emulator.BUDGET_SHARE * limit * 1.02
    assert budget.patterns < exact.patterns
    # under the limit nothing changes
    assert predict(circuit, dev, 1000, max_seconds=exact.seconds * 2) == exact
    # the run measures the machine's speed now and plans for the limit at that speed
    native = compile_native(circuit, dev.native_2q).circuit
    assert 1.0 <= emulator.slowdown(native, dev, "pauli-qsim", None, 1) <= 20.0
    result = emulate(circuit, dev, 1000, seed=3, max_seconds=limit)
    assert result.trajectories is not None and result.method.endswith(f"budget:{result.trajectories}")
    # a limit nothing fits: the exact prediction stays (the job is then refused at submission)
    hopeless = predict(circuit, dev, 1000, max_seconds=1e-6)
    assert hopeless.trajectories is None and hopeless.seconds == exact.seconds
