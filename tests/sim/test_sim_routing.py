"""Routing policy, memory guard, and the promise that importing ``qumulus.sim`` imports no engine."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from qumulus.circuits.model import Circuit, Operation
from qumulus.sim import routing
from qumulus.sim.routing import (
    QULACS_MAX_QUBITS,
    QULACS_MAX_QUBITS_VS_AER,
    available_engines,
    choose_engine,
    run_ideal,
)
from tests.sim._util import dense, reference_probabilities


def _width(n: int, *ops: Operation) -> Circuit:
    return Circuit(n, (Operation("h", (0,)), *ops))


def test_all_three_engines_are_available_here() -> None:
    assert set(available_engines()) == {"aer", "qsim", "qulacs"}


def test_policy_by_size() -> None:
    assert choose_engine(_width(2)).name == "qulacs"
    assert choose_engine(_width(QULACS_MAX_QUBITS)).name == "qulacs"
    assert choose_engine(_width(QULACS_MAX_QUBITS + 1)).name == "qsim"
    assert choose_engine(_width(28)).name == "qsim"


def test_double_precision_never_uses_qsim() -> None:
    assert choose_engine(_width(QULACS_MAX_QUBITS_VS_AER), double_precision=True).name == "qulacs"
    assert choose_engine(_width(QULACS_MAX_QUBITS_VS_AER + 1), double_precision=True).name == "aer"
    assert choose_engine(_width(26), double_precision=True).name == "aer"


def test_engine_can_be_pinned_by_environment(monkeypatch) -> None:
    monkeypatch.setenv("QUMULUS_SIM_ENGINE", "aer")
    assert choose_engine(_width(2)).name == "aer"
    monkeypatch.setenv("QUMULUS_SIM_ENGINE", "nope")
    with pytest.raises(RuntimeError, match="not installed"):
        choose_engine(_width(2))


def test_noisy_requests_go_to_aer() -> None:
    assert choose_engine(_width(3), exact=False).name == "aer"


def test_without_qsim_falls_back_to_qulacs_then_aer(monkeypatch) -> None:
    engines = {k: v for k, v in available_engines().items() if k != "qsim"}
    monkeypatch.setattr(routing, "available_engines", lambda: engines)
    assert choose_engine(_width(QULACS_MAX_QUBITS_VS_AER)).name == "qulacs"
    assert choose_engine(_width(20)).name == "aer"
    only_aer = {"aer": engines["aer"]}
    monkeypatch.setattr(routing, "available_engines", lambda: only_aer)
    assert choose_engine(_width(2)).name == "aer"
    monkeypatch.setattr(routing, "available_engines", dict)
    with pytest.raises(RuntimeError, match="no simulation engine"):
        choose_engine(_width(2))


def test_wide_pauliexp_skips_qsim() -> None:
    """qsim takes dense matrices up to 6 qubits; a 7-target pauliexp goes to Aer."""
    wide = Operation("pauliexp", tuple(range(7)), params=(0.5, 1.0), terms=("XXXXXXX",))
    assert choose_engine(_width(20, wide)).name == "aer"
    assert (
        choose_engine(
            _width(20, Operation("pauliexp", tuple(range(6)), params=(0.5, 1.0), terms=("XXXXXX",)))
        ).name
        == "qsim"
    )


def test_run_ideal_returns_distribution_and_engine() -> None:
    circuit = Circuit(
        3, (Operation("h", (0,)), Operation("x", (1,), (0,)), Operation("ms", (2, 0), params=(0.1, 0.3, 0.2)))
    )
    dist, name = run_ideal(circuit)
    assert name == "qulacs"
    np.testing.assert_allclose(dense(dist), reference_probabilities(circuit), atol=1e-12)
    wide = Circuit(15, (Operation("h", (14,)), Operation("x", (0,), (14,))))
    dist, name = run_ideal(wide)
    assert name == "qsim" and dist.sparse
    assert dist.as_dict() == pytest.approx({0: 0.5, (1 << 14) | 1: 0.5}, abs=1e-6)


def test_run_ideal_refuses_what_cannot_fit(monkeypatch) -> None:
    monkeypatch.setattr(routing, "physical_memory_bytes", lambda: 1 << 30)
    with pytest.raises(MemoryError, match="GiB"):
        run_ideal(Circuit(28, ()))
    assert routing.required_bytes(available_engines()["qsim"], 30) == 9 << 30
    assert routing.required_bytes(available_engines()["aer"], 30) == 25 << 30


def test_warm_up_runs_every_engine() -> None:
    """Every state-vector engine, and stim (imported and compiled before the first wide job)."""
    assert set(routing.warm_up()) == set(available_engines()) | {"stim"}


def test_nonzero_count_and_dense_nonzero() -> None:
    from qumulus.sim.engine import Distribution

    values = np.array([0.25, 0.25, 0.25, 0.25])
    dist = Distribution(qubits=2, values=values)
    assert dist.nonzero_count() == 4
    idx, vals = dist.nonzero()
    assert idx.tolist() == [0, 1, 2, 3] and vals is values
    holes = Distribution(qubits=2, values=np.array([0.5, 0.0, 0.5, 0.0]))
    assert holes.nonzero_count() == 2
    assert holes.nonzero()[0].tolist() == [0, 2]
    assert holes.as_dict() == {0: 0.5, 2: 0.5}


def test_importing_sim_imports_no_engine() -> None:
    code = (
        "import sys\n"
        "import qumulus.sim, qumulus.sim.routing, qumulus.sim.aer, qumulus.sim.qsim\n"
        "import qumulus.sim.qulacs_engine, qumulus.sim.results_io\n"
        "qumulus.sim.routing.available_engines()\n"
        "engines = ('qiskit', 'qiskit_aer', 'cirq', 'qsimcirq', 'qulacs')\n"
        "print(sorted(m for m in engines if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
