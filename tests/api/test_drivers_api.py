"""``/v0.4/admin/backends``: declaring driver-served backends is for platform administrators only,
every refusal names its field, and a key never goes in (nor comes out)."""

from __future__ import annotations

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
    qasm = {"type": "ionq.qasm3.v1", "backend": "site.aria-1", "input": {"data": "OPENQASM 3.0; qubit[1] q;"}}
    refused = api.post("/v0.4/jobs", json=qasm)  # it forwards gate lists, not program texts
    assert refused.status_code == 400 and refused.json()["message"].startswith("type: site.aria-1")


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
