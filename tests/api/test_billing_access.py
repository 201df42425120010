"""Billing endpoints in the cross-tenant matrix: another tenant's contracts, allocations, budgets and
usage are 404 for every role; project roles calling owner endpoints get 403; prices are admin-only."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from tests.api.conftest import bell_job
from tests.api.tenants import PROJECT_ROLES, Tenant, as_key, make_tenant, ok
from tests.conftest import Api

ROLES = ("owner", *PROJECT_ROLES)


@pytest.fixture
def world(api: Api) -> Iterator[tuple[Api, Tenant, Tenant, str, str]]:
    """(api, alpha, beta, beta's contract id, beta's budget id); beta has run one job."""
    alpha = make_tenant(api, "alpha")
    beta = make_tenant(api, "beta")
    contract = ok(
        api.post(
            f"/v0.4/organizations/{beta.org_id}/contracts",
            json={"backend": "simulator", "rate_per_second": 1},
        ),
        201,
    )
    budget = ok(
        api.post(
            f"/v0.4/projects/{beta.project_id}/budgets",
            json={"limit": "5"},
            headers=as_key(api, beta.keys["owner"]),
        ),
        201,
    )
    job = ok(api.post("/v0.4/jobs", json=bell_job(), headers=as_key(api, beta.keys["member"])), 201)
    assert _wait(api, job["id"], beta.keys["member"]) == "completed"
    yield api, alpha, beta, contract["id"], budget["id"]


def _wait(api: Api, job_id: str, key: str) -> str:
    deadline = time.monotonic() + 30
    while True:
        status = api.get(f"/v0.4/jobs/{job_id}", headers={"Authorization": f"apiKey {key}"}).json()["status"]
        if status in ("completed", "failed", "canceled") or time.monotonic() > deadline:
            return status
        time.sleep(0.02)


def _requests(beta: Tenant, contract: str, budget: str) -> list[tuple[str, str, dict | None]]:
    org, project = f"/v0.4/organizations/{beta.org_id}", f"/v0.4/projects/{beta.project_id}"
    return [
        ("GET", f"{org}/contracts", None),
        ("POST", f"{org}/contracts", {"backend": "qpu.*", "rate_per_second": 0}),
        ("GET", f"{org}/contracts/{contract}", None),
        ("PATCH", f"{org}/contracts/{contract}", {"rate_per_second": 0}),
        ("DELETE", f"{org}/contracts/{contract}", None),
        ("GET", f"{org}/allocations", None),
        ("GET", f"{project}/budgets", None),
        ("POST", f"{project}/budgets", {"limit": "1000000", "period": "day"}),
        ("GET", f"{project}/budgets/{budget}", None),
        ("PATCH", f"{project}/budgets/{budget}", {"limit": "1000000"}),
        ("DELETE", f"{project}/budgets/{budget}", None),
        ("GET", f"/v0.4/usage?project_id={beta.project_id}", None),
    ]


@pytest.mark.parametrize("role", ROLES)
def test_every_key_of_one_tenant_gets_404_for_billing_things_of_another(world, role: str) -> None:  # type: ignore[no-untyped-def]
    api, alpha, beta, contract, budget = world
    headers = as_key(api, alpha.keys[role])
    for method, path, body in _requests(beta, contract, budget):
        response = api.client.request(method, path, headers=headers, json=body)
        assert response.status_code == 404, (role, method, path, response.status_code, response.text)
    # alpha's own usage report never shows beta's job
    report = ok(api.get("/v0.4/usage?group_by=project,organization", headers=headers))
    assert report["rows"] == [] and report["total"]["jobs"] == 0
    # beta is untouched
    beta_owner = as_key(api, beta.keys["owner"])
    assert (
        ok(api.get(f"/v0.4/projects/{beta.project_id}/budgets/{budget}", headers=beta_owner))["limit"]
        == "5.000000"
    )
    contracts = ok(api.get(f"/v0.4/organizations/{beta.org_id}/contracts", headers=beta_owner))["contracts"]
    assert [(c["id"], c["rate_per_second"]) for c in contracts] == [(contract, "1.000000")]
    assert ok(api.get("/v0.4/usage", headers=beta_owner))["total"]["jobs"] == 1


OWNER_ONLY = [
    ("GET", "/v0.4/organizations/{org}/contracts", None),
    ("GET", "/v0.4/organizations/{org}/allocations", None),
    ("POST", "/v0.4/projects/{project}/budgets", {"limit": "1", "period": "day"}),
    ("PATCH", "/v0.4/projects/{project}/budgets/{budget}", {"limit": "999"}),
    ("DELETE", "/v0.4/projects/{project}/budgets/{budget}", None),
]
ADMIN_ONLY = [
    ("POST", "/v0.4/organizations/{org}/contracts", {"backend": "qpu.*", "rate_per_second": 0}),
    ("PATCH", "/v0.4/organizations/{org}/contracts/{contract}", {"rate_per_second": 0}),
    ("DELETE", "/v0.4/organizations/{org}/contracts/{contract}", None),
]


@pytest.mark.parametrize("role", ROLES)
def test_project_roles_get_403_on_owner_endpoints_and_owners_on_prices(world, role: str) -> None:  # type: ignore[no-untyped-def]
    api, _, beta, contract, budget = world
    headers = as_key(api, beta.keys[role])
    values = {"org": beta.org_id, "project": beta.project_id, "budget": budget, "contract": contract}
    denied = ADMIN_ONLY + (OWNER_ONLY if role != "owner" else [])
    for method, template, body in denied:
        path = template.format(**values)
        response = api.client.request(method, path, headers=headers, json=body)
        assert response.status_code == 403, (role, method, path, response.text)
    # every project role reads its budget and its own project's usage
    assert api.get(f"/v0.4/projects/{beta.project_id}/budgets/{budget}", headers=headers).status_code == 200
    assert ok(api.get("/v0.4/usage", headers=headers))["total"]["jobs"] == 1
