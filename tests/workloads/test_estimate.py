"""``POST /jobs/estimate`` for workload bodies: the evaluations the job may hold in budget, each at
the figure its submission holds (one evaluation's circuits, per circuit)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api._billing import create_budget, whoami
from tests.conftest import Api
from tests.workloads._bodies import optimization, quantum_function


def estimate(api: Api, body: dict[str, Any]) -> dict[str, Any]:
    answer = api.post("/v0.4/jobs/estimate", json=body)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_an_optimization_is_priced_as_its_evaluations_each_at_its_submission_hold(api: Api) -> None:
    one = estimate(api, quantum_function([0.1], backend="qpu.aria-1", shots=1000))
    assert one["input_values"]["evaluations"] == 1 and one["input_values"]["circuits_per_evaluation"] == 2
    cost = one["estimated_cost"]
    assert cost > 0 and one["estimated_execution_time"] > 0
    cobyla = estimate(api, optimization("COBYLA", 40, "qpu.aria-1", shots=1000))
    assert cobyla["input_values"]["evaluations"] == 40 and cobyla["input_values"]["circuits"] == 80
    assert cobyla["estimated_cost"] == pytest.approx(40 * cost, rel=1e-9)
    assert cobyla["estimated_execution_time"] == pytest.approx(40 * one["estimated_execution_time"], rel=1e-9)
    spsa = estimate(api, optimization("SPSA", 10, "qpu.aria-1", shots=1000))
    assert spsa["estimated_cost"] == pytest.approx(20 * cost, rel=1e-9)  # two evaluations per iteration
    assert "predicted_emulation_duration_ms" in cobyla  # the emulator's prediction, per circuit

    # The figure is the hold: a budget 1 % short of one evaluation refuses the job, 1 % over takes it.
    project = whoami(api)["project_id"]
    made = create_budget(api, f"{cost * 0.99:.6f}")
    refused = api.post("/v0.4/jobs", json=quantum_function([0.1], backend="qpu.aria-1", shots=1000))
    assert refused.status_code == 402, refused.text
    api.client.patch(
        f"/v0.4/projects/{project}/budgets/{made['id']}",
        json={"limit": f"{cost * 1.01:.6f}"},
        headers=api.headers,
    ).raise_for_status()
    taken = api.post("/v0.4/jobs", json=quantum_function([0.1], backend="qpu.aria-1", shots=1000))
    assert taken.status_code == 201, taken.text
    assert api.wait(taken.json()["id"], timeout=60)["status"] == "completed"


def test_a_simulator_workload_estimate_and_a_bad_body_naming_its_field(api: Api) -> None:
    free = estimate(api, optimization("COBYLA", 5))
    assert free["input_values"]["evaluations"] == 5 and free["estimated_cost"] == 0
    bad = api.post("/v0.4/jobs/estimate", json=optimization("COBYLA", 5, input={"maxiter": -1}))
    assert 400 <= bad.status_code < 500, bad.text
    assert "maxiter" in bad.text
