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
