"""``/jobs/estimate``: qiskit-ionq's query form, a whole job body, and the promise that matters: for
an emulated QPU job the estimate is the budget hold and the bill, to the cent."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select

from qumulus.store.models import Job
from tests.api._billing import budget_row, create_budget, ledger
from tests.conftest import Api

GHZ5 = {
    "qubits": 5,
    "circuit": [{"gate": "h", "target": 0}]
    + [{"gate": "cnot", "control": i, "target": i + 1} for i in range(4)]
    + [{"gate": "rx", "target": 2, "rotation": 0.3}],
}


def _cents(value: object) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def test_estimate_equals_hold_and_bill_to_the_cent(api: Api) -> None:
    body = {"type": "ionq.circuit.v1", "backend": "qpu.aria-1", "shots": 1000, "input": GHZ5}
    estimate = api.post("/v0.4/jobs/estimate", json=body)
    assert estimate.status_code == 200, estimate.text
    quoted = estimate.json()
    assert quoted["estimated_cost"] == quoted["estimated_total_cost"] > 0
    assert quoted["estimated_execution_time_ms"] == round(quoted["estimated_execution_time"] * 1000)
    made = create_budget(api, "1000")
    created = api.post("/v0.4/jobs", json=body)
    assert created.status_code == 201
    with api.platform.db.read() as session:  # type: ignore[attr-defined]
        hold = session.scalar(select(Job.budget_hold).where(Job.id == created.json()["id"]))
    assert Decimal(str(hold)) == Decimal(str(quoted["estimated_cost"])).quantize(Decimal("0.000001"))
    job = api.wait(created.json()["id"], timeout=120)
    assert job["status"] == "completed"
    (row,) = ledger(api.platform)
    assert _cents(row.cost) == _cents(quoted["estimated_cost"])  # the bill, to the cent
    assert (
        row.usage_seconds == quoted["estimated_execution_time"]
        or abs(row.usage_seconds - quoted["estimated_execution_time"]) < 1e-9
    )
    spent, held = budget_row(api.platform, made["id"])
    assert held == 0 and _cents(spent) == _cents(quoted["estimated_cost"])


def test_qiskit_query_form_and_its_errors(api: Api) -> None:
    query = {"type": "ionq.circuit.v1", "backend": "qpu.aria-1", "1q_gates": 10, "2q_gates": 5,
             "qubits": 3, "shots": 100, "error_mitigation": "false", "session": "false"}  # fmt: skip
    answer = api.get("/v0.4/jobs/estimate", params=query)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["input_values"]["1q_gates"] == 10 and body["cost_unit"] == "usd"
    assert body["estimated_execution_time"] > 100 * (10 * 135e-6 + 5 * 600e-6)  # gates + readout
    more = api.get("/v0.4/jobs/estimate", params={**query, "shots": 1000}).json()
    assert more["estimated_cost"] > body["estimated_cost"]
    bad = api.get("/v0.4/jobs/estimate", params={**query, "shots": "many"})
    assert bad.status_code == 400 and "shots" in bad.json()["message"]
    assert api.get("/v0.4/jobs/estimate", params={"1q_gates": 1}).status_code == 400
    unknown = api.get("/v0.4/jobs/estimate", params={**query, "backend": "qpu.nope"})
    assert unknown.status_code == 400 and "backend" in unknown.json()["message"]


def _layers(qubits: int, depth: int) -> list[dict]:
    ops: list[dict] = []
    for layer in range(depth):
        ops += [{"gate": "ry", "target": q, "rotation": 0.1 * (q + layer + 1)} for q in range(qubits)]
        ops += [
            {"gate": "cnot", "control": q, "target": (q + 1 + 2 * (layer % (qubits // 2 - 1))) % qubits}
            for q in range(0, qubits, 2)
        ]
    return ops


def test_estimates_give_the_emulators_predicted_wall_time_and_the_limit(settings) -> None:  # type: ignore[no-untyped-def]
    """Both forms carry ``predicted_emulation_duration_ms`` for an emulated QPU (the body form: the
    very figure the job then shows), the server's limit, and whether the job would be refused;
    a job over the limit exactly but within it in trajectory-budget mode is priced as it will run."""
    from dataclasses import replace

    from fastapi.testclient import TestClient

    from qumulus.api.app import create_app
    from tests.conftest import make_platform

    platform, key = make_platform(replace(settings, max_emulation_seconds=30.0))
    with TestClient(create_app(platform), raise_server_exceptions=False) as client:
        api = Api(client=client, key=key, platform=platform)
        body = {"type": "ionq.circuit.v1", "backend": "qpu.aria-1", "shots": 1000, "input": GHZ5}
        quoted = api.post("/v0.4/jobs/estimate", json=body).json()
        assert 0 < quoted["predicted_emulation_duration_ms"] < 30_000
        assert quoted["emulation_limit_ms"] == 30_000 and quoted["emulation_refused"] is False
        created = api.post("/v0.4/jobs", json=body)
        assert created.status_code == 201, created.text
        job = api.get(f"/v0.4/jobs/{created.json()['id']}").json()
        assert job["predicted_emulation_duration_ms"] == quoted["predicted_emulation_duration_ms"]
        # an ideal simulation is not emulated: no such field
        ideal = api.post("/v0.4/jobs/estimate", json={**body, "backend": "simulator"}).json()
        assert "predicted_emulation_duration_ms" not in ideal
        # 20 qubits × 20 layers: ~100 s exactly, so budget mode (≤ 60 % of the limit); 24 × 12: refused
        budget = {**body, "input": {"qubits": 20, "circuit": _layers(20, 20)}}
        quoted = api.post("/v0.4/jobs/estimate", json=budget).json()
        assert quoted["predicted_emulation_duration_ms"] <= 0.6 * 30_000 * 1.02
        assert quoted["emulation_refused"] is False
        refused = {**body, "input": {"qubits": 24, "circuit": _layers(24, 12)}}
        quoted = api.post("/v0.4/jobs/estimate", json=refused).json()
        assert quoted["emulation_refused"] is True and quoted["predicted_emulation_duration_ms"] > 30_000
        # the query form: a representative circuit with those counts
        query = {"backend": "qpu.aria-1", "1q_gates": 40, "2q_gates": 20, "qubits": 8, "shots": 1000}
        small = api.get("/v0.4/jobs/estimate", params=query).json()
        assert 0 < small["predicted_emulation_duration_ms"] < 30_000 and small["emulation_refused"] is False
        wide = api.get(
            "/v0.4/jobs/estimate", params={**query, "1q_gates": 600, "2q_gates": 300, "qubits": 25}
        )
        assert wide.json()["predicted_emulation_duration_ms"] > small["predicted_emulation_duration_ms"]
        simulator = api.get("/v0.4/jobs/estimate", params={**query, "backend": "simulator"}).json()
        assert "predicted_emulation_duration_ms" not in simulator
