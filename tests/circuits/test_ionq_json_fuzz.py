"""Whatever JSON-shaped value arrives, ``parse_input`` returns a batch or raises ``CircuitError``.

Plain ``random`` with fixed seeds (hypothesis is not a project dependency): pure garbage, plus
mutations of valid bodies, which is what reaches the deep validation paths.
"""

from __future__ import annotations

import copy
import math
import random
from typing import Any

from qumulus.circuits import CircuitBatch, CircuitError, batch_to_json, parse_input

JOB_TYPES: list[Any] = [
    "ionq.circuit.v1",
    "ionq.multi-circuit.v1",
    None,
    "ionq.qasm3.v1",
    "IONQ.CIRCUIT.V1",
    "",
    0,
    [],
]

KEYS = [
    "gate",
    "target",
    "targets",
    "control",
    "controls",
    "rotation",
    "phase",
    "phases",
    "angle",
    "terms",
    "coefficients",
    "time",
    "qubits",
    "gateset",
    "circuit",
    "circuits",
    "name",
    "registers",
    "format",
]
GATE_NAMES = [
    "x",
    "y",
    "z",
    "h",
    "s",
    "si",
    "t",
    "ti",
    "v",
    "vi",
    "rx",
    "ry",
    "rz",
    "not",
    "cnot",
    "swap",
    "xx",
    "yy",
    "zz",
    "pauliexp",
    "gpi",
    "gpi2",
    "ms",
    "nop",
    "i",
    "id",
    "barrier",
    "measure",
    "CNOT",
    "Gpi2",
    "phase",
    "cx",
]


def _scalar(rng: random.Random) -> Any:
    return rng.choice(
        [
            None,
            True,
            False,
            0,
            1,
            2,
            -1,
            2.0,
            2.5,
            -0.0,
            1e300,
            -1e300,
            10**400,
            -(10**40),
            math.nan,
            math.inf,
            -math.inf,
            0.25,
            0.3,
            "",
            "0",
            "qis",
            "native",
            "IXZ",
            "ionq.circuit.v0",
            rng.choice(GATE_NAMES),
            rng.choice(KEYS),
            rng.random() * rng.choice([1, 10, 1e6]),
            rng.randint(-5, 40),
            "\u0000\U0001f600" * rng.randint(0, 3),
        ]
    )


def _garbage(rng: random.Random, depth: int = 0) -> Any:
    roll = rng.random()
    if depth > 4 or roll < 0.45:
        return _scalar(rng)
    if roll < 0.7:
        return [_garbage(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    out: dict[Any, Any] = {}
    for _ in range(rng.randint(0, 5)):
        key = rng.choice(KEYS) if rng.random() < 0.85 else _scalar(rng)
        out[key] = _garbage(rng, depth + 1)  # every scalar is hashable
    if rng.random() < 0.5:
        out["gate"] = rng.choice(GATE_NAMES)
    return out


SEEDS: list[tuple[str | None, dict[str, Any]]] = [
    (
        "ionq.circuit.v1",
        {
            "gateset": "qis",
            "qubits": 3,
            "circuit": [
                {"gate": "h", "target": 0},
                {"gate": "cnot", "control": 0, "target": 1},
                {"gate": "z", "targets": [2], "controls": [0, 1], "rotation": 0.5},
                {"gate": "xx", "targets": [0, 2], "rotation": 1.0},
                {
                    "gate": "pauliexp",
                    "targets": [0, 1],
                    "terms": ["XZ", "YI"],
                    "coefficients": [0.5, 1],
                    "time": 0.3,
                },
            ],
        },
    ),
    (
        "ionq.circuit.v1",
        {
            "gateset": "native",
            "qubits": 2,
            "circuit": [
                {"gate": "gpi", "target": 0, "phase": 0.1},
                {"gate": "gpi2", "target": 1, "phase": 0.2},
                {"gate": "ms", "targets": [0, 1], "phases": [0.1, 0.2], "angle": 0.2},
                {"gate": "zz", "targets": [0, 1], "phase": 0.1},
            ],
        },
    ),
    (
        "ionq.multi-circuit.v1",
        {
            "gateset": "qis",
            "qubits": 2,
            "circuits": [
                {"name": "a", "circuit": [{"gate": "h", "targets": [0]}]},
                {
                    "gateset": "native",
                    "qubits": 2,
                    "circuit": [{"gate": "ms", "targets": [0, 1], "phases": [0, 0]}],
                },
            ],
        },
    ),
    (
        None,
        {
            "format": "ionq.circuit.v0",
            "circuits": [{"registers": {"c": [0]}, "circuit": [{"gate": "not", "target": 0}]}],
        },
    ),
]


def _nodes(value: Any, out: list[tuple[Any, Any]]) -> list[tuple[Any, Any]]:
    """Every (container, key) pair in a JSON tree."""
    if isinstance(value, dict):
        for key in list(value):
            out.append((value, key))
            _nodes(value[key], out)
    elif isinstance(value, list):
        for index in range(len(value)):
            out.append((value, index))
            _nodes(value[index], out)
    return out


def _mutate(rng: random.Random, payload: dict[str, Any]) -> dict[str, Any]:
    body = copy.deepcopy(payload)
    for _ in range(rng.randint(1, 3)):
        nodes = _nodes(body, [])
        if not nodes:
            break
        container, key = rng.choice(nodes)
        action = rng.random()
        if action < 0.5:
            container[key] = _garbage(rng, 3) if rng.random() < 0.5 else _scalar(rng)
        elif action < 0.7:
            del container[key]
        elif action < 0.85 and isinstance(container, dict):
            container[rng.choice(KEYS)] = _scalar(rng)
        elif isinstance(container[key], list):
            container[key] = container[key] * rng.randint(0, 3)
        else:
            container[key] = [container[key]]
    return body


def _check(job_type: Any, payload: Any) -> bool:
    """Parse; on success the result must be sound and round-trip. Returns whether it parsed."""
    try:
        batch = parse_input(job_type, payload, max_qubits=32)
    except CircuitError as err:
        assert err.path
        assert err.reason
        return False
    assert isinstance(batch, CircuitBatch)
    for circuit in batch.circuits:
        assert 1 <= circuit.qubits <= 32
        for op in circuit.operations:
            assert all(0 <= q < circuit.qubits for q in op.qubits)
            assert len(set(op.qubits)) == len(op.qubits)
            assert all(isinstance(p, float) and math.isfinite(p) for p in op.params)
    assert (
        parse_input("ionq.multi-circuit.v1", batch_to_json(batch), max_qubits=32).circuits == batch.circuits
    )
    return True


def test_garbage_only_raises_circuit_error() -> None:
    rng = random.Random(20240601)
    for _ in range(20_000):
        _check(rng.choice(JOB_TYPES), _garbage(rng))


def test_mutated_bodies_only_raise_circuit_error() -> None:
    rng = random.Random(4242)
    parsed = 0
    for _ in range(20_000):
        job_type, seed = rng.choice(SEEDS)
        parsed += _check(job_type, _mutate(rng, seed))
    # The mutations must leave a fair share valid, or the deep paths were never exercised.
    assert 1_000 < parsed < 19_000
