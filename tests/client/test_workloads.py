"""The SDK's workload API against a live server: ``backend.run(HamiltonianEnergy(...))`` and an
optimization whose progress is read as a live iterator while the server runs the loop."""

from __future__ import annotations

import pytest

from qumulus.client.workloads import HamiltonianEnergy, Optimization, WorkloadJob
from tests.workloads.test_library import H2_ANSATZ, H2_EXACT, H2_TERMS


def test_quantum_function_value(simulator) -> None:  # type: ignore[no-untyped-def]
    energy = HamiltonianEnergy(H2_TERMS, H2_ANSATZ)
    job = simulator.run(energy([-0.2235]), shots=1000, name="sdk-h2")
    assert isinstance(job, WorkloadJob)
    result = job.result(timeout=60)
    assert abs(result.value - H2_EXACT) < 0.05 and result.variance >= 0
    assert job.data["type"] == "quantum-function"


def test_optimization_progress_is_a_live_iterator(simulator) -> None:  # type: ignore[no-untyped-def]
    energy = HamiltonianEnergy(dict(H2_TERMS), H2_ANSATZ)
    job = simulator.run(Optimization(energy, "COBYLA", [0.5], maxiter=40), shots=1000)
    steps = list(job.progress(live=True, poll=0.05, timeout=120))
    assert [s.iteration for s in steps] == list(range(1, len(steps) + 1))
    result = job.result(timeout=60)
    assert result.minimum_value == min(s.value for s in steps)
    assert abs(result.minimum_value - H2_EXACT) < 0.05 and len(result.optimal_parameters) == 1
    again = simulator.provider.retrieve_job(job.id)
    assert isinstance(again, WorkloadJob) and len(list(again.progress())) == len(steps)


def test_a_bad_workload_is_refused_naming_the_field(simulator) -> None:  # type: ignore[no-untyped-def]
    from qumulus.client.errors import ApiError

    energy = HamiltonianEnergy([("XYZ", 1.0)], H2_ANSATZ)
    with pytest.raises(ApiError) as caught:
        simulator.run(energy([0.0]))
    assert "input.data.data.hamiltonian[0].pauli_string" in str(caught.value)


def test_cli_jobs_show_draws_the_convergence(simulator, sdk_server, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from typer.testing import CliRunner

    from qumulus.cli.main import app

    energy = HamiltonianEnergy(H2_TERMS, H2_ANSATZ)
    job = simulator.run(Optimization(energy, "COBYLA", [0.5], maxiter=30), shots=1000)
    job.result(timeout=60)
    monkeypatch.setenv("QUMULUS_API_KEY", sdk_server.key)
    monkeypatch.setenv("QUMULUS_URL", sdk_server.url)
    shown = CliRunner().invoke(app, ["jobs", "show", job.id], env={"COLUMNS": "160"})
    assert shown.exit_code == 0, shown.output
    assert "convergence" in shown.output and "•" in shown.output and "└" in shown.output
    assert "best value" in shown.output and "-1.857" in shown.output
    assert "best parameters" in shown.output


def test_convergence_chart_puts_the_minimum_at_the_bottom() -> None:
    from qumulus.cli.render import convergence

    chart = convergence([3.0, 1.0, 2.0], height=5).splitlines()
    assert chart[0].startswith("3.0000") and chart[4].startswith("1.0000")
    assert chart[4].endswith(" •  ") or chart[4].split("│")[1] == " • "
    assert convergence([]) == "(no iterations yet)"
    assert len(convergence([float(i) for i in range(500)], width=60).splitlines()[0].split("│")[1]) == 60
