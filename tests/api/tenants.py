"""Build organizations, projects, users and keys through the REST API, as a platform admin would."""

from __future__ import annotations

from dataclasses import dataclass, field

from tests.conftest import Api

#: Project roles every tenant gets a user (and a key) for, besides the organization owner.
PROJECT_ROLES = ("admin", "member", "viewer")


@dataclass
class Tenant:
    org_id: str
    project_id: str
    #: ``owner`` (organization owner) and one per project role: the full key.
    keys: dict[str, str] = field(default_factory=dict)
    #: The same roles: the user's id.
    users: dict[str, str] = field(default_factory=dict)
    #: The same roles: the key's public id.
    key_ids: dict[str, str] = field(default_factory=dict)


def ok(response, status: int = 200) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == status, (response.status_code, response.text)
    return response.json() if response.content else {}


def as_key(api: Api, key: str) -> dict[str, str]:
    return {"Authorization": f"apiKey {key}"}


def make_key(api: Api, project_id: str, email: str, **body: object) -> dict:
    """A key for ``email`` in the project, made with the platform administrator's key."""
    return ok(api.post(f"/v0.4/projects/{project_id}/keys", json={"user_email": email, **body}), 201)


def make_tenant(api: Api, slug: str) -> Tenant:
    """An organization with an owner, one project, and a user + key per project role."""
    owner = f"owner@{slug}.test"
    org = ok(
        api.post("/v0.4/organizations", json={"name": f"Org {slug}", "slug": slug, "owner_email": owner}), 201
    )
    project = ok(api.post(f"/v0.4/organizations/{org['id']}/projects", json={"name": f"{slug} main"}), 201)
    tenant = Tenant(org_id=org["id"], project_id=project["id"])
    made = make_key(api, project["id"], owner, name="owner key")
    tenant.keys["owner"], tenant.users["owner"], tenant.key_ids["owner"] = (
        made["key"],
        made["user_id"],
        made["key_id"],
    )
    for role in PROJECT_ROLES:
        email = f"{role}@{slug}.test"
        member = ok(api.post(f"/v0.4/organizations/{org['id']}/members", json={"email": email}), 201)
        ok(api.post(f"/v0.4/projects/{project['id']}/members", json={"email": email, "role": role}), 201)
        made = make_key(api, project["id"], email, name=f"{role} key")
        tenant.keys[role], tenant.users[role], tenant.key_ids[role] = (
            made["key"],
            member["user_id"],
            made["key_id"],
        )
    return tenant
