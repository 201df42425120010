"""``/v0.4/admin/backends``: declaring driver-served backends is for platform administrators only,
every refusal names its field, and a key never goes in (nor comes out)."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from qumulus.store.models import Job
from tests.api._billing import create_budget
from tests.api.tenants import as_key, make_tenant
from tests.conftest import Api

DECL = {
    "driver": "ionq",
    "qubits": 25,
    "credential": {"env": "SITE_IONQ_KEY"},
    "options": {"url": "https://api.ionq.co/v0.4", "target": "qpu.aria-1"},
    "contract": {"rate_per_second": "0.75", "allocation_seconds": 600},
}


def test_only_a_platform_administrator_declares_backends(api: Api) -> None:
    tenant = make_tenant(api, "alpha")
    for role in ("owner", "member"):
        key = as_key(api, tenant.keys[role])
        assert api.put("/v0.4/admin/backends/site.aria-1", json=DECL, headers=key).status_code == 403
        assert api.get("/v0.4/admin/backends", headers=key).status_code == 403
        assert api.delete("/v0.4/admin/backends/site.aria-1", headers=key).status_code == 403
    assert api.client.get("/v0.4/backends/site.aria-1").status_code == 404


def test_a_declared_backend_is_listed_with_its_credential_place_and_contract_terms(api: Api) -> None:
    made = api.put("/v0.4/admin/backends/site.aria-1", json=DECL)
    assert made.status_code == 200, made.text
    assert made.json()["credential"] == "env:SITE_IONQ_KEY" and made.json()["max_outstanding"] == 4
    listed = api.client.get("/v0.4/backends/site.aria-1").json()
    assert listed["qubits"] == 25 and listed["kind"] == "qpu"
    org = api.get("/v0.4/organizations").json()["organizations"][0]["id"]
    contract = api.post(f"/v0.4/organizations/{org}/contracts", json={"backend": "site.aria-1"})
    assert contract.status_code == 201, contract.text  # no rate given: the declared terms apply
    assert contract.json()["rate_per_second"] == "0.750000" and contract.json()["allocation_seconds"] == 600


MCM = (  # a mid-circuit measurement and a reset: what qiskit-ionq sends as ionq.qasm3.v1
    'OPENQASM 3.0;\ninclude "stdgates.inc";\nbit[2] c;\nqubit[2] q;\nh q[0];\nc[0] = measure q[0];\n'
    "reset q[0];\ncx q[1], q[0];\nc[1] = measure q[1];\n"
)


def test_an_openqasm_program_is_admitted_for_the_ionq_driver_with_its_estimate_held(api: Api) -> None:
    """The ``ionq`` driver forwards programs as text (IonQ's API takes ionq.qasm3.v1), so the broker
    admits one like any job: the contract's rate × the timing model's estimate is held against the
    budget, as ``POST /jobs/estimate`` quotes it."""
    assert api.put("/v0.4/admin/backends/site.aria-1", json=DECL).status_code == 200
    org = api.get("/v0.4/organizations").json()["organizations"][0]["id"]
    assert (
        api.post(f"/v0.4/organizations/{org}/contracts", json={"backend": "site.aria-1"}).status_code == 201
    )
    create_budget(api, "1000")
    qasm = {"type": "ionq.qasm3.v1", "backend": "site.aria-1", "shots": 500, "input": {"data": MCM}}
    quoted = api.post("/v0.4/jobs/estimate", json=qasm)
    assert quoted.status_code == 200, quoted.text
    created = api.post("/v0.4/jobs", json=qasm)
    assert created.status_code == 201, created.text
    with api.platform.db.read() as session:  # type: ignore[attr-defined]
        job = session.scalars(select(Job).where(Job.id == created.json()["id"])).one()
        hold, estimate, stored = job.budget_hold, job.estimated_seconds, dict(job.input)
        assert job.type == "ionq.qasm3.v1"
    assert stored == {"data": MCM, "qubits": 2}  # what travels to the provider, as submitted
    assert estimate == quoted.json()["estimated_execution_time"] > 0
    assert Decimal(str(hold)) == Decimal(str(quoted.json()["estimated_cost"])).quantize(Decimal("0.000001"))
    assert Decimal(str(hold)) == (Decimal("0.75") * Decimal(str(estimate))).quantize(Decimal("0.000001"))


BAD = [
    ({"max_outstanding": 0}, "max_outstanding"),
    ({"qubits": "many"}, "qubits"),
    ({"driver": "nope"}, "driver"),
    ({"credential": {"key": "sk-live-123"}}, "credential"),
    ({"name": "other.name"}, "name"),
    ({"billing": "free"}, "billing"),
]


def test_bad_declarations_are_400s_naming_the_field(api: Api) -> None:
    for change, field in BAD:
        refused = api.put("/v0.4/admin/backends/site.bad", json={**DECL, **change})
        assert refused.status_code == 400, refused.text
        body = refused.json()
        assert body["statusCode"] == 400 and body["message"].startswith(field), body
        assert "sk-live-123" not in refused.text
    assert api.client.get("/v0.4/backends/site.bad").status_code == 404  # nothing half-written


def test_built_in_names_cannot_be_taken(api: Api) -> None:
    refused = api.put("/v0.4/admin/backends/qpu.aria-1", json=DECL)
    assert refused.status_code == 400 and "reserved" in refused.json()["message"]
