"""The engines for wide circuits and for programs that measure: stim, Aer MPS, trajectories, routing.

Exact answers are compared exactly (stim's enumerated distribution against a state vector);
sampled ones statistically, with fixed seeds, against an exact distribution or qiskit-aer.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from qumulus.circuits import parse_input
from qumulus.circuits.model import Circuit, Operation
from qumulus.sim.engine import Samples
from qumulus.sim.mps import MPSEngine, bond_bound
from qumulus.sim.qulacs_engine import QulacsEngine
from qumulus.sim.routing import route, run_shots
from qumulus.sim.stabilizer import StimEngine, TooManyOutcomes, is_clifford
from qumulus.sim.trajectories import LoopLimitExceeded, TrajectoryEngine

CLIFFORD_1Q = ("x", "y", "z", "h", "s", "si", "v", "vi")


def _random_clifford(n: int, gates: int, seed: int) -> Circuit:
    rng = np.random.default_rng(seed)
    ops: list[Operation] = []
    for _ in range(gates):
        kind = int(rng.integers(4))
        if kind == 0:
            ops.append(Operation(str(rng.choice(CLIFFORD_1Q)), (int(rng.integers(n)),)))
        elif kind == 1:
            a, b = (int(x) for x in rng.choice(n, 2, replace=False))
            ops.append(Operation(str(rng.choice(["x", "y", "z"])), (b,), (a,)))
        elif kind == 2:
            name = str(rng.choice(["rx", "ry", "rz", "phase"]))
            ops.append(
                Operation(name, (int(rng.integers(n)),), params=(math.pi / 2 * int(rng.integers(1, 4)),))
            )
        else:
            a, b = (int(x) for x in rng.choice(n, 2, replace=False))
            name = str(rng.choice(["xx", "yy", "zz", "swap"]))
            params = () if name == "swap" else (math.pi / 2 * int(rng.integers(1, 4)),)
            ops.append(Operation(name, (a, b), params=params))
    return Circuit(n, tuple(ops))


def _ghz(n: int) -> Circuit:
    return Circuit(n, (Operation("h", (0,)), *(Operation("x", (i + 1,), (i,)) for i in range(n - 1))))


def _tvd(a: dict[int, float], b: dict[int, float]) -> float:
    return 0.5 * sum(abs(a.get(k, 0.0) - b.get(k, 0.0)) for k in set(a) | set(b))


def _freq(samples: Samples) -> dict[int, float]:
    return {k: v / samples.shots for k, v in samples.counts().items()}


@pytest.mark.parametrize("seed", range(8))
def test_stim_exact_distribution_equals_state_vector(seed: int) -> None:
    """Every Clifford gate kind, quarter-turn rotations included: stim's enumerated distribution is
    the state vector's, to 1e-12."""
    circuit = _random_clifford(5, 40, seed)
    assert is_clifford(circuit)
    ours = StimEngine().probabilities(circuit).as_dict()
    exact = {k: v for k, v in QulacsEngine().probabilities(circuit).as_dict().items() if v > 1e-12}
    assert set(ours) == set(exact)
    for key, value in exact.items():
        assert ours[key] == pytest.approx(value, abs=1e-12)


def test_stim_ghz_1000_exact_and_sampled() -> None:
    ghz = _ghz(1000)
    engine = StimEngine()
    exact = engine.probabilities(ghz).as_dict()
    assert exact == {0: 0.5, (1 << 1000) - 1: 0.5}
    samples = engine.sample(ghz, 2000, seed=7)
    counts = samples.counts()
    assert set(counts) == {0, (1 << 1000) - 1}
    assert abs(counts[0] - 1000) < 4 * math.sqrt(2000 * 0.25)  # binomial, 4 sigma
    assert samples.packed.shape == (2000, 125)  # 1000 bits a shot, never 2**1000 of anything


def test_stim_refuses_what_it_cannot_enumerate_or_run() -> None:
    wide_superposition = Circuit(20, tuple(Operation("h", (q,)) for q in range(20)))
    with pytest.raises(TooManyOutcomes):
        StimEngine().probabilities(wide_superposition)
    with_t = Circuit(2, (Operation("h", (0,)), Operation("t", (0,))))
    assert not StimEngine().supports(with_t)
    assert not StimEngine(max_qubits=10).supports(_ghz(11))


MID_CIRCUIT = (
    'OPENQASM 3.0; include "stdgates.inc"; bit[3] c; qubit[3] q;'
    " h q[0]; cx q[0], q[1]; c[0] = measure q[0]; reset q[0]; h q[0]; cx q[0], q[2];"
    " c[1] = measure q[0]; c[2] = measure q[1];"
)


def test_stim_and_trajectories_agree_on_a_clifford_program_with_mid_circuit_measurement() -> None:
    circuit = parse_input("ionq.qasm3.v1", {"data": MID_CIRCUIT}).circuits[0]
    assert is_clifford(circuit) and circuit.split_terminal_measurements() is None
    stim = _freq(StimEngine().sample(circuit, 20000, seed=1))
    trajectories = _freq(TrajectoryEngine().sample(circuit, 20000, seed=2))
    # c0 = c2 (the Bell pair), c1 independent: 4 outcomes of 1/4
    for freq in (stim, trajectories):
        assert set(freq) == {0b000, 0b010, 0b101, 0b111}
    assert _tvd(stim, trajectories) < 0.03


PROGRAMS = {
    "mcm-reset": 'OPENQASM 3.0; include "stdgates.inc"; bit[3] c; qubit[2] q; h q[0]; cx q[0], q[1];'
    " c[0] = measure q[0]; reset q[0]; ry(0.7) q[0]; c[1] = measure q[0]; c[2] = measure q[1];",
    "if-else": 'OPENQASM 3.0; include "stdgates.inc"; bit[2] c; qubit[2] q; rx(1.1) q[0];'
    " c[0] = measure q[0]; if (c[0]) { ry(0.4) q[1]; } else { h q[1]; } c[1] = measure q[1];",
    "while": 'OPENQASM 3.0; include "stdgates.inc"; bit[2] c; qubit[2] q; rx(2.0) q[0]; c[0] = measure q[0];'
    " while (c[0]) { rx(1.0) q[0]; rx(0.3) q[1]; c[0] = measure q[0]; } c[1] = measure q[1];",
}


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_trajectories_match_qiskit_aer(name: str) -> None:
    """Mid-circuit measurement, reset, if/else and while: same counts as Aer within sampling error."""
    from qiskit import qasm3
    from qiskit_aer import AerSimulator

    source = PROGRAMS[name]
    circuit = parse_input("ionq.qasm3.v1", {"data": source}).circuits[0]
    shots = 20000
    ours = _freq(TrajectoryEngine().sample(circuit, shots, seed=3))
    counts = AerSimulator().run(qasm3.loads(source), shots=shots, seed_simulator=5).result().get_counts()
    aer = {int(bits.replace(" ", ""), 2): v / shots for bits, v in counts.items()}
    # Two independent samples of ≤ 8 outcomes: TVD is ~0.01 here; 0.03 is > 5 sigma.
    assert _tvd(ours, aer) < 0.03


def test_a_loop_that_never_ends_fails_the_shot() -> None:
    circuit = parse_input(
        "ionq.qasm3.v1",
        {"data": 'OPENQASM 3.0; include "stdgates.inc"; bit c; qubit[1] q; x q[0]; c = measure q[0];'
         " while (c) { c = measure q[0]; }"},
    ).circuits[0]  # fmt: skip
    with pytest.raises(LoopLimitExceeded):
        TrajectoryEngine().sample(circuit, 10, seed=0)


def test_trajectory_branches_respect_the_memory_budget() -> None:
    circuit = parse_input("ionq.qasm3.v1", {"data": MID_CIRCUIT}).circuits[0]
    with pytest.raises(MemoryError):
        TrajectoryEngine().sample(circuit, 100, seed=0, max_bytes=64)


def _shallow(n: int, depth: int = 4, seed: int = 1) -> Circuit:
    rng = np.random.default_rng(seed)
    ops: list[Operation] = []
    for layer in range(depth):
        ops.extend(Operation("ry", (q,), params=(float(rng.uniform(0, np.pi)),)) for q in range(n))
        ops.extend(Operation("x", (a + 1,), (a,)) for a in range(layer % 2, n - 1, 2))
    return Circuit(n, tuple(ops))


def test_mps_samples_the_exact_distribution() -> None:
    circuit = _shallow(10)
    exact = QulacsEngine().probabilities(circuit).as_dict()
    sampled = _freq(MPSEngine().sample(circuit, 20000, seed=4))
    # Sampling alone: E[TVD] ≈ Σ sqrt(p(1-p)/(2π·shots)) ≈ 0.03 for this spread-out distribution.
    assert _tvd(sampled, exact) < 0.06


def test_bond_bound_follows_entanglement_not_width() -> None:
    qft_on_basis = Circuit(
        8,
        (
            Operation("x", (2,)),
            *(
                op
                for j in reversed(range(8))
                for op in (
                    Operation("h", (j,)),
                    *(
                        Operation("phase", (k,), (j,), params=(math.pi / 2 ** (j - k),))
                        for k in reversed(range(j))
                    ),
                )
            ),
            *(Operation("swap", (q, 7 - q)) for q in range(4)),
        ),
    )
    assert bond_bound(qft_on_basis) == 0  # every controlled phase has a control in a known state
    assert bond_bound(_ghz(500)) == 1
    assert bond_bound(_shallow(64)) <= 2
    rng = np.random.default_rng(0)
    dense = Circuit(12, tuple(
        op for _ in range(10) for a, b in rng.permutation(12).reshape(6, 2).tolist()
        for op in (Operation("h", (a,)), Operation("x", (b,), (a,)))
    ))  # fmt: skip
    assert bond_bound(dense) == 6


def test_routing_by_circuit_class() -> None:
    assert route(_ghz(1000), 1000).engine == "stim"
    assert route(_shallow(64), 1000).engine == "mps"
    rng = np.random.default_rng(1)
    random16 = Circuit(16, tuple(
        Operation("rx", (q,), params=(float(rng.uniform(0, 6)),)) for _ in range(5) for q in range(16)
    ) + tuple(Operation("x", (b,), (a,)) for a, b in rng.permutation(16).reshape(8, 2).tolist()))  # fmt: skip
    assert route(random16, 1000).state_vector
    mid = parse_input("ionq.qasm3.v1", {"data": PROGRAMS["if-else"]}).circuits[0]
    assert route(mid, 1000).engine == "trajectories"


def test_routed_terminal_measurements_land_on_their_clbits() -> None:
    program = (
        'OPENQASM 3.0; include "stdgates.inc"; qubit[3] q; bit[2] c; x q[2]; ry(0.5) q[0];'
        " c[1] = measure q[2]; c[0] = measure q[1];"
    )
    circuit = parse_input("ionq.qasm3.v1", {"data": program}).circuits[0]
    samples, engine = run_shots(circuit, 500, seed=1)
    assert engine in ("qulacs", "qsim", "aer")
    assert samples.counts() == {0b10: 500}  # q2 = 1 → c1; q1 = 0 → c0; q0 is not measured


def test_samples_round_trip_beyond_64_bits() -> None:
    values = [0, 1, (1 << 70) + 5, (1 << 99)]
    samples = Samples.from_ints(values, 100)
    assert samples.outcomes() == values
    assert samples.counts() == {v: 1 for v in values}
    narrow = Samples.from_ints(np.array([3, 1, 3], dtype=np.uint64), 2)
    assert narrow.outcomes() == [3, 1, 3] and narrow.counts() == {1: 1, 3: 2}
    dist = samples.distribution()
    assert dist.indices is not None and int(dist.indices[-1]) == 1 << 99


def test_ideal_simulator_is_exact_where_it_can_be() -> None:
    from qumulus.sim.ideal import admit, simulate

    wide = simulate(_ghz(1000), 100, seed=1)
    assert wide.exact and wide.engine == "stim"
    assert wide.distribution.as_dict() == {0: 0.5, (1 << 1000) - 1: 0.5}
    small = simulate(Circuit(2, (Operation("h", (0,)), Operation("x", (1,), (0,)))), 100, seed=1)
    assert small.exact and small.engine in ("qulacs", "aer", "qsim")
    program = parse_input("ionq.qasm3.v1", {"data": PROGRAMS["if-else"]}).circuits[0]
    sampled = simulate(program, 300, seed=1)
    assert not sampled.exact and sampled.samples is not None and sampled.samples.shots == 300
    assert sum(sampled.distribution.values) == pytest.approx(1.0)
    assert admit(_ghz(1000)) is None
    assert admit(_shallow(200)) is None
    rng = np.random.default_rng(2)
    dense = Circuit(40, tuple(Operation("ry", (q,), params=(float(rng.uniform(0, 3)),)) for q in range(40))
                    + tuple(Operation("x", (b,), (a,)) for _ in range(6)
                            for a, b in rng.permutation(40).reshape(20, 2).tolist()))  # fmt: skip
    assert "40 qubits" in (admit(dense) or "")


def test_native_compilation_keeps_mid_circuit_measurement_and_reset() -> None:
    """A program that measures compiles to GPI/GPI2/MS with its measure/reset in place, and the
    native program gives the same outcome distribution; classical control is refused."""
    from qumulus.circuits.compile import ControlFlowNotCompiled, compile_native

    circuit = parse_input("ionq.qasm3.v1", {"data": PROGRAMS["mcm-reset"]}).circuits[0]
    native = compile_native(circuit, "ms").circuit
    assert {op.name for op in native.operations} <= {"gpi", "gpi2", "ms", "measure", "reset"}
    assert [op.name for op in native.operations if op.name in ("measure", "reset")] == [
        "measure", "reset", "measure", "measure",
    ]  # fmt: skip
    assert native.clbits == circuit.clbits and native.cregs == circuit.cregs
    ours = _freq(TrajectoryEngine().sample(circuit, 20000, seed=1))
    compiled = _freq(TrajectoryEngine().sample(native, 20000, seed=2))
    assert _tvd(ours, compiled) < 0.03
    with pytest.raises(ControlFlowNotCompiled, match="if"):
        compile_native(parse_input("ionq.qasm3.v1", {"data": PROGRAMS["if-else"]}).circuits[0], "ms")


def test_samples_split_into_registers() -> None:
    samples = Samples.from_ints([0b101, 0b010], 3)
    assert samples.registers((("mid", (0,)), ("c", (1, 2)))) == [
        {"mid": [1], "c": [0, 1]},
        {"mid": [0], "c": [1, 0]},
    ]


def test_stored_wide_outcomes_stay_exact_integers() -> None:
    from qumulus.sim.engine import as_indices
    from qumulus.sim.sampling import sample_from_probabilities

    top = (1 << 1000) - 1
    keys = as_indices([0, top])
    assert keys.dtype == object and as_indices([0, 3]).dtype == np.uint64
    drawn = sample_from_probabilities(np.array([0.5, 0.5]), 200, 3, indices=keys)
    assert set(drawn.tolist()) == {0, top}


def test_a_pinned_engine_takes_sampled_runs_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUMULUS_SIM_ENGINE", "aer")
    samples, engine = run_shots(_ghz(3), 200, seed=1)
    assert engine == "aer" and set(samples.counts()) == {0, 7}
