"""The pure workload library: grouping, basis changes, energies, penalty, specs and optimizers.

Energies are checked against the dense matrix of the Hamiltonian and the exact state of the bound
ansatz (``circuit_unitary``), so a wrong basis change or a wrong endianness cannot hide.
"""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from qumulus.circuits import circuit_unitary
from qumulus.errors import InvalidCircuit, InvalidRequest
from qumulus.workloads import optimizers, spec
from qumulus.workloads.ansatz import parse_ansatz
from qumulus.workloads.function import HamiltonianEnergy
from qumulus.workloads.hamiltonian import Hamiltonian, PauliTerm, exact_matrix, group_qubit_wise
from qumulus.workloads.penalty import LinearConstraint, Penalty

H2_TERMS = [
    ("II", -1.052373245772859),
    ("IZ", 0.39793742484318045),
    ("ZI", -0.39793742484318045),
    ("ZZ", -0.01128010425623538),
    ("XX", 0.18093119978423156),
]
H2_EXACT = -1.8572750302023795
H2_ANSATZ = """OPENQASM 3.0;
include "stdgates.inc";
input float[64] theta;
qubit[2] q;
x q[0];
ry(theta) q[1];
cx q[1], q[0];
"""


def h2() -> Hamiltonian:
    return Hamiltonian(tuple(PauliTerm(p, c) for p, c in H2_TERMS), 2)


def exact_distributions(function: HamiltonianEnergy, params: list[float]) -> list[dict[int, float]]:
    out = []
    for circuit in function.circuits(params):
        psi = circuit_unitary(circuit)[:, 0]
        out.append({i: float(abs(a) ** 2) for i, a in enumerate(psi) if abs(a) > 1e-15})
    return out


def energy(function: HamiltonianEnergy, params: list[float]) -> float:
    return function.evaluate(exact_distributions(function, params), 1000).value


def test_h2_groups_in_two_circuits() -> None:
    groups = group_qubit_wise(h2())
    assert [g.basis for g in groups] == [("Z", "Z"), ("X", "X")]
    assert sum(len(g.terms) for g in groups) == 4  # the identity needs no circuit


def test_groups_commute_qubit_wise() -> None:
    rng = random.Random(3)
    terms = tuple(
        PauliTerm("".join(rng.choice("IXYZ") for _ in range(4)), rng.uniform(-1, 1)) for _ in range(30)
    )
    for group in group_qubit_wise(Hamiltonian(terms, 4)):
        for term in group.terms:
            for q in term.support:
                assert group.basis[q] == term.on(q)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_energy_matches_the_dense_matrix_with_x_y_z(seed: int) -> None:
    rng = random.Random(seed)
    terms = tuple(
        PauliTerm("".join(rng.choice("IXYZ") for _ in range(3)), rng.uniform(-1, 1)) for _ in range(12)
    )
    hamiltonian = Hamiltonian(terms, 3)
    source = """OPENQASM 3.0;
include "stdgates.inc";
input float[64] a;
input float[64] b;
input float[64] c;
qubit[3] q;
ry(a) q[0];
rx(b) q[1];
cx q[0], q[2];
ry(c) q[2];
rz(a + c) q[1];
cx q[1], q[0];
h q[2];
"""
    function = HamiltonianEnergy(hamiltonian, parse_ansatz(source))
    params = [rng.uniform(-3, 3) for _ in range(3)]
    state = circuit_unitary(function.ansatz.bind(params))[:, 0]
    expected = float(np.real(np.conj(state) @ exact_matrix(hamiltonian) @ state))
    assert energy(function, params) == pytest.approx(expected, abs=1e-10)


def test_parameters_bind_in_declaration_order() -> None:
    source = (
        'OPENQASM 3.0;\ninclude "stdgates.inc";\ninput float[64] b;\ninput float[64] a;\n'
        "qubit[1] q;\nrx(a) q[0];\n"
    )
    ansatz = parse_ansatz(source)
    assert ansatz.names == ("b", "a")
    circuit = ansatz.bind([0.0, 1.25])  # a = 1.25
    assert circuit.operations[0].params == (1.25,)


def test_variance_of_a_basis_state_is_zero_and_of_plus_is_one_over_shots() -> None:
    hz = Hamiltonian((PauliTerm("Z", 1.0),), 1)
    zero = HamiltonianEnergy(hz, parse_ansatz("OPENQASM 3.0;\nqubit[1] q;\n"))
    assert zero.evaluate([{0: 1.0}], 100).variance == 0.0
    plus = zero.evaluate([{0: 0.5, 1: 0.5}], 100)
    assert plus.value == 0.0 and plus.variance == pytest.approx(1 / 100)


def test_penalty_makes_the_feasible_state_the_minimum() -> None:
    # minimise -x0 - x1 subject to x0 + x1 <= 1: unconstrained optimum 11 is infeasible.
    penalty = Penalty(10.0, (LinearConstraint((1.0, 1.0), 1.0),))
    assert penalty.violation(0b11, 2) == 1.0
    assert penalty.violation(0b01, 2) == 0.0 and penalty.violation(0b10, 2) == 0.0
    hamiltonian = Hamiltonian((PauliTerm("II", -1.0), PauliTerm("IZ", 0.5), PauliTerm("ZI", 0.5)), 2)
    function = HamiltonianEnergy(hamiltonian, parse_ansatz("OPENQASM 3.0;\nqubit[2] q;\n"), penalty)
    assert any(g.diagonal for g in function.groups)
    assert function.evaluate([{0b11: 1.0}], 100).value == pytest.approx(-2.0 + 10.0)
    assert function.evaluate([{0b01: 1.0}], 100).value == pytest.approx(-1.0)


def test_cobyla_reaches_h2_ground_energy_in_40_evaluations() -> None:
    function = HamiltonianEnergy(h2(), parse_ansatz(H2_ANSATZ))
    calls: list[float] = []

    def f(x: list[float]) -> float:
        calls.append(energy(function, x))
        return calls[-1]

    result = optimizers.minimize(f, [0.5], "COBYLA", maxiter=40)
    assert len(calls) <= 40
    assert result.fun == pytest.approx(H2_EXACT, abs=1e-3)


def test_spsa_is_deterministic_and_descends() -> None:
    function = HamiltonianEnergy(h2(), parse_ansatz(H2_ANSATZ))

    def run() -> tuple[list[float], list[float]]:
        seen: list[float] = []

        def f(x: list[float]) -> float:
            seen.append(energy(function, x))
            return seen[-1]

        return optimizers.minimize(f, [1.0], "SPSA", maxiter=30, options={"seed": 5}).x, seen

    (x1, seen1), (x2, seen2) = run(), run()
    assert seen1 == seen2 and x1 == x2 and len(seen1) == 60
    assert min(seen1) < seen1[0] - 0.3


@pytest.mark.parametrize(
    "method", ["Nelder-Mead", "Powell", "BFGS", "L-BFGS-B", "SLSQP", "Newton-CG", "trust-ncg"]
)
def test_scipy_methods_run(method: str) -> None:
    result = optimizers.minimize(lambda x: (x[0] - 1) ** 2 + 0.5, [0.0], method, maxiter=50)
    assert result.fun == pytest.approx(0.5, abs=1e-3)


BAD_QASM = "OPENQASM 3.0;\nqubit[2] q;\nfoo q[0];\n"


def qf_body(**data_changes: object) -> dict:
    data = {
        "hamiltonian": [{"pauli_string": p, "coefficient": c} for p, c in H2_TERMS],
        "ansatz": {"format": "qasm", "data": H2_ANSATZ, "num_qubits": 2},
        **data_changes,
    }
    return {"data": {"type": "hamiltonian-energy", "data": data}, "params": [0.1]}


def test_spec_reads_the_ionq_shapes() -> None:
    qf = spec.parse("quantum-function", qf_body())
    assert isinstance(qf, spec.QuantumFunctionSpec) and qf.params == [0.1]
    opt = spec.parse(
        "optimization",
        {"quantum_function": qf_body()["data"], "method": "COBYLA", "initial_params": [0.2], "maxiter": 30,
         "log_interval": 2, "options": {"rhobeg": 0.5}},
    )  # fmt: skip
    assert isinstance(opt, spec.OptimizationSpec)
    assert (opt.method, opt.maxiter, opt.log_interval, opt.options) == ("COBYLA", 30, 2, {"rhobeg": 0.5})


@pytest.mark.parametrize(
    ("job_type", "body", "field", "status"),
    [
        ("quantum-function", {"data": None}, "input.data", 400),
        ("quantum-function", {**qf_body(), "params": [1, 2]}, "input.params", 400),
        ("quantum-function", {**qf_body(), "params": None}, "input.params", 400),
        ("quantum-function", {**qf_body(), "params": [True]}, "input.params[0]", 400),
        ("quantum-function", qf_body(hamiltonian=[{"pauli_string": "XA", "coefficient": 1}]),
         "input.data.data.hamiltonian[0].pauli_string", 400),
        ("quantum-function", qf_body(hamiltonian=[{"pauli_string": "XXX", "coefficient": 1}]),
         "input.data.data.hamiltonian[0].pauli_string", 400),
        ("quantum-function", qf_body(hamiltonian=[{"pauli_string": "XX", "coefficient": "1"}]),
         "input.data.data.hamiltonian[0].coefficient", 400),
        ("quantum-function", qf_body(ansatz={"format": "qasm", "data": BAD_QASM}),
         "input.data.data.ansatz.data", 422),
        ("quantum-function", qf_body(ansatz={"format": "qasm", "data": H2_ANSATZ, "num_qubits": 3}),
         "input.data.data.ansatz.num_qubits", 400),
        ("quantum-function", qf_body(penalty=3), "input.data.data.penalty", 400),
        ("quantum-function", qf_body(linear_constraints=[{"coeffs": [1], "rhs": 1}]),
         "input.data.data.linear_constraints[0].coeffs", 400),
        ("optimization", {"quantum_function": qf_body()["data"], "method": "Adam"}, "input.method", 400),
        ("optimization", {"quantum_function": qf_body()["data"], "method": "COBYLA", "maxiter": 0},
         "input.maxiter", 400),
        ("optimization", {"quantum_function": qf_body()["data"], "method": "COBYLA", "log_interval": 1.5},
         "input.log_interval", 400),
        ("optimization", {"quantum_function": qf_body()["data"], "method": "SPSA", "options": {"lr": 1}},
         "input.options.lr", 400),
        ("optimization", {"method": "COBYLA"}, "input.quantum_function", 400),
    ],
)  # fmt: skip
def test_spec_errors_name_the_field(job_type: str, body: dict, field: str, status: int) -> None:
    with pytest.raises((InvalidRequest, InvalidCircuit)) as caught:
        spec.parse(job_type, body)
    assert caught.value.field == field, str(caught.value)
    assert caught.value.status_code == status
    assert str(caught.value).startswith(field.split("[")[0])


def test_h2_value_within_tolerance_of_exact_state() -> None:
    function = HamiltonianEnergy(h2(), parse_ansatz(H2_ANSATZ))
    assert energy(function, [-0.2235]) == pytest.approx(H2_EXACT, abs=1e-4)
    assert math.isfinite(function.evaluate(exact_distributions(function, [0.3]), 100).variance)


@pytest.mark.parametrize("native_2q", ["ms", "zz"])
def test_native_templates_give_the_same_distributions(native_2q: str) -> None:
    rng = random.Random(7)
    terms = tuple(
        PauliTerm("".join(rng.choice("IXYZ") for _ in range(2)), rng.uniform(-1, 1)) for _ in range(8)
    )
    function = HamiltonianEnergy(Hamiltonian(terms, 2), parse_ansatz(H2_ANSATZ))
    for theta in (-0.2235, 1.3):
        qis = function.circuits([theta])
        native = function.circuits([theta], native_2q=native_2q)
        assert all(c.gateset == "native" for c in native)
        for a, b in zip(qis, native, strict=True):
            pa = np.abs(circuit_unitary(a)[:, 0]) ** 2
            pb = np.abs(circuit_unitary(b)[:, 0]) ** 2
            assert np.allclose(pa, pb, atol=1e-12)
