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
