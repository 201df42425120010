"""The cross-tenant matrix: nothing of another tenant can be read, changed or even seen in a list.

Two organizations (alpha, beta), each with a project and a key per role (organization owner,
project admin, member, viewer). Every key of alpha is tried against every resource of beta: each
answer is a 404 (never a 403, which would confirm the target exists), beta's things never show up
in alpha's lists, and beta is untouched afterwards. A second project inside alpha that a member
does not belong to is just as invisible to that member.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.api.conftest import bell_job
from tests.api.tenants import PROJECT_ROLES, Tenant, as_key, make_key, make_tenant, ok
from tests.conftest import Api

ROLES = ("owner", *PROJECT_ROLES)


@pytest.fixture
def world(idle_api: Api) -> Iterator[tuple[Api, Tenant, Tenant, str]]:
    """(api, alpha, beta, one of beta's queued jobs). No runtime: the job stays cancellable."""
    alpha = make_tenant(idle_api, "alpha")
    beta = make_tenant(idle_api, "beta")
    job = ok(idle_api.post("/v0.4/jobs", json=bell_job(), headers=as_key(idle_api, beta.keys["member"])), 201)
    yield idle_api, alpha, beta, job["id"]


def _requests(beta: Tenant, job_id: str) -> list[tuple[str, str, dict | None]]:
    org, project = f"/v0.4/organizations/{beta.org_id}", f"/v0.4/projects/{beta.project_id}"
    someone = beta.users["member"]
    return [
        # jobs
        ("GET", f"/v0.4/jobs/{job_id}", None),
        ("GET", f"/v0.4/jobs/{job_id}/results/probabilities", None),
        ("PUT", f"/v0.4/jobs/{job_id}/status/cancel", None),
        ("DELETE", f"/v0.4/jobs/{job_id}", None),
        # the organization, its members, projects and audit log
        ("GET", org, None),
        ("PATCH", org, {"name": "taken over"}),
        ("GET", f"{org}/members", None),
        ("POST", f"{org}/members", {"email": "intruder@alpha.test", "role": "owner"}),
        ("PATCH", f"{org}/members/{someone}", {"role": "owner"}),
        ("DELETE", f"{org}/members/{someone}", None),
        ("GET", f"{org}/projects", None),
        ("POST", f"{org}/projects", {"name": "squatter"}),
        ("GET", f"{org}/audit", None),
        # the project, its members and keys
        ("GET", project, None),
        ("PATCH", project, {"description": "defaced"}),
        ("DELETE", project, None),
        ("GET", f"{project}/members", None),
        ("POST", f"{project}/members", {"email": "member@beta.test", "role": "admin"}),
        ("PATCH", f"{project}/members/{someone}", {"role": "admin"}),
        ("DELETE", f"{project}/members/{someone}", None),
        ("GET", f"{project}/keys", None),
        ("POST", f"{project}/keys", {"name": "backdoor"}),
        ("DELETE", f"{project}/keys/{beta.key_ids['member']}", None),
    ]


@pytest.mark.parametrize("role", ROLES)
def test_every_key_of_one_tenant_gets_404_for_everything_of_another(world, role: str) -> None:  # type: ignore[no-untyped-def]
    api, alpha, beta, job_id = world
    headers = as_key(api, alpha.keys[role])
    for method, path, body in _requests(beta, job_id):
        response = api.client.request(method, path, headers=headers, json=body)
        assert response.status_code == 404, (role, method, path, response.status_code, response.text)
        assert response.json()["statusCode"] == 404
        assert beta.org_id not in response.text or beta.org_id in path  # nothing about beta leaks back
    # beta's key cannot be revoked through alpha's own project either
    response = api.delete(f"/v0.4/projects/{alpha.project_id}/keys/{beta.key_ids['member']}", headers=headers)
    assert response.status_code == 404
    # and a 404 for beta's things reads exactly like one for things that do not exist
    ghost = "00000000-0000-4000-8000-000000000000"
    for template in ("/v0.4/jobs/{}", "/v0.4/projects/{}", "/v0.4/organizations/{}"):
        real = api.get(
            template.format(
                job_id if "jobs" in template else beta.project_id if "projects" in template else beta.org_id
            ),
            headers=headers,
        )
        fake = api.get(template.format(ghost), headers=headers)
        assert real.status_code == fake.status_code == 404
        assert real.json()["message"].split()[0] == fake.json()["message"].split()[0]
        assert real.json()["message"].split()[2:] == fake.json()["message"].split()[2:]


@pytest.mark.parametrize("role", ROLES)
def test_lists_never_show_another_tenants_things(world, role: str) -> None:  # type: ignore[no-untyped-def]
    api, alpha, beta, job_id = world
    headers = as_key(api, alpha.keys[role])
    jobs = ok(api.get("/v0.4/jobs", headers=headers))["jobs"]
    assert job_id not in {j["id"] for j in jobs}
    assert ok(api.get(f"/v0.4/jobs?id={job_id}", headers=headers))["jobs"] == []
    orgs = ok(api.get("/v0.4/organizations", headers=headers))["organizations"]
    assert [o["id"] for o in orgs] == [alpha.org_id]
    projects = ok(api.get(f"/v0.4/organizations/{alpha.org_id}/projects", headers=headers))["projects"]
    assert [p["id"] for p in projects] == [alpha.project_id]
    keys = ok(api.get(f"/v0.4/projects/{alpha.project_id}/keys", headers=headers))["keys"]
    assert not {k["key_id"] for k in keys} & set(beta.key_ids.values())
    members = ok(api.get(f"/v0.4/projects/{alpha.project_id}/members", headers=headers))["members"]
    assert not {m["user_id"] for m in members} & set(beta.users.values())
    if role == "owner":
        org_members = ok(api.get(f"/v0.4/organizations/{alpha.org_id}/members", headers=headers))["members"]
        assert {m["user_id"] for m in org_members} == set(alpha.users.values())
        events = ok(api.get(f"/v0.4/organizations/{alpha.org_id}/audit?limit=1000", headers=headers))[
            "events"
        ]
        assert events and all(e["organization_id"] == alpha.org_id for e in events)
        assert not any(e["project_id"] == beta.project_id for e in events)


def test_bulk_cancel_and_delete_skip_another_tenants_jobs(world) -> None:  # type: ignore[no-untyped-def]
    api, alpha, beta, job_id = world
    headers = as_key(api, alpha.keys["owner"])
    for method, path in (("PUT", "/v0.4/jobs/status/cancel"), ("DELETE", "/v0.4/jobs")):
        body = ok(api.client.request(method, path, headers=headers, json={"ids": [job_id]}))
        assert body["ids"] == [] and body["not_found"] == [job_id]
    assert ok(api.get(f"/v0.4/jobs/{job_id}", headers=as_key(api, beta.keys["viewer"])))["status"] == "ready"


def test_the_other_tenant_is_untouched_afterwards(world) -> None:  # type: ignore[no-untyped-def]
    api, alpha, beta, job_id = world
    for role in ROLES:
        headers = as_key(api, alpha.keys[role])
        for method, path, body in _requests(beta, job_id):
            api.client.request(method, path, headers=headers, json=body)
    beta_owner = as_key(api, beta.keys["owner"])
    assert ok(api.get(f"/v0.4/jobs/{job_id}", headers=beta_owner))["status"] == "ready"
    project = ok(api.get(f"/v0.4/projects/{beta.project_id}", headers=beta_owner))
    assert project["archived_at"] is None and project["description"] == ""
    org = ok(api.get(f"/v0.4/organizations/{beta.org_id}", headers=beta_owner))
    assert org["name"] == "Org beta"
    members = ok(api.get(f"/v0.4/organizations/{beta.org_id}/members", headers=beta_owner))["members"]
    assert {m["email"] for m in members} == {f"{r}@beta.test" for r in ROLES}
    keys = ok(api.get(f"/v0.4/projects/{beta.project_id}/keys", headers=beta_owner))["keys"]
    assert {k["status"] for k in keys} == {"active"} and {k["name"] for k in keys} == {
        f"{r} key" for r in ROLES
    }
    for role in ROLES:  # every beta key still works
        assert api.get("/v0.4/whoami", headers=as_key(api, beta.keys[role])).status_code == 200
    events = ok(api.get(f"/v0.4/organizations/{beta.org_id}/audit?limit=1000", headers=beta_owner))["events"]
    assert not any(e["actor_user_id"] in alpha.users.values() for e in events)


def test_a_project_of_the_same_organization_is_invisible_to_non_members(world) -> None:  # type: ignore[no-untyped-def]
    api, alpha, _, _ = world
    owner = as_key(api, alpha.keys["owner"])
    other = ok(
        api.post(f"/v0.4/organizations/{alpha.org_id}/projects", json={"name": "secret"}, headers=owner), 201
    )
    make_key(api, other["id"], "owner@alpha.test")
    for role in PROJECT_ROLES:
        headers = as_key(api, alpha.keys[role])
        for method, suffix in (("GET", ""), ("GET", "/members"), ("GET", "/keys"), ("DELETE", "")):
            response = api.client.request(method, f"/v0.4/projects/{other['id']}{suffix}", headers=headers)
            assert response.status_code == 404, (role, method, suffix, response.text)
        listed = ok(api.get(f"/v0.4/organizations/{alpha.org_id}/projects", headers=headers))["projects"]
        assert other["id"] not in {p["id"] for p in listed}
    # the owner sees both
    listed = ok(api.get(f"/v0.4/organizations/{alpha.org_id}/projects", headers=owner))["projects"]
    assert {p["id"] for p in listed} == {alpha.project_id, other["id"]}


OWNER_ONLY = [
    ("PATCH", "/v0.4/organizations/{org}", {"name": "mine now"}),
    ("GET", "/v0.4/organizations/{org}/members", None),
    ("POST", "/v0.4/organizations/{org}/members", {"email": "new@alpha.test"}),
    ("PATCH", "/v0.4/organizations/{org}/members/{member}", {"role": "owner"}),
    ("DELETE", "/v0.4/organizations/{org}/members/{owner}", None),
    ("POST", "/v0.4/organizations/{org}/projects", {"name": "side project"}),
    ("GET", "/v0.4/organizations/{org}/audit", None),
    ("DELETE", "/v0.4/projects/{project}", None),
    ("POST", "/v0.4/organizations", {"name": "My Own", "slug": "my-own"}),
]


@pytest.mark.parametrize("role", PROJECT_ROLES)
def test_project_roles_calling_owner_endpoints_get_403(world, role: str) -> None:  # type: ignore[no-untyped-def]
    api, alpha, _, _ = world
    headers = as_key(api, alpha.keys[role])
    values = {"org": alpha.org_id, "project": alpha.project_id, **alpha.users}
    for method, template, body in OWNER_ONLY:
        path = template.format(**values)
        response = api.client.request(method, path, headers=headers, json=body)
        assert response.status_code == 403, (role, method, path, response.text)
        assert response.json()["statusCode"] == 403 and response.json()["message"]
    # and nothing changed
    owner = as_key(api, alpha.keys["owner"])
    assert ok(api.get(f"/v0.4/organizations/{alpha.org_id}", headers=owner))["name"] == "Org alpha"
    roles = {
        m["email"]: m["role"]
        for m in ok(api.get(f"/v0.4/organizations/{alpha.org_id}/members", headers=owner))["members"]
    }
    assert roles["member@alpha.test"] == "member" and roles["owner@alpha.test"] == "owner"
    assert ok(api.get(f"/v0.4/projects/{alpha.project_id}", headers=owner))["archived_at"] is None


@pytest.mark.parametrize("role", ("member", "viewer"))
def test_members_and_viewers_cannot_manage_project_members_or_others_keys(world, role: str) -> None:  # type: ignore[no-untyped-def]
    api, alpha, _, _ = world
    headers = as_key(api, alpha.keys[role])
    project = f"/v0.4/projects/{alpha.project_id}"
    cases = [
        ("POST", f"{project}/members", {"email": "owner@alpha.test", "role": "viewer"}),
        ("PATCH", f"{project}/members/{alpha.users['admin']}", {"role": "viewer"}),
        ("DELETE", f"{project}/members/{alpha.users['admin']}", None),
        ("PATCH", project, {"name": "renamed"}),
        ("DELETE", f"{project}/keys/{alpha.key_ids['admin']}", None),
        ("POST", f"{project}/keys", {"name": "for admin", "user_id": alpha.users["admin"]}),
    ]
    for method, path, body in cases:
        response = api.client.request(method, path, headers=headers, json=body)
        assert response.status_code == 403, (role, method, path, response.text)
    # but they list (only) their own keys and can revoke their own
    keys = ok(api.get(f"{project}/keys", headers=headers))["keys"]
    assert [k["key_id"] for k in keys] == [alpha.key_ids[role]]
    mine = ok(api.post(f"{project}/keys", json={"name": "second"}, headers=headers), 201)
    ok(api.delete(f"{project}/keys/{mine['key_id']}", headers=headers))
