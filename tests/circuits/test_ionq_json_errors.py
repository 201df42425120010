"""Every rejection names the circuit, the gate, the field and why (``CircuitError.path``)."""

from __future__ import annotations

from typing import Any

import pytest

from qumulus.circuits import CircuitError, parse_input
from qumulus.circuits.errors import TooManyGates

V1 = "ionq.circuit.v1"
MULTI = "ionq.multi-circuit.v1"


def _one(*gates: Any, qubits: Any = 3, gateset: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"qubits": qubits, "circuit": list(gates)}
    if gateset is not None:
        body["gateset"] = gateset
    return body


def _native(*gates: Any) -> dict[str, Any]:
    return _one(*gates, gateset="native")


H = {"gate": "h", "target": 0}

# (id, job type, input, expected path, words the reason must contain)
CASES: list[tuple[str, str | None, Any, str, str]] = [
    # job type and input shape
    ("qasm3-no-qubits", "ionq.qasm3.v1", {"data": "OPENQASM 3.0;"}, "input.data", "no qubits"),
    ("qasm3-no-data", "ionq.qasm3.v1", {"qubits": 1}, "input.data", "missing"),
    ("unknown-type", "ionq.foo.v1", {}, "type", "unsupported job type"),
    ("non-string-type", 3, {}, "type", "unsupported job type"),
    ("input-none", V1, None, "input", "JSON object"),
    ("input-list", V1, [H], "input", "JSON object"),
    ("input-string", MULTI, "circuits", "input", "JSON object"),
    ("v0-bad-format", None, {"format": "ionq.circuit.v9", "circuit": [H]}, "input.format", "ionq.circuit.v0"),
    (
        "circuit-and-circuits",
        V1,
        {"circuit": [H], "circuits": [{"circuit": [H]}]},
        "input.circuits",
        "not both",
    ),
    ("multi-both", MULTI, {"circuit": [H], "circuits": [{"circuit": [H]}]}, "input.circuits", "not both"),
    ("v0-both", None, {"circuit": [H], "circuits": [{"circuit": [H]}]}, "input.circuits", "not both"),
    ("single-missing-circuit", V1, {"qubits": 1}, "input.circuit", "missing"),
    ("single-with-circuits", V1, {"circuits": [{"circuit": [H]}]}, "input.circuit", "multi-circuit"),
    ("multi-missing-circuits", MULTI, {"circuit": [H]}, "input.circuits", "missing"),
    (
        "circuit-not-list",
        V1,
        {"qubits": 1, "circuit": {"gate": "h"}},
        "input.circuit",
        "list of gate objects",
    ),
    ("circuit-string", V1, {"qubits": 1, "circuit": "h 0"}, "input.circuit", "list"),
    ("gate-not-object", V1, _one(H, "h"), "input.circuit[1]", "JSON object"),
    ("gate-null", V1, _one(None), "input.circuit[0]", "JSON object"),
    ("gateset-bad", V1, _one(H, gateset="ibm"), "input.gateset", "'qis' or 'native'"),
    ("gateset-number", V1, {"gateset": 1, "circuit": [H]}, "input.gateset", "'qis' or 'native'"),
    # qubits
    ("qubits-zero", V1, _one(H, qubits=0), "input.qubits", "positive integer"),
    ("qubits-negative", V1, _one(H, qubits=-2), "input.qubits", "positive integer"),
    ("qubits-fraction", V1, _one(H, qubits=1.5), "input.qubits", "positive integer"),
    ("qubits-string", V1, _one(H, qubits="2"), "input.qubits", "positive integer"),
    ("qubits-bool", V1, _one(H, qubits=True), "input.qubits", "positive integer"),
    ("qubits-huge", V1, _one(H, qubits=10**30), "input.qubits", "too many"),
    ("empty-no-qubits", V1, {"circuit": []}, "input.qubits", "at least one qubit"),
    ("only-skipped-no-qubits", V1, {"circuit": [{"gate": "barrier"}]}, "input.qubits", "at least one qubit"),
    # gate names
    (
        "gate-unknown",
        V1,
        _one(H, {"gate": "foo", "target": 0}),
        "input.circuit[1].gate",
        "unknown gate 'foo'",
    ),
    ("gate-missing", V1, _one({"target": 0}), "input.circuit[0].gate", "missing gate name"),
    ("gate-number", V1, _one({"gate": 7, "target": 0}), "input.circuit[0].gate", "string"),
    (
        "phase-not-a-wire-name",
        V1,
        _one({"gate": "phase", "target": 0, "rotation": 1}),
        "input.circuit[0].gate",
        "unknown gate",
    ),
    (
        "measure",
        V1,
        _one(H, {"gate": "measure", "target": 0}),
        "input.circuit[1].gate",
        "measured at the end",
    ),
    (
        "native-in-qis",
        V1,
        _one({"gate": "gpi", "target": 0, "phase": 0.1}),
        "input.circuit[0].gate",
        "native gate gpi in a qis circuit",
    ),
    (
        "ms-in-qis",
        V1,
        _one({"gate": "ms", "targets": [0, 1], "phases": [0, 0]}),
        "input.circuit[0].gate",
        "cannot be mixed",
    ),
    (
        "qis-in-native",
        V1,
        _native({"gate": "gpi", "target": 0, "phase": 0}, H),
        "input.circuit[1].gate",
        "QIS gate h in a native circuit",
    ),
    (
        "cnot-in-native",
        V1,
        _native({"gate": "cnot", "control": 0, "target": 1}),
        "input.circuit[0].gate",
        "cannot be mixed",
    ),
    # targets and controls
    ("target-missing", V1, _one({"gate": "h"}), "input.circuit[0].targets", "needs a target"),
    ("targets-empty", V1, _one({"gate": "h", "targets": []}), "input.circuit[0].targets", "needs a target"),
    (
        "targets-not-list",
        V1,
        _one({"gate": "h", "targets": 0}),
        "input.circuit[0].targets",
        "list of qubit indices",
    ),
    (
        "too-many-targets",
        V1,
        _one({"gate": "h", "targets": [0, 1]}),
        "input.circuit[0].targets",
        "takes 1 target",
    ),
    (
        "swap-one-target",
        V1,
        _one({"gate": "swap", "target": 0}),
        "input.circuit[0].target",
        "takes 2 targets",
    ),
    (
        "xx-three-targets",
        V1,
        _one({"gate": "xx", "targets": [0, 1, 2], "rotation": 1}),
        "input.circuit[0].targets",
        "takes 2 targets",
    ),
    (
        "ms-one-target",
        V1,
        _native({"gate": "ms", "targets": [0], "phases": [0, 0]}),
        "input.circuit[0].targets",
        "takes 2 targets",
    ),
    ("swap-same-qubit", V1, _one({"gate": "swap", "targets": [1, 1]}), "input.circuit[0].targets", "twice"),
    (
        "control-is-target",
        V1,
        _one({"gate": "cnot", "control": 1, "target": 1}),
        "input.circuit[0].control",
        "twice",
    ),
    (
        "controls-repeat",
        V1,
        _one({"gate": "x", "controls": [0, 0], "targets": [1]}),
        "input.circuit[0].controls",
        "twice",
    ),
    (
        "cnot-no-control",
        V1,
        _one({"gate": "cnot", "target": 1}),
        "input.circuit[0].controls",
        "needs a control",
    ),
    (
        "controls-on-native",
        V1,
        _native({"gate": "gpi", "target": 0, "control": 1, "phase": 0}),
        "input.circuit[0].control",
        "cannot have controls",
    ),
    (
        "target-negative",
        V1,
        _one({"gate": "h", "target": -1}),
        "input.circuit[0].target",
        "non-negative integer",
    ),
    (
        "target-fraction",
        V1,
        _one(H, {"gate": "h", "targets": [2.5]}),
        "input.circuit[1].targets",
        "non-negative integer",
    ),
    (
        "target-string",
        V1,
        _one({"gate": "h", "target": "0"}),
        "input.circuit[0].target",
        "non-negative integer",
    ),
    (
        "target-bool",
        V1,
        _one({"gate": "h", "target": True}),
        "input.circuit[0].target",
        "non-negative integer",
    ),
    (
        "target-nan",
        V1,
        _one({"gate": "h", "target": float("nan")}),
        "input.circuit[0].target",
        "non-negative integer",
    ),
    (
        "target-inf",
        V1,
        _one({"gate": "h", "target": float("inf")}),
        "input.circuit[0].target",
        "non-negative integer",
    ),
    (
        "target-out-of-range",
        V1,
        _one(H, {"gate": "h", "targets": [3]}),
        "input.circuit[1].targets",
        "out of range: the circuit has 3 qubits",
    ),
    (
        "control-out-of-range",
        V1,
        _one({"gate": "x", "controls": [0, 5], "targets": [1]}),
        "input.circuit[0].controls",
        "out of range",
    ),
    (
        "index-huge-inferred",
        V1,
        {"circuit": [{"gate": "h", "target": 1e300}]},
        "input.circuit[0].target",
        "too large",
    ),
    (
        "target-targets-disagree",
        V1,
        _one({"gate": "h", "target": 0, "targets": [1]}),
        "input.circuit[0].targets",
        "disagree",
    ),
    # parameters
    (
        "rotation-missing",
        V1,
        _one({"gate": "rx", "target": 0}),
        "input.circuit[0].rotation",
        "missing rotation",
    ),
    (
        "rotation-null",
        V1,
        _one({"gate": "xx", "targets": [0, 1], "rotation": None}),
        "input.circuit[0].rotation",
        "missing",
    ),
    (
        "rotation-nan",
        V1,
        _one({"gate": "ry", "target": 0, "rotation": float("nan")}),
        "input.circuit[0].rotation",
        "finite",
    ),
    (
        "rotation-inf",
        V1,
        _one({"gate": "rz", "target": 0, "rotation": float("-inf")}),
        "input.circuit[0].rotation",
        "finite",
    ),
    (
        "rotation-huge-int",
        V1,
        _one({"gate": "rz", "target": 0, "rotation": 10**400}),
        "input.circuit[0].rotation",
        "finite",
    ),
    (
        "rotation-bool",
        V1,
        _one({"gate": "rz", "target": 0, "rotation": True}),
        "input.circuit[0].rotation",
        "must be a number",
    ),
    (
        "rotation-string",
        V1,
        _one({"gate": "rz", "target": 0, "rotation": "1.0"}),
        "input.circuit[0].rotation",
        "must be a number",
    ),
    (
        "z-rotation-string",
        V1,
        _one({"gate": "z", "target": 0, "rotation": "pi"}),
        "input.circuit[0].rotation",
        "must be a number",
    ),
    (
        "qis-zz-with-angle",
        V1,
        _one({"gate": "zz", "targets": [0, 1], "angle": 0.1}),
        "input.circuit[0].rotation",
        "missing rotation",
    ),
    (
        "gpi-phase-missing",
        V1,
        _native({"gate": "gpi", "target": 0}),
        "input.circuit[0].phase",
        "missing phase",
    ),
    (
        "gpi-phase-range",
        V1,
        _native({"gate": "gpi2", "target": 0, "phase": 1.5}),
        "input.circuit[0].phase",
        "outside -1.0..1.0",
    ),
    (
        "gpi-phase-nan",
        V1,
        _native({"gate": "gpi", "target": 0, "phase": float("nan")}),
        "input.circuit[0].phase",
        "finite",
    ),
    (
        "ms-phases-missing",
        V1,
        _native({"gate": "ms", "targets": [0, 1]}),
        "input.circuit[0].phases",
        "two numbers",
    ),
    (
        "ms-phases-short",
        V1,
        _native({"gate": "ms", "targets": [0, 1], "phases": [0]}),
        "input.circuit[0].phases",
        "two numbers",
    ),
    (
        "ms-phases-range",
        V1,
        _native({"gate": "ms", "targets": [0, 1], "phases": [0, -1.01]}),
        "input.circuit[0].phases",
        "phases[1]",
    ),
    (
        "ms-phases-string",
        V1,
        _native({"gate": "ms", "targets": [0, 1], "phases": ["0", 0]}),
        "input.circuit[0].phases",
        "phases[0] must be a number",
    ),
    (
        "ms-angle-range",
        V1,
        _native({"gate": "ms", "targets": [0, 1], "phases": [0, 0], "angle": 0.75}),
        "input.circuit[0].angle",
        "outside -0.5..0.5",
    ),
    (
        "ms-angle-negative",
        V1,
        _native({"gate": "ms", "targets": [0, 1], "phases": [0, 0], "angle": -0.6}),
        "input.circuit[0].angle",
        "outside",
    ),
    (
        "native-zz-missing",
        V1,
        _native({"gate": "zz", "targets": [0, 1]}),
        "input.circuit[0].angle",
        "missing angle",
    ),
    (
        "native-zz-phase-range",
        V1,
        _native({"gate": "zz", "targets": [0, 1], "phase": 2}),
        "input.circuit[0].phase",
        "outside",
    ),
    (
        "native-zz-rotation-only",
        V1,
        _native({"gate": "zz", "targets": [0, 1], "rotation": 0.1}),
        "input.circuit[0].angle",
        "missing angle",
    ),
    # pauliexp
    (
        "pauliexp-no-terms",
        V1,
        _one({"gate": "pauliexp", "targets": [0], "coefficients": [1], "time": 1}),
        "input.circuit[0].terms",
        "non-empty list",
    ),
    (
        "pauliexp-term-length",
        V1,
        _one(
            {"gate": "pauliexp", "targets": [0, 1], "terms": ["XX", "Z"], "coefficients": [1, 2], "time": 1}
        ),
        "input.circuit[0].terms",
        "terms[1]",
    ),
    (
        "pauliexp-term-letter",
        V1,
        _one({"gate": "pauliexp", "targets": [0], "terms": ["A"], "coefficients": [1], "time": 1}),
        "input.circuit[0].terms",
        "I, X, Y, Z",
    ),
    (
        "pauliexp-term-type",
        V1,
        _one({"gate": "pauliexp", "targets": [0], "terms": [1], "coefficients": [1], "time": 1}),
        "input.circuit[0].terms",
        "must be a string",
    ),
    (
        "pauliexp-coefficient-count",
        V1,
        _one({"gate": "pauliexp", "targets": [0], "terms": ["X", "Z"], "coefficients": [1], "time": 1}),
        "input.circuit[0].coefficients",
        "2 real numbers",
    ),
    (
        "pauliexp-coefficient-complex",
        V1,
        _one(
            {
                "gate": "pauliexp",
                "targets": [0],
                "terms": ["X"],
                "coefficients": [{"re": 1, "im": 2}],
                "time": 1,
            }
        ),
        "input.circuit[0].coefficients",
        "coefficients[0] must be a number",
    ),
    (
        "pauliexp-coefficient-nan",
        V1,
        _one({"gate": "pauliexp", "targets": [0], "terms": ["X"], "coefficients": [float("nan")], "time": 1}),
        "input.circuit[0].coefficients",
        "finite",
    ),
    (
        "pauliexp-time-missing",
        V1,
        _one({"gate": "pauliexp", "targets": [0], "terms": ["X"], "coefficients": [1]}),
        "input.circuit[0].time",
        "missing time",
    ),
    (
        "pauliexp-time-negative",
        V1,
        _one({"gate": "pauliexp", "targets": [0], "terms": ["X"], "coefficients": [1], "time": -0.5}),
        "input.circuit[0].time",
        "≥ 0",
    ),
    # multi-circuit
    ("circuits-empty", MULTI, {"circuits": []}, "input.circuits", "at least one circuit"),
    ("circuits-object", MULTI, {"circuits": {"circuit": [H]}}, "input.circuits", "list of circuit objects"),
    (
        "circuits-item-not-object",
        MULTI,
        {"circuits": [{"circuit": [H]}, [H]]},
        "input.circuits[1]",
        "JSON object",
    ),
    (
        "circuits-item-missing-circuit",
        MULTI,
        {"circuits": [{"name": "x"}]},
        "input.circuits[0].circuit",
        "missing",
    ),
    (
        "circuits-item-gate-error",
        MULTI,
        {"circuits": [{"circuit": [H]}, {"circuit": [{"gate": "rx", "target": 0, "rotation": "x"}]}]},
        "input.circuits[1].circuit[0].rotation",
        "must be a number",
    ),
    (
        "circuits-item-qubits",
        MULTI,
        {"circuits": [{"qubits": 0, "circuit": [H]}]},
        "input.circuits[0].qubits",
        "positive integer",
    ),
    (
        "circuits-item-gateset",
        MULTI,
        {"circuits": [{"gateset": "ionq", "circuit": [H]}]},
        "input.circuits[0].gateset",
        "'qis' or 'native'",
    ),
    (
        "circuits-item-native-override",
        MULTI,
        {
            "gateset": "native",
            "circuits": [{"circuit": [{"gate": "gpi", "target": 0, "phase": 0}]}, {"circuit": [H]}],
        },
        "input.circuits[1].circuit[0].gate",
        "native circuit",
    ),
    (
        "circuits-item-out-of-range-top-qubits",
        MULTI,
        {"qubits": 1, "circuits": [{"circuit": [{"gate": "x", "target": 1}]}]},
        "input.circuits[0].circuit[0].target",
        "out of range",
    ),
    (
        "circuits-item-name",
        MULTI,
        {"circuits": [{"name": 5, "circuit": [H]}]},
        "input.circuits[0].name",
        "string",
    ),
    (
        "circuits-item-registers",
        MULTI,
        {"circuits": [{"registers": [0], "circuit": [H]}]},
        "input.circuits[0].registers",
        "object",
    ),
    (
        "top-qubits-in-multi",
        MULTI,
        {"qubits": "3", "circuits": [{"circuit": [H]}]},
        "input.qubits",
        "positive integer",
    ),
]


@pytest.mark.parametrize(
    ("job_type", "payload", "path", "words"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_rejections(job_type: str | None, payload: Any, path: str, words: str) -> None:
    with pytest.raises(CircuitError) as info:
        parse_input(job_type, payload)
    err = info.value
    assert err.path == path
    assert words in err.reason
    assert str(err) == f"{path}: {err.reason}"


def test_error_attributes_single_circuit() -> None:
    with pytest.raises(CircuitError) as info:
        parse_input(V1, _one(H, H, H, {"gate": "rx", "target": 0}))
    err = info.value
    assert (err.circuit_index, err.gate_index, err.field) == (None, 3, "rotation")
    assert err.path == "input.circuit[3].rotation"


def test_error_attributes_multi_circuit() -> None:
    payload = {
        "circuits": [{"circuit": [H]}, {"circuit": [H, {"gate": "rx", "target": 0, "rotation": None}]}]
    }
    with pytest.raises(CircuitError) as info:
        parse_input(MULTI, payload)
    err = info.value
    assert (err.circuit_index, err.gate_index, err.field) == (1, 1, "rotation")
    assert err.path == "input.circuits[1].circuit[1].rotation"


def test_job_type_error_has_no_input_prefix() -> None:
    with pytest.raises(CircuitError) as info:
        parse_input("ionq.quantum-function.v9", {})
    assert (info.value.path, info.value.field, info.value.circuit_index) == ("type", "type", None)


# --- backend width ----------------------------------------------------------------------------------


def test_declared_qubits_over_backend_limit() -> None:
    with pytest.raises(CircuitError) as info:
        parse_input(V1, _one(H, qubits=30), max_qubits=29)
    assert info.value.path == "input.qubits"
    assert "backend has 29" in info.value.reason


def test_inferred_qubits_over_backend_limit() -> None:
    with pytest.raises(CircuitError) as info:
        parse_input(V1, {"circuit": [{"gate": "h", "target": 29}]}, max_qubits=29)
    assert info.value.path == "input.qubits"
    assert "uses 30 qubits" in info.value.reason


def test_per_circuit_qubits_over_backend_limit() -> None:
    payload = {"circuits": [{"circuit": [H]}, {"qubits": 12, "circuit": [H]}]}
    with pytest.raises(CircuitError) as info:
        parse_input(MULTI, payload, max_qubits=11)
    assert info.value.path == "input.circuits[1].qubits"
    inferred = {"circuits": [{"circuit": [H]}, {"circuit": [{"gate": "h", "target": 11}]}]}
    with pytest.raises(CircuitError) as info:
        parse_input(MULTI, inferred, max_qubits=11)
    assert info.value.path == "input.circuits[1].qubits"


def test_top_level_qubits_over_backend_limit_in_multi() -> None:
    with pytest.raises(CircuitError) as info:
        parse_input(MULTI, {"qubits": 40, "circuits": [{"circuit": [H]}]}, max_qubits=36)
    assert info.value.path == "input.qubits"


# --- job limits (§3.2) --------------------------------------------------------------------------------


def test_too_many_circuits() -> None:
    payload = {"qubits": 1, "circuits": [{"circuit": [H]}] * 5001}
    with pytest.raises(CircuitError) as info:
        parse_input(MULTI, payload)
    assert info.value.path == "input.circuits"
    assert "at most 5000" in info.value.reason


def test_too_many_gates_in_one_circuit() -> None:
    with pytest.raises(TooManyGates) as info:
        parse_input(V1, {"qubits": 1, "circuit": [H] * 11}, max_gates=10)
    assert info.value.path == "input.circuit"
    assert "QUMULUS_MAX_GATES" in info.value.reason
    assert len(parse_input(V1, {"qubits": 1, "circuit": [H] * 11}).circuits[0].operations) == 11  # no bound


def test_too_many_gates_across_circuits() -> None:
    payload = {"qubits": 1, "circuits": [{"circuit": [H] * 5}, {"circuit": [H] * 6}]}
    with pytest.raises(TooManyGates) as info:
        parse_input(MULTI, payload, max_gates=10)
    assert info.value.path == "input.circuits[1].circuit"


def test_long_garbage_is_shortened_in_messages() -> None:
    with pytest.raises(CircuitError) as info:
        parse_input(V1, _one({"gate": "x" * 10_000, "target": 0}))
    assert len(str(info.value)) < 200
