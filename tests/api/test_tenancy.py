"""Organizations, projects, members, keys and the audit log through the REST API, as users meet them."""

from __future__ import annotations

import json

import pytest

from qumulus.services.tenancy.access import CLI_ADMIN
from qumulus.services.tenancy.users import check_login, set_password
from tests.api.conftest import bell_job
from tests.api.tenants import as_key, make_key, make_tenant, ok
from tests.conftest import Api


def test_an_owner_builds_an_organization_from_scratch(idle_api: Api) -> None:
    api = idle_api
    org = ok(
        api.post("/v0.4/organizations", json={"name": "Quantum Lab (Zürich)", "owner_email": "Ada@Lab.test"}),
        201,
    )
    assert org["slug"] == "quantum-lab-z-rich" and org["name"] == "Quantum Lab (Zürich)"
    owner_members = ok(api.get(f"/v0.4/organizations/{org['id']}/members"))["members"]
    assert [(m["email"], m["role"]) for m in owner_members] == [("ada@lab.test", "owner")]
    project = ok(api.post(f"/v0.4/organizations/{org['id']}/projects", json={"name": "Chem"}), 201)
    owner_key = make_key(api, project["id"], "ada@lab.test")["key"]
    owner = as_key(api, owner_key)

    # the owner invites a colleague with a console password and gives them the project
    bob = ok(
        api.post(
            f"/v0.4/organizations/{org['id']}/members",
            json={"email": "bob@lab.test", "name": "Bob", "password": "correct horse battery"},
            headers=owner,
        ),
        201,
    )
    assert bob["role"] == "member"
    assert check_login(api.platform, "bob@lab.test", "correct horse battery").id == bob["user_id"]  # type: ignore[union-attr]
    assert check_login(api.platform, "bob@lab.test", "wrong password") is None
    ok(
        api.post(
            f"/v0.4/projects/{project['id']}/members",
            json={"user_id": bob["user_id"], "role": "member"},
            headers=owner,
        ),
        201,
    )
    bob_key = ok(
        api.post(
            f"/v0.4/projects/{project['id']}/keys",
            json={"name": "bob laptop", "user_id": bob["user_id"]},
            headers=owner,
        ),
        201,
    )
    bob_headers = as_key(api, bob_key["key"])

    # bob works in the project
    job = ok(api.post("/v0.4/jobs", json=bell_job(), headers=bob_headers), 201)
    assert ok(api.get(f"/v0.4/jobs/{job['id']}", headers=bob_headers))["id"] == job["id"]
    assert ok(api.get(f"/v0.4/projects/{project['id']}", headers=bob_headers))["name"] == "Chem"

    # renaming, describing
    renamed = ok(
        api.client.patch(
            f"/v0.4/projects/{project['id']}", json={"name": "Chemistry", "description": "VQE"}, headers=owner
        )
    )
    assert renamed["name"] == "Chemistry" and renamed["description"] == "VQE"
    patched = ok(api.client.patch(f"/v0.4/organizations/{org['id']}", json={"name": "QLab"}, headers=owner))
    assert patched["name"] == "QLab" and patched["slug"] == org["slug"]

    # promoting bob to project viewer takes effect at once: he can no longer submit
    ok(
        api.client.patch(
            f"/v0.4/projects/{project['id']}/members/{bob['user_id']}", json={"role": "viewer"}, headers=owner
        )
    )
    refused = api.post("/v0.4/jobs", json=bell_job(), headers=bob_headers)
    assert refused.status_code == 403 and "job.submit" in refused.json()["message"]

    # removing bob from the project revokes his key there
    removed = ok(api.delete(f"/v0.4/projects/{project['id']}/members/{bob['user_id']}", headers=owner))
    assert removed["revoked_keys"] == [bob_key["key_id"]]
    assert api.get("/v0.4/whoami", headers=bob_headers).status_code == 401


def test_an_organization_always_keeps_an_owner(idle_api: Api) -> None:
    api = idle_api
    tenant = make_tenant(api, "solo")
    owner = as_key(api, tenant.keys["owner"])
    members = f"/v0.4/organizations/{tenant.org_id}/members"
    me = tenant.users["owner"]
    demote = api.client.patch(f"{members}/{me}", json={"role": "member"}, headers=owner)
    assert demote.status_code == 409 and "without an owner" in demote.json()["message"]
    assert api.delete(f"{members}/{me}", headers=owner).status_code == 409
    # with a second owner, the first may step down (and loses owner rights at once)
    ok(api.client.patch(f"{members}/{tenant.users['admin']}", json={"role": "owner"}, headers=owner))
    ok(api.client.patch(f"{members}/{me}", json={"role": "member"}, headers=owner))
    assert api.get(members, headers=owner).status_code == 403
    new_owner = as_key(api, tenant.keys["admin"])
    roles = {m["email"]: m["role"] for m in ok(api.get(members, headers=new_owner))["members"]}
    assert roles["owner@solo.test"] == "member" and roles["admin@solo.test"] == "owner"
    bad_role = api.client.patch(f"{members}/{me}", json={"role": "emperor"}, headers=new_owner)
    assert bad_role.status_code == 400 and bad_role.json()["validation"]["keys"] == ["role"]


def test_removing_a_user_from_the_organization_revokes_their_keys_and_project_roles(idle_api: Api) -> None:
    api = idle_api
    tenant = make_tenant(api, "epsilon")
    owner = as_key(api, tenant.keys["owner"])
    gone = ok(
        api.delete(f"/v0.4/organizations/{tenant.org_id}/members/{tenant.users['member']}", headers=owner)
    )
    assert gone["revoked_keys"] == [tenant.key_ids["member"]]
    assert api.get("/v0.4/whoami", headers=as_key(api, tenant.keys["member"])).status_code == 401
    members = ok(api.get(f"/v0.4/projects/{tenant.project_id}/members", headers=owner))["members"]
    assert "member@epsilon.test" not in {m["email"] for m in members}


def test_keys_are_shown_once_scoped_no_wider_than_their_maker_and_listed_without_secrets(
    idle_api: Api,
) -> None:
    api = idle_api
    tenant = make_tenant(api, "zeta")
    owner = as_key(api, tenant.keys["owner"])
    keys = f"/v0.4/projects/{tenant.project_id}/keys"
    reader = ok(
        api.post(keys, json={"name": "dashboard", "scopes": ["jobs:read", "manage"]}, headers=owner), 201
    )
    assert reader["key"].startswith(f"qmk_{reader['key_id']}_") and reader["scopes"] == [
        "jobs:read",
        "manage",
    ]
    assert reader["prefix"] == f"qmk_{reader['key_id']}_…"
    reader_headers = as_key(api, reader["key"])
    # a read-only key reads but does not submit
    assert api.get("/v0.4/jobs", headers=reader_headers).status_code == 200
    refused = api.post("/v0.4/jobs", json=bell_job(), headers=reader_headers)
    assert refused.status_code == 403 and "jobs:write" in refused.json()["message"]
    # and cannot mint a key wider than itself
    wider = api.post(keys, json={"name": "escalate", "scopes": ["jobs:write"]}, headers=reader_headers)
    assert wider.status_code == 403 and "jobs:write" in wider.json()["message"]
    default = ok(api.post(keys, json={"name": "same as me"}, headers=reader_headers), 201)
    assert default["scopes"] == ["jobs:read", "manage"]
    unknown = api.post(keys, json={"scopes": ["root"]}, headers=owner)
    assert unknown.status_code == 400 and unknown.json()["validation"]["keys"] == ["scopes"]
    # the list never holds a secret, and tells when a key was last used
    listed = ok(api.get(keys, headers=owner))
    text = json.dumps(listed)
    for secret in (reader["key"], default["key"], *tenant.keys.values()):
        assert secret not in text
        assert secret.split("_", 2)[2] not in text
    by_name = {k["name"]: k for k in listed["keys"]}
    assert by_name["dashboard"]["last_used_at"] is not None and by_name["same as me"]["last_used_at"] is None
    assert set(by_name["dashboard"]) >= {
        "key_id",
        "prefix",
        "name",
        "scopes",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
    }
    # paging: one at a time, newest first, every key exactly once
    seen, cursor = [], None
    while True:
        page = ok(api.get(keys + (f"?limit=1&next={cursor}" if cursor else "?limit=1"), headers=owner))
        seen += [k["key_id"] for k in page["keys"]]
        cursor = page.get("next")
        if cursor is None:
            break
    assert seen == [k["key_id"] for k in listed["keys"]] and len(seen) == len(set(seen)) == 6
    assert api.get(keys + "?next=garbage", headers=owner).status_code == 400


def test_archiving_a_project_revokes_its_keys_and_hides_it(idle_api: Api) -> None:
    api = idle_api
    tenant = make_tenant(api, "eta")
    owner = as_key(api, tenant.keys["owner"])
    archived = ok(api.delete(f"/v0.4/projects/{tenant.project_id}", headers=owner))
    assert archived["archived_at"] is not None and set(archived["revoked_keys"]) == set(
        tenant.key_ids.values()
    )
    assert api.get("/v0.4/whoami", headers=owner).status_code == 401
    listed = ok(api.get(f"/v0.4/organizations/{tenant.org_id}/projects"))["projects"]  # platform admin
    assert listed == []
    with_archived = ok(api.get(f"/v0.4/organizations/{tenant.org_id}/projects?include_archived=true"))[
        "projects"
    ]
    assert [p["id"] for p in with_archived] == [tenant.project_id]
    assert api.post(f"/v0.4/projects/{tenant.project_id}/keys", json={}).status_code == 404


def test_conflicts_and_bad_values_are_clear_errors(idle_api: Api) -> None:
    api = idle_api
    tenant = make_tenant(api, "theta")
    owner = as_key(api, tenant.keys["owner"])
    org = f"/v0.4/organizations/{tenant.org_id}"
    cases = [
        (api.post("/v0.4/organizations", json={"name": "Again", "slug": "theta"}), 409, "slug"),
        (api.post("/v0.4/organizations", json={"name": "Bad", "slug": "Not A Slug"}), 400, "slug"),
        (api.post("/v0.4/organizations", json={"name": "  "}), 400, "name"),
        (api.post(f"{org}/projects", json={"name": "theta main"}, headers=owner), 409, "name"),
        (api.post(f"{org}/members", json={"email": "admin@theta.test"}, headers=owner), 409, "email"),
        (api.post(f"{org}/members", json={"email": "not-an-email"}, headers=owner), 400, "email"),
        (
            api.post(f"{org}/members", json={"email": "x@theta.test", "role": "admin"}, headers=owner),
            400,
            "role",
        ),
        (
            api.post(f"{org}/members", json={"email": "y@theta.test", "password": "short"}, headers=owner),
            400,
            "password",
        ),
        (
            api.post(
                f"/v0.4/projects/{tenant.project_id}/members",
                json={"email": "stranger@else.test", "role": "member"},
                headers=owner,
            ),
            400,
            "email",
        ),
        (
            api.post(
                f"/v0.4/projects/{tenant.project_id}/members",
                json={"email": "member@theta.test", "role": "viewer"},
                headers=owner,
            ),
            409,
            "user_id",
        ),
        (api.get("/v0.4/jobs"), 200, None),
        (api.get(f"{org}/audit?limit=0", headers=owner), 400, "limit"),
        (api.get(f"{org}/audit?limit=many", headers=owner), 400, "limit"),
        (api.post("/v0.4/organizations", content=b"[1,2]"), 400, "body"),
        (api.post("/v0.4/organizations", content=b"{nope"), 400, "body"),
    ]
    for n, (response, status, field) in enumerate(cases):
        assert response.status_code == status, (n, response.text)
        if field is not None:
            body = response.json()
            assert body["validation"]["keys"] == [field], (n, body)
            assert field in body["message"]


def test_only_a_platform_administrator_creates_organizations(idle_api: Api) -> None:
    api = idle_api
    tenant = make_tenant(api, "iota")
    refused = api.post(
        "/v0.4/organizations", json={"name": "Mine"}, headers=as_key(api, tenant.keys["owner"])
    )
    assert refused.status_code == 403 and "org.create" in refused.json()["message"]
    everything = ok(api.get("/v0.4/organizations"))["organizations"]  # the platform administrator
    assert {"iota", "default"} <= {o["slug"] for o in everything}


def test_users_change_their_own_password(idle_api: Api) -> None:
    api = idle_api
    tenant = make_tenant(api, "kappa")
    member = as_key(api, tenant.keys["member"])
    me = ok(api.get("/v0.4/users/me", headers=member))
    assert me["email"] == "member@kappa.test" and me["has_password"] is False
    # whoever holds a key may not be its user: the first password comes from an administrator
    first = api.put("/v0.4/users/me/password", json={"new_password": "first password"}, headers=member)
    assert first.status_code == 409 and first.json()["validation"]["keys"] == ["current_password"]
    set_password(api.platform, CLI_ADMIN, email="member@kappa.test", password="first password")
    assert ok(api.get("/v0.4/users/me", headers=member))["has_password"] is True
    wrong = api.put(
        "/v0.4/users/me/password",
        json={"current_password": "nope", "new_password": "second password"},
        headers=member,
    )
    assert wrong.status_code == 403
    short = api.put(
        "/v0.4/users/me/password",
        json={"current_password": "first password", "new_password": "2short"},
        headers=member,
    )
    assert short.status_code == 400 and short.json()["validation"]["keys"] == ["new_password"]
    assert (
        api.put(
            "/v0.4/users/me/password",
            json={"current_password": "first password", "new_password": "second password"},
            headers=member,
        ).status_code
        == 204
    )
    assert check_login(api.platform, "member@kappa.test", "second password") is not None
    assert check_login(api.platform, "member@kappa.test", "first password") is None
    # a key without the manage scope cannot take over the account
    owner = as_key(api, tenant.keys["owner"])
    reader = ok(
        api.post(f"/v0.4/projects/{tenant.project_id}/keys", json={"scopes": ["jobs:read"]}, headers=owner),
        201,
    )
    stolen = api.put(
        "/v0.4/users/me/password",
        json={"current_password": "x", "new_password": "owned by me"},
        headers=as_key(api, reader["key"]),
    )
    assert stolen.status_code == 403


READ_ONLY_OR_UNKNOWN = [
    ("POST", "/v0.4/organizations", {"name": "X", "id": "00000000-0000-4000-8000-000000000000"}, "id"),
    ("POST", "/v0.4/organizations", {"name": "X", "created_at": "2020-01-01T00:00:00Z"}, "created_at"),
    ("PATCH", "/v0.4/organizations/{org}", {"name": "X", "id": "other"}, "id"),
    (
        "POST",
        "/v0.4/organizations/{org}/projects",
        {"name": "X", "organization_id": "{other_org}"},
        "organization_id",
    ),
    ("POST", "/v0.4/organizations/{org}/projects", {"name": "X", "archived_at": None}, "archived_at"),
    ("PATCH", "/v0.4/projects/{project}", {"organization_id": "{other_org}"}, "organization_id"),
    ("PATCH", "/v0.4/projects/{project}", {"created_at": "2020-01-01T00:00:00Z"}, "created_at"),
    ("POST", "/v0.4/organizations/{org}/members", {"email": "z@x.test", "user_id": "someone"}, "user_id"),
    (
        "PATCH",
        "/v0.4/organizations/{org}/members/{member}",
        {"role": "owner", "email": "evil@x.test"},
        "email",
    ),
    (
        "POST",
        "/v0.4/projects/{project}/members",
        {"email": "member@lambda.test", "project_id": "{other_project}"},
        "project_id",
    ),
    ("POST", "/v0.4/projects/{project}/keys", {"name": "k", "project_id": "{other_project}"}, "project_id"),
    ("POST", "/v0.4/projects/{project}/keys", {"name": "k", "secret_hash": "00"}, "secret_hash"),
    ("POST", "/v0.4/projects/{project}/keys", {"name": "k", "revoked_at": None}, "revoked_at"),
    ("POST", "/v0.4/projects/{project}/keys", {"name": "k", "last_used_at": None}, "last_used_at"),
    (
        "PUT",
        "/v0.4/users/me/password",
        {"new_password": "long enough", "password_hash": "x"},
        "password_hash",
    ),
]


@pytest.mark.parametrize(("method", "template", "body", "field"), READ_ONLY_OR_UNKNOWN)
def test_read_only_and_unknown_fields_are_refused_naming_the_field(
    idle_api: Api, method, template, body, field
) -> None:  # type: ignore[no-untyped-def]
    api = idle_api
    tenant, other = make_tenant(api, "lambda"), make_tenant(api, "mu")
    values = {"org": tenant.org_id, "project": tenant.project_id, "member": tenant.users["member"],
              "other_org": other.org_id, "other_project": other.project_id}  # fmt: skip
    path = template.format(**values)
    payload = {k: (v.format(**values) if isinstance(v, str) else v) for k, v in body.items()}
    before = ok(
        api.get(
            f"/v0.4/organizations/{tenant.org_id}/audit?limit=1000", headers=as_key(api, tenant.keys["owner"])
        )
    )
    response = api.client.request(method, path, json=payload, headers=as_key(api, tenant.keys["owner"]))
    assert response.status_code == 400, response.text
    error = response.json()
    assert error["validation"]["keys"] == [field] and error["message"].startswith(f"{field}: ")
    after = ok(
        api.get(
            f"/v0.4/organizations/{tenant.org_id}/audit?limit=1000", headers=as_key(api, tenant.keys["owner"])
        )
    )
    assert after == before  # nothing happened


def test_every_change_is_audited_with_actor_and_without_secrets(idle_api: Api) -> None:
    api = idle_api
    tenant = make_tenant(api, "nu")
    owner = as_key(api, tenant.keys["owner"])
    org = f"/v0.4/organizations/{tenant.org_id}"
    made = ok(api.post(f"/v0.4/projects/{tenant.project_id}/keys", json={"name": "ci"}, headers=owner), 201)
    ok(api.delete(f"/v0.4/projects/{tenant.project_id}/keys/{made['key_id']}", headers=owner))
    ok(
        api.post(
            f"{org}/members", json={"email": "new@nu.test", "password": "a secret password"}, headers=owner
        ),
        201,
    )
    ok(api.client.patch(org, json={"name": "Nu Inc"}, headers=owner))
    project = ok(api.post(f"{org}/projects", json={"name": "second"}, headers=owner), 201)
    ok(api.delete(f"/v0.4/projects/{project['id']}", headers=owner))

    events = ok(api.get(f"{org}/audit?limit=1000", headers=owner))["events"]
    actions = [e["action"] for e in events]
    expected = [
        "organization.create",
        "project.create",
        "org_member.add",
        "project_member.add",
        "user.create",
    ]
    expected += ["api_key.create", "api_key.revoke", "organization.update", "project.archive"]
    for action in expected:
        assert action in actions, action
    mine = [
        e for e in events if e["actor_key_id"] is not None and e["actor_user_id"] == tenant.users["owner"]
    ]
    assert {e["action"] for e in mine} >= {
        "api_key.create",
        "api_key.revoke",
        "org_member.add",
        "organization.update",
    }
    revoke = next(e for e in events if e["action"] == "api_key.revoke" and e["target_id"] == made["id"])
    assert revoke["details"]["key_id"] == made["key_id"] and revoke["project_id"] == tenant.project_id
    text = json.dumps(events)
    for secret in (made["key"], "a secret password", *tenant.keys.values()):
        assert secret not in text
    assert "argon2" not in text
    # newest first, cursor-paged, filterable
    assert events[0]["action"] == "project.archive"
    first = ok(api.get(f"{org}/audit?limit=2", headers=owner))
    second = ok(api.get(f"{org}/audit?limit=2&next={first['next']}", headers=owner))
    assert [e["id"] for e in first["events"] + second["events"]] == [e["id"] for e in events[:4]]
    only = ok(api.get(f"{org}/audit?action=api_key.revoke", headers=owner))["events"]
    assert only and {e["action"] for e in only} == {"api_key.revoke"}


def test_a_key_for_someone_else_never_gives_its_maker_more_power(idle_api: Api) -> None:
    api = idle_api
    tenant = make_tenant(api, "omicron")
    keys = f"/v0.4/projects/{tenant.project_id}/keys"
    # a project admin may not mint a key acting as a member (it would carry their other roles)
    by_admin = api.post(
        keys, json={"user_id": tenant.users["member"]}, headers=as_key(api, tenant.keys["admin"])
    )
    assert by_admin.status_code == 403 and "key.create_for_others" in by_admin.json()["message"]
    # an organization owner may (they already hold every power in the organization)...
    owner = as_key(api, tenant.keys["owner"])
    made = ok(
        api.post(keys, json={"user_id": tenant.users["member"], "name": "for member"}, headers=owner), 201
    )
    assert made["user_email"] == "member@omicron.test"
    # ...but not for a platform administrator who is a member of the organization
    ok(api.post(f"/v0.4/organizations/{tenant.org_id}/members", json={"email": "admin@localhost"}), 201)
    ok(
        api.post(
            f"/v0.4/projects/{tenant.project_id}/members", json={"email": "admin@localhost", "role": "viewer"}
        ),
        201,
    )
    escalate = api.post(keys, json={"user_email": "admin@localhost"}, headers=owner)
    assert escalate.status_code == 403 and "platform.manage" in escalate.json()["message"]
    # and a user who is not in the project cannot hold a key there
    stranger = api.post(keys, json={"user_email": "nobody@else.test"}, headers=owner)
    assert stranger.status_code == 400 and stranger.json()["validation"]["keys"] == ["user_email"]
