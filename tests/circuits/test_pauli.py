"""Issue 17.3: a wide pauliexp runs as rotations or is refused at submission; never a 2^n matrix."""

from __future__ import annotations

import random
import time

import pytest

from qumulus.circuits import pauli
from qumulus.circuits.compile import to_qiskit
from qumulus.circuits.errors import CircuitError
from qumulus.circuits.model import Circuit, Operation
from tests.circuits._util import parse_single


def _commuting_terms(rng: random.Random, n: int, count: int) -> list[str]:
    """Random Z strings of even weight: they commute with each other and with X…X and Y…Y."""
    terms: set[str] = set()
    while len(terms) < count:
        letters = [rng.choice("IZ") for _ in range(n)]
        if letters.count("Z") % 2 == 0 and "Z" in letters:
            terms.add("".join(letters))
    return sorted(terms)


def test_commutation_rule() -> None:
    assert pauli.commute(["XX", "YY", "ZZ"])
    assert not pauli.commute(["XI", "ZI"])
    assert pauli.commute(["XZ", "ZX"])  # two anticommuting positions: commute


@pytest.mark.parametrize(
    "terms", [["XYZ", "YXZ", "ZZI"], ["XX", "YY", "ZZ"], ["IYI"], ["ZZZZ", "XXXX", "YYYY"]]
)
def test_lowering_is_the_same_unitary(terms: list[str]) -> None:
    from qiskit.quantum_info import Operator

    assert pauli.commute(terms)
    n = len(terms[0])
    rng = random.Random(3)
    params = (0.7, *[rng.uniform(-2, 2) for _ in terms])
    op = Operation("pauliexp", tuple(rng.sample(range(n + 1), n)), (), params, tuple(terms))
    before = Circuit(n + 1, (Operation("h", (0,)), op))
    after = pauli.lower_circuit(before)
    assert all(o.name != "pauliexp" for o in after.operations)
    assert Operator(to_qiskit(before)).equiv(Operator(to_qiskit(after)))


def _wide(targets: int, terms: list[str], controls: list[int] | None = None) -> dict:
    gate: dict = {"gate": "pauliexp", "targets": list(range(targets)), "terms": terms,
                  "coefficients": [0.3] * len(terms), "time": 1.0}  # fmt: skip
    if controls:
        gate["controls"] = controls
    return {"qubits": targets + len(controls or []), "circuit": [gate]}


def test_a_wide_pauliexp_that_needs_a_dense_matrix_is_refused_naming_the_field() -> None:
    noncommuting = ["X" * 12, "Z" + "I" * 11]
    with pytest.raises(CircuitError) as caught:
        parse_single(_wide(12, noncommuting))
    assert "targets" in str(caught.value) and "commute" in str(caught.value)
    with pytest.raises(CircuitError):
        parse_single(_wide(11, ["Z" * 11], controls=[11]))
    parse_single(_wide(10, ["X" * 10, "Z" + "I" * 9]))  # dense, but small enough
    with pytest.raises(CircuitError) as caught:
        parse_single(_wide(2, ["XX"] * 1025))
    assert "at most 1024" in str(caught.value)


def test_a_wide_commuting_pauliexp_runs_in_a_moment() -> None:
    """14 targets: as one dense unitary 4 GiB and minutes (12 ran 84 s); as rotations, a moment."""
    from qumulus.runtime.tasks import Task, run_task

    terms = [*_commuting_terms(random.Random(5), 14, 40), "X" * 14, "Y" * 14]
    payload = _wide(14, terms)
    started = time.perf_counter()
    outcome = run_task(
        Task("e", "0" * 32, "ionq.circuit.v1", payload, 100, None, "/nonexistent", 4096, qubits=14)
    )
    took = time.perf_counter() - started
    assert outcome.ok, outcome.failure
    assert took < 20, took


def test_a_pauliexp_counts_as_its_lowered_gates_toward_the_limit() -> None:
    from qumulus.circuits.ionq_json import parse_input
    from qumulus.errors import PayloadTooLarge
    from qumulus.services.jobs.limits import check_batch_size

    batch = parse_input("ionq.circuit.v1", _wide(20, ["Z" * 20] * 100))
    with pytest.raises(PayloadTooLarge):
        check_batch_size(batch, max_gates=1000, max_circuits=10)
    check_batch_size(batch, max_gates=5000, max_circuits=10)


def test_the_emulated_qpus_refuse_a_dense_pauliexp_they_would_have_to_synthesise() -> None:
    from qumulus.errors import InvalidCircuit
    from qumulus.services.jobs.preflight import _check_emulated

    with pytest.raises(InvalidCircuit) as caught:
        _check_emulated(parse_single(_wide(5, ["XXXXX", "ZIIII"])), "qpu.aria-1", "input")
    assert caught.value.field == "input.circuit"
    _check_emulated(parse_single(_wide(20, ["Z" * 20, "X" * 20])), "qpu.aria-1", "input")  # commuting
