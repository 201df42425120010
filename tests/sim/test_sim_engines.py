"""Every engine against the dense reference and against each other, for every gate kind.

Each case sandwiches the gate under test between two layers of generic one-qubit rotations, so
relative phases (and hence a wrong control phase or a wrong endianness of a 4×4) show up in the
measured probabilities. Targets are deliberately given in descending order and MS/pauliexp are
asymmetric, so passing a big-endian matrix little-endian (or the reverse) changes the answer.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from qumulus.circuits.model import Circuit, Operation
from tests.sim._util import TOLERANCE, dense, make_engine, reference_probabilities

ENGINES = ("aer", "qsim", "qulacs")
QUBITS = 5

#: (label, operation on targets only); targets chosen so that reversed order matters.
GATE_CASES: list[tuple[str, Operation]] = [
    *[(name, Operation(name, (3,))) for name in ("x", "y", "z", "h", "s", "si", "t", "ti", "v", "vi")],
    ("rx", Operation("rx", (3,), params=(0.731,))),
    ("ry", Operation("ry", (3,), params=(-1.93,))),
    ("rz", Operation("rz", (3,), params=(2.41,))),
    ("phase", Operation("phase", (3,), params=(1.17,))),
    ("xx", Operation("xx", (4, 1), params=(0.83,))),
    ("yy", Operation("yy", (4, 1), params=(-2.2,))),
    ("zz", Operation("zz", (4, 1), params=(1.3,))),
    # Native ZZ(angle=0.137 turns) is stored as the QIS zz with rotation 2π·angle.
    ("native-zz", Operation("zz", (1, 4), params=(2 * math.pi * 0.137,))),
    ("swap", Operation("swap", (4, 1))),
    ("gpi", Operation("gpi", (3,), params=(0.123,))),
    ("gpi2", Operation("gpi2", (3,), params=(0.377,))),
    ("ms-full", Operation("ms", (4, 1), params=(0.1, 0.35, 0.25))),
    ("ms-partial", Operation("ms", (1, 4), params=(0.71, 0.05, 0.09))),
    ("pauliexp-2q", Operation("pauliexp", (4, 1), params=(0.9, 0.7, -0.4, 0.25), terms=("XY", "ZX", "YI"))),
    ("pauliexp-3q", Operation("pauliexp", (4, 0, 2), params=(1.3, 0.5, 0.8), terms=("XYZ", "ZIX"))),
]
CONTROLS = {0: (), 1: (2,), 2: (2, 0)}


def _free_controls(op: Operation, count: int) -> tuple[int, ...]:
    spare = [q for q in (2, 0, 3, 1, 4) if q not in op.targets]
    return tuple(spare[:count])


def _sandwich(op: Operation) -> Circuit:
    rng = np.random.default_rng(7)
    layer = [
        Operation(axis, (q,), params=(float(rng.uniform(0.3, 2.8)),))
        for q in range(QUBITS)
        for axis in ("ry", "rz")
    ]
    closing = [
        Operation(axis, (q,), params=(float(rng.uniform(0.3, 2.8)),))
        for q in range(QUBITS)
        for axis in ("rx", "ry")
    ]
    return Circuit(QUBITS, (*layer, op, *closing))


@pytest.fixture(scope="module", params=ENGINES)
def engine(request):
    return make_engine(request.param)


@pytest.mark.parametrize("controls", sorted(CONTROLS))
@pytest.mark.parametrize(("label", "base"), GATE_CASES, ids=[label for label, _ in GATE_CASES])
def test_gate_against_reference(engine, label: str, base: Operation, controls: int) -> None:
    op = Operation(base.name, base.targets, _free_controls(base, controls), base.params, base.terms)
    circuit = _sandwich(op)
    got = dense(engine.probabilities(circuit))
    want = reference_probabilities(circuit)
    np.testing.assert_allclose(
        got, want, atol=TOLERANCE[engine.name], rtol=0, err_msg=f"{label} c={controls}"
    )
    assert abs(got.sum() - 1) < 1e-9


def test_ms_asymmetry_is_visible() -> None:
    """Guards the test itself: swapping MS's targets must change the probabilities."""
    a = reference_probabilities(_sandwich(Operation("ms", (4, 1), params=(0.1, 0.35, 0.25))))
    b = reference_probabilities(_sandwich(Operation("ms", (1, 4), params=(0.1, 0.35, 0.25))))
    assert np.abs(a - b).max() > 1e-2


def test_multi_controlled_x_many_controls() -> None:
    """A 5-control X (Aer's mcx, qsim's controlled X, qulacs' dense + 5 controls) flips only on 11111."""
    ops = [Operation("x", (q,)) for q in range(5)] + [Operation("x", (5,), controls=(0, 1, 2, 3, 4))]
    circuit = Circuit(6, tuple(ops))
    for name in ENGINES:
        dist = make_engine(name).probabilities(circuit)
        assert dist.as_dict() == pytest.approx({0b111111: 1.0}, abs=TOLERANCE[name])


def _random_circuit(n: int, gates: int, seed: int) -> Circuit:
    rng = np.random.default_rng(seed)
    ops: list[Operation] = []
    for _ in range(gates):
        _, base = GATE_CASES[rng.integers(len(GATE_CASES))]
        width = len(base.targets)
        qubits = [int(q) for q in rng.permutation(n)]
        targets = tuple(qubits[:width])
        controls = tuple(qubits[width : width + int(rng.integers(0, 3))])
        params = tuple(float(p) * (1 + 0.3 * rng.standard_normal()) for p in base.params)
        if base.name == "ms":
            params = (float(rng.random()), float(rng.random()), float(rng.uniform(0, 0.25)))
        ops.append(Operation(base.name, targets, controls, params, base.terms))
    return Circuit(n, tuple(ops))


@pytest.mark.parametrize("seed", range(12))
def test_engines_agree_on_random_mixed_circuits(seed: int) -> None:
    """All gate kinds mixed, random controls, 6 qubits: every engine equals the reference."""
    circuit = _random_circuit(6, 40, seed)
    want = reference_probabilities(circuit)
    for name in ENGINES:
        got = dense(make_engine(name).probabilities(circuit))
        np.testing.assert_allclose(got, want, atol=TOLERANCE[name], rtol=0, err_msg=name)


@pytest.mark.parametrize("name", ENGINES)
def test_idle_qubits_and_empty_circuit(name: str) -> None:
    engine = make_engine(name)
    assert engine.probabilities(Circuit(3, ())).as_dict() == pytest.approx({0: 1.0})
    # Only qubit 2 is touched: index 4 (little endian), wire spec §5.1's example.
    assert engine.probabilities(Circuit(3, (Operation("x", (2,)),))).as_dict() == pytest.approx({4: 1.0})
    assert engine.probabilities(Circuit(3, (Operation("x", (0,)),))).as_dict() == pytest.approx({1: 1.0})


@pytest.mark.parametrize("name", ENGINES)
def test_engine_declares_name_and_limit(name: str) -> None:
    from qumulus.sim.engine import Engine

    engine = make_engine(name)
    assert isinstance(engine, Engine)
    assert engine.name == name
    assert engine.max_qubits >= 28
    with pytest.raises(ValueError, match="at most"):
        engine.probabilities(Circuit(engine.max_qubits + 1, ()))
