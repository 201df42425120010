"""Parsing every shape the IonQ clients send (wire spec §3.2, §3.3, §10, §11) into the model."""

from __future__ import annotations

import math
import random

import pytest

from qumulus.circuits import (
    Circuit,
    CircuitBatch,
    CircuitError,
    Operation,
    batch_to_json,
    parse_input,
    to_native_json,
    to_qis_json,
)

from ._util import BELL_OPS, parse_single

# --- §3.3: the Bell bodies each client sends ------------------------------------------------------

QISKIT_BELL = {
    "gateset": "qis",
    "qubits": 2,
    "circuit": [{"gate": "h", "targets": [0]}, {"gate": "x", "targets": [1], "controls": [0]}],
}
CIRQ_BELL = {
    "gateset": "qis",
    "qubits": 2,
    "circuit": [{"gate": "h", "targets": [0]}, {"gate": "cnot", "control": 0, "target": 1}],
}
PENNYLANE_BELL = {
    "qubits": 2,
    "gateset": "qis",
    "circuit": [{"gate": "h", "target": 0}, {"gate": "cnot", "control": 0, "target": 1}],
}
IONQ_BELL = {
    "gateset": "qis",
    "circuit": [{"gate": "h", "target": 0}, {"gate": "cnot", "control": 0, "target": 1}],
    "qubits": 2,
}


@pytest.mark.parametrize(
    "payload",
    [QISKIT_BELL, CIRQ_BELL, PENNYLANE_BELL, IONQ_BELL],
    ids=["qiskit", "cirq", "pennylane", "ionq"],
)
def test_client_bell_bodies_parse_to_the_same_circuit(payload: dict) -> None:
    circuit = parse_single(payload)
    assert circuit == Circuit(qubits=2, operations=BELL_OPS, gateset="qis")
    assert circuit.gate_counts() == {"1q": 1, "2q": 1}


def test_whole_job_bodies_from_spec_section_3_3() -> None:
    """The API hands over ``body["type"]`` and ``body["input"]``; extra job fields are not ours."""
    bodies = [
        {
            "type": "ionq.circuit.v1",
            "backend": "simulator",
            "shots": 1000,
            "name": "bell",
            "input": QISKIT_BELL,
        },
        {
            "backend": "simulator",
            "type": "ionq.circuit.v1",
            "lang": "json",
            "input": CIRQ_BELL,
            "shots": "100",
        },
        {"type": "ionq.circuit.v1", "input": PENNYLANE_BELL, "backend": "simulator", "shots": 1000},
        {"shots": 100, "backend": "simulator", "type": "ionq.circuit.v1", "input": IONQ_BELL},
    ]
    for body in bodies:
        batch = parse_input(body["type"], body["input"])
        assert batch == CircuitBatch(circuits=(Circuit(2, BELL_OPS),), multi=False)
        assert batch.qubits == 2


def test_missing_qubits_is_inferred() -> None:
    circuit = parse_single(
        {"circuit": [{"gate": "h", "target": 0}, {"gate": "cnot", "control": 0, "target": 3}]}
    )
    assert circuit.qubits == 4


def test_declared_qubits_may_exceed_the_gates() -> None:
    assert parse_single({"qubits": 5, "circuit": [{"gate": "h", "target": 0}]}).qubits == 5


def test_empty_gate_list_with_declared_qubits_is_valid() -> None:
    assert parse_single({"qubits": 3, "circuit": []}) == Circuit(3, ())


def test_float_like_indices_and_qubits() -> None:
    circuit = parse_single(
        {
            "qubits": 3.0,
            "circuit": [{"gate": "h", "target": 2.0}, {"gate": "x", "controls": [2.0], "targets": [0]}],
        }
    )
    assert circuit.qubits == 3
    assert circuit.operations == (Operation("h", (2,)), Operation("x", (0,), (2,)))
    assert all(type(q) is int for op in circuit.operations for q in op.qubits)


def test_gate_names_are_case_insensitive() -> None:
    circuit = parse_single(
        {"circuit": [{"gate": "H", "target": 0}, {"gate": "CNOT", "control": 0, "target": 1}]}
    )
    assert circuit.operations == BELL_OPS
    assert (
        parse_single({"gateset": "QIS", "circuit": [{"gate": "Rx", "target": 0, "rotation": 1}]}).gateset
        == "qis"
    )


def test_aliases() -> None:
    circuit = parse_single(
        {
            "qubits": 3,
            "circuit": [
                {"gate": "not", "target": 0},
                {"gate": "cnot", "controls": [0, 1], "target": 2},  # Toffoli [D3]
                {"gate": "z", "targets": [1], "rotation": 0.5},  # qiskit p → P(θ)
                {"gate": "z", "targets": [1], "controls": [0], "rotation": -0.25},  # qiskit cp
                {"gate": "z", "targets": [1], "controls": [0]},  # qiskit cz: plain Z
                {"gate": "z", "targets": [2], "rotation": None},  # null rotation: plain Z
            ],
        }
    )
    assert circuit.operations == (
        Operation("x", (0,)),
        Operation("x", (2,), (0, 1)),
        Operation("phase", (1,), (), (0.5,)),
        Operation("phase", (1,), (0,), (-0.25,)),
        Operation("z", (1,), (0,)),
        Operation("z", (2,)),
    )


def test_every_qis_gate() -> None:
    fixed = ["x", "y", "z", "h", "s", "si", "t", "ti", "v", "vi"]
    gates = [{"gate": g, "target": 0} for g in fixed]
    gates += [{"gate": g, "targets": [1], "rotation": 0.1 * k} for k, g in enumerate(["rx", "ry", "rz"], 1)]
    gates += [{"gate": "swap", "targets": [0, 2]}]
    gates += [{"gate": g, "targets": [2, 0], "rotation": 1.5} for g in ["xx", "yy", "zz"]]
    gates += [{"gate": "h", "targets": [0], "controls": [1, 2], "rotation": 3.0}]  # rotation ignored on h
    circuit = parse_single({"qubits": 3, "circuit": gates})
    names = [op.name for op in circuit.operations]
    assert names == [*fixed, "rx", "ry", "rz", "swap", "xx", "yy", "zz", "h"]
    assert circuit.operations[10].params == (0.1,)
    assert circuit.operations[14] == Operation("xx", (2, 0), (), (1.5,))
    assert circuit.operations[-1] == Operation("h", (0,), (1, 2))
    assert all(isinstance(p, float) for op in circuit.operations for p in op.params)


def test_controls_allowed_on_any_qis_gate() -> None:
    circuit = parse_single(
        {
            "circuit": [
                {"gate": "swap", "targets": [1, 2], "controls": [0]},
                {"gate": "xx", "targets": [1, 2], "control": 0, "rotation": 0.3},
                {
                    "gate": "pauliexp",
                    "targets": [1, 2],
                    "controls": [0, 3],
                    "terms": ["XZ"],
                    "coefficients": [1],
                    "time": 1,
                },
                {"gate": "v", "target": 0, "controls": [1, 2, 3]},
            ]
        }
    )
    assert [op.controls for op in circuit.operations] == [(0,), (0,), (0, 3), (1, 2, 3)]
    assert circuit.qubits == 4


def test_pauliexp() -> None:
    gate = {
        "gate": "pauliexp",
        "targets": [0, 2, 1],
        "terms": ["IZX", "yii"],
        "coefficients": [1, -0.5],
        "time": 0.7,
    }
    (op,) = parse_single({"circuit": [gate]}).operations
    assert op == Operation("pauliexp", (0, 2, 1), (), (0.7, 1.0, -0.5), ("IZX", "YII"))


def test_skipped_gates() -> None:
    circuit = parse_single(
        {
            "qubits": 2,
            "circuit": [
                {"gate": "id", "targets": [0]},
                {"gate": "i", "target": 1},
                {"gate": "barrier"},
                {"gate": "h", "target": 0},
                {"gate": "nop"},
            ],
        }
    )
    assert circuit.operations == (Operation("h", (0,)),)


def test_unknown_keys_are_ignored() -> None:
    circuit = parse_single(
        {
            "qubits": 2,
            "foo": {"bar": [1, 2]},
            "circuit": [
                {"gate": "h", "target": 0, "label": "mine", "duration": 3},
                {"gate": "x", "targets": [1], "meta": None},
            ],
        }
    )
    assert circuit.operations == (Operation("h", (0,)), Operation("x", (1,)))


def test_singular_and_plural_together_when_they_agree() -> None:
    (op,) = parse_single(
        {"circuit": [{"gate": "x", "target": 1, "targets": [1], "control": 0, "controls": [0]}]}
    ).operations
    assert op == Operation("x", (1,), (0,))


def test_null_optional_fields_are_absent() -> None:
    (op,) = parse_single(
        {
            "gateset": None,
            "qubits": None,
            "circuit": [{"gate": "h", "targets": None, "target": 0, "controls": None}],
        }
    ).operations
    assert op == Operation("h", (0,))


def test_name_and_registers_are_kept() -> None:
    circuit = parse_single(
        {
            "qubits": 1,
            "name": "c0",
            "registers": {"meas_mapped": [0, None]},
            "circuit": [{"gate": "h", "target": 0}],
        }
    )
    assert circuit.name == "c0"
    assert circuit.registers == {"meas_mapped": [0, None]}


# --- native gateset ---------------------------------------------------------------------------------


def test_native_gates() -> None:
    circuit = parse_single(
        {
            "gateset": "native",
            "qubits": 3,
            "circuit": [
                {"gate": "gpi", "target": 0, "phase": 0.1},
                {"gate": "gpi2", "targets": [1], "phase": -0.75},
                {"gate": "ms", "targets": [0, 1], "phases": [0.1, 0.2]},  # default angle 0.25
                {"gate": "ms", "targets": [1, 2], "phases": [-1, 1], "angle": 0.125},
                {"gate": "zz", "targets": [0, 2], "angle": 0.25},  # qiskit
                {"gate": "zz", "targets": [0, 2], "phase": -0.125},  # cirq
                {"gate": "zz", "targets": [0, 2], "angle": 0.05, "phase": 0.9},  # angle wins
                {"gate": "nop"},
                {"gate": "GPI", "target": 2, "phase": 1},
            ],
        }
    )
    assert circuit.gateset == "native"
    assert circuit.operations == (
        Operation("gpi", (0,), (), (0.1,)),
        Operation("gpi2", (1,), (), (-0.75,)),
        Operation("ms", (0, 1), (), (0.1, 0.2, 0.25)),
        Operation("ms", (1, 2), (), (-1.0, 1.0, 0.125)),
        Operation("zz", (0, 2), (), (math.tau * 0.25,)),
        Operation("zz", (0, 2), (), (math.tau * -0.125,)),
        Operation("zz", (0, 2), (), (math.tau * 0.05,)),
        Operation("gpi", (2,), (), (1.0,)),
    )


def test_native_zz_is_stored_as_qis_zz() -> None:
    """exp(-iπθ·Z⊗Z) with θ in turns is the QIS zz with rotation 2πθ (model.py convention)."""
    native = parse_single({"gateset": "native", "circuit": [{"gate": "zz", "targets": [0, 1], "angle": 0.1}]})
    qis = parse_single({"circuit": [{"gate": "zz", "targets": [0, 1], "rotation": 2 * math.pi * 0.1}]})
    assert native.operations == qis.operations


def test_empty_controls_list_on_native_gate_is_fine() -> None:
    (op,) = parse_single(
        {"gateset": "native", "circuit": [{"gate": "gpi", "target": 0, "controls": [], "phase": 0}]}
    ).operations
    assert op == Operation("gpi", (0,), (), (0.0,))


# --- multi-circuit and v0.3 ----------------------------------------------------------------------


def test_multi_circuit_pennylane_shape() -> None:
    """pennylane batches: top-level qubits and gateset, circuits without names (§3.3)."""
    payload = {
        "qubits": 3,
        "gateset": "qis",
        "circuits": [{"circuit": [{"gate": "h", "target": 0}]}, {"circuit": [{"gate": "x", "target": 1}]}],
    }
    batch = parse_input("ionq.multi-circuit.v1", payload)
    assert batch.multi
    assert [c.qubits for c in batch.circuits] == [3, 3]  # top-level qubits is every circuit's default
    assert batch.qubits == 3
    assert batch.gate_counts() == {"1q": 2}


def test_multi_circuit_per_circuit_fields() -> None:
    payload = {
        "gateset": "qis",
        "circuits": [
            {"name": "a", "qubits": 4, "registers": {"c": [0, 1]}, "circuit": [{"gate": "h", "target": 0}]},
            {
                "gateset": "native",
                "circuit": [{"gate": "ms", "targets": [0, 2], "phases": [0, 0]}],
                "extra": 1,
            },
            {"circuit": [{"gate": "cnot", "control": 1, "target": 0}]},
        ],
    }
    batch = parse_input("ionq.multi-circuit.v1", payload)
    a, b, c = batch.circuits
    assert (a.name, a.qubits, a.registers, a.gateset) == ("a", 4, {"c": [0, 1]}, "qis")
    assert (b.name, b.qubits, b.gateset) == (None, 3, "native")  # inferred: no qubits anywhere
    assert (c.qubits, c.gateset) == (2, "qis")
    assert batch.qubits == 4


def test_multi_circuit_cirq_shape_single_circuit() -> None:
    payload = {"gateset": "qis", "qubits": 2, "circuits": [{"circuit": CIRQ_BELL["circuit"]}]}
    batch = parse_input("ionq.multi-circuit.v1", payload)
    assert batch == CircuitBatch(circuits=(Circuit(2, BELL_OPS),), multi=True)


def test_v03_single_circuit() -> None:
    payload = {"format": "ionq.circuit.v0", "gateset": "qis", "qubits": 2, "circuit": IONQ_BELL["circuit"]}
    assert parse_input(None, payload) == CircuitBatch(circuits=(Circuit(2, BELL_OPS),), multi=False)


def test_v03_multi_circuit() -> None:
    payload = {
        "format": "ionq.circuit.v0",
        "qubits": 2,
        "circuits": [
            {
                "name": "bell",
                "qubits": 2,
                "registers": {"meas_mapped": [0, 1]},
                "circuit": IONQ_BELL["circuit"],
            },
            {"name": "one", "circuit": [{"gate": "x", "target": 0}]},
        ],
    }
    batch = parse_input(None, payload)
    assert batch.multi
    assert [c.name for c in batch.circuits] == ["bell", "one"]
    assert batch.circuits[0].operations == BELL_OPS
    assert batch.circuits[1].qubits == 2


def test_v03_without_format_is_accepted() -> None:
    assert parse_input(None, {"circuit": [{"gate": "h", "target": 0}]}).circuits[0].qubits == 1


# --- limits ------------------------------------------------------------------------------------------


def test_max_qubits_is_inclusive() -> None:
    payload = {"qubits": 29, "circuit": [{"gate": "h", "target": 28}]}
    assert parse_single(payload, max_qubits=29).qubits == 29


def test_largest_allowed_job() -> None:
    gates = [{"gate": "h", "target": 0}] * 30_000
    payload = {"qubits": 1, "circuits": [{"circuit": gates} for _ in range(5)]}
    batch = parse_input("ionq.multi-circuit.v1", payload)
    assert sum(len(c.operations) for c in batch.circuits) == 150_000


def test_most_circuits_allowed() -> None:
    payload = {"qubits": 1, "circuits": [{"circuit": [{"gate": "h", "target": 0}]}] * 5000}
    assert len(parse_input("ionq.multi-circuit.v1", payload).circuits) == 5000


# --- serialization round trips ----------------------------------------------------------------------


def _random_qis_circuit(rng: random.Random, qubits: int, size: int) -> Circuit:
    one = ["x", "y", "z", "h", "s", "si", "t", "ti", "v", "vi"]
    rot = ["rx", "ry", "rz", "phase"]
    ops = []
    for _ in range(size):
        picks = rng.sample(range(qubits), qubits)
        controls = tuple(picks[2 : 2 + rng.choice([0, 0, 1, 2])])
        kind = rng.random()
        if kind < 0.3:
            ops.append(Operation(rng.choice(one), (picks[0],), controls))
        elif kind < 0.6:
            ops.append(Operation(rng.choice(rot), (picks[0],), controls, (rng.uniform(-7, 7),)))
        elif kind < 0.8:
            ops.append(
                Operation(rng.choice(["xx", "yy", "zz"]), tuple(picks[:2]), controls, (rng.uniform(-7, 7),))
            )
        elif kind < 0.9:
            ops.append(Operation("swap", tuple(picks[:2]), controls))
        else:
            n = rng.randint(1, 2)
            terms = tuple("".join(rng.choice("IXYZ") for _ in range(n)) for _ in range(rng.randint(1, 3)))
            params = (rng.uniform(0, 2), *(rng.uniform(-1, 1) for _ in terms))
            ops.append(Operation("pauliexp", tuple(picks[:n]), controls, params, terms))
    return Circuit(qubits, tuple(ops), "qis")


def _random_native_circuit(rng: random.Random, qubits: int, size: int) -> Circuit:
    ops = []
    for _ in range(size):
        a, b = rng.sample(range(qubits), 2)
        kind = rng.random()
        if kind < 0.4:
            ops.append(Operation(rng.choice(["gpi", "gpi2"]), (a,), (), (rng.uniform(-1, 1),)))
        elif kind < 0.7:
            ops.append(
                Operation("ms", (a, b), (), (rng.uniform(-1, 1), rng.uniform(-1, 1), rng.uniform(0, 0.25)))
            )
        else:
            # Stored exactly as the parser stores it: 2π · angle.
            ops.append(Operation("zz", (a, b), (), (math.tau * rng.uniform(-1, 1),)))
    return Circuit(qubits, tuple(ops), "native")


def test_qis_round_trip() -> None:
    rng = random.Random(7)
    for _ in range(200):
        circuit = _random_qis_circuit(rng, rng.randint(4, 6), rng.randint(0, 12))
        wire = to_qis_json(circuit)
        assert wire["gateset"] == "qis"
        assert all("target" not in g and "control" not in g for g in wire["circuit"])
        assert parse_single(wire) == circuit


def test_native_round_trip_is_exact() -> None:
    rng = random.Random(11)
    for _ in range(300):
        circuit = _random_native_circuit(rng, rng.randint(2, 5), rng.randint(1, 12))
        wire = to_native_json(circuit)
        assert wire["gateset"] == "native"
        for gate in wire["circuit"]:
            if gate["gate"] == "zz":
                assert -1 <= gate["angle"] <= 1
        assert parse_single(wire) == circuit


def test_round_trip_of_parsed_client_bodies() -> None:
    for payload in (QISKIT_BELL, CIRQ_BELL, PENNYLANE_BELL, IONQ_BELL):
        circuit = parse_single(payload)
        assert parse_single(to_qis_json(circuit)) == circuit
    native = parse_single(
        {
            "gateset": "native",
            "circuit": [
                {"gate": "zz", "targets": [0, 1], "phase": 0.1},
                {"gate": "gpi2", "target": 0, "phase": 0.3},
            ],
        }
    )
    assert to_native_json(native)["circuit"][0] == {"gate": "zz", "targets": [0, 1], "angle": 0.1}
    assert parse_single(to_native_json(native)) == native


def test_serialized_name_and_registers() -> None:
    circuit = Circuit(1, (Operation("phase", (0,), (), (0.5,)),), name="p", registers={"c": [0]})
    wire = to_qis_json(circuit)
    assert wire == {
        "gateset": "qis",
        "qubits": 1,
        "circuit": [{"gate": "z", "targets": [0], "rotation": 0.5}],
        "name": "p",
        "registers": {"c": [0]},
    }
    parsed = parse_single(wire)
    assert parsed == circuit
    assert parsed.registers == {"c": [0]}


def test_batch_round_trip() -> None:
    rng = random.Random(3)
    circuits = (
        _random_qis_circuit(rng, 4, 5),
        _random_native_circuit(rng, 3, 4),
        Circuit(2, BELL_OPS, name="bell"),
    )
    batch = CircuitBatch(circuits=circuits, multi=True)
    wire = batch_to_json(batch)
    assert wire["qubits"] == 4
    assert parse_input("ionq.multi-circuit.v1", wire) == batch


def test_serializers_refuse_the_other_gateset() -> None:
    with pytest.raises(CircuitError) as info:
        to_qis_json(Circuit(1, (Operation("h", (0,)), Operation("gpi", (0,), (), (0.1,)))))
    assert info.value.path == "circuit[1].gate"
    with pytest.raises(CircuitError, match="not a native gate"):
        to_native_json(Circuit(1, (Operation("h", (0,)),), gateset="native"))
    with pytest.raises(CircuitError, match="with controls"):
        to_native_json(Circuit(3, (Operation("zz", (0, 1), (2,), (0.1,)),), gateset="native"))
