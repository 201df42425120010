"""Reservations and the priority tier through the REST API: who may do what, and what is recorded."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest

from tests.api.conftest import bell_job
from tests.api.tenants import PROJECT_ROLES, Tenant, as_key, make_tenant, ok
from tests.conftest import Api


def _window(hours_from_now: float = 1.0, length_h: float = 2.0) -> dict[str, str]:
    start = datetime.now(timezone.utc) + timedelta(hours=hours_from_now)
    return {
        "backend": "simulator",
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=length_h)).isoformat(),
    }


@pytest.fixture
def world(idle_api: Api) -> Iterator[tuple[Api, Tenant, Tenant]]:
    yield idle_api, make_tenant(idle_api, "alpha"), make_tenant(idle_api, "beta")


def _audit_actions(api: Api, org_id: str) -> list[str]:
    return [e["action"] for e in ok(api.get(f"/v0.4/organizations/{org_id}/audit"))["events"]]


def test_an_owner_requests_and_an_administrator_approves(world) -> None:  # type: ignore[no-untyped-def]
    api, alpha, _ = world
    owner = as_key(api, alpha.keys["owner"])
    asked = ok(
        api.post(f"/v0.4/organizations/{alpha.org_id}/reservations", json=_window(), headers=owner), 201
    )
    assert asked["status"] == "requested" and asked["organization_id"] == alpha.org_id
    # the owner cannot approve their own request
    assert api.post(f"/v0.4/reservations/{asked['id']}/approve", headers=owner).status_code == 403
    approved = ok(api.post(f"/v0.4/reservations/{asked['id']}/approve"))
    assert approved["status"] == "approved"
    listed = ok(api.get(f"/v0.4/organizations/{alpha.org_id}/reservations", headers=owner))["reservations"]
    assert [(r["id"], r["status"]) for r in listed] == [(asked["id"], "approved")]
    assert {"reservation.request", "reservation.approve"} <= set(_audit_actions(api, alpha.org_id))


def test_an_administrator_creates_an_approved_window_directly_and_overlaps_are_refused(world) -> None:  # type: ignore[no-untyped-def]
    api, alpha, beta = world
    made = ok(api.post(f"/v0.4/organizations/{alpha.org_id}/reservations", json=_window(1, 2)), 201)
    assert made["status"] == "approved"
    clash = api.post(f"/v0.4/organizations/{beta.org_id}/reservations", json=_window(2, 2))
    assert clash.status_code == 409 and made["id"] in clash.json()["message"]
    # a request may overlap (it is only a request); approving it may not
    asked = ok(
        api.post(
            f"/v0.4/organizations/{beta.org_id}/reservations",
            json=_window(2, 2),
            headers=as_key(api, beta.keys["owner"]),
        ),
        201,
    )
    assert api.post(f"/v0.4/reservations/{asked['id']}/approve").status_code == 409
    assert "reservation.create" in _audit_actions(api, alpha.org_id)


@pytest.mark.parametrize("role", PROJECT_ROLES)
def test_members_of_the_organization_may_look_but_not_request(world, role: str) -> None:  # type: ignore[no-untyped-def]
    api, alpha, _ = world
    key = as_key(api, alpha.keys[role])
    refused = api.post(f"/v0.4/organizations/{alpha.org_id}/reservations", json=_window(), headers=key)
    assert refused.status_code == 403
    assert ok(api.get(f"/v0.4/organizations/{alpha.org_id}/reservations", headers=key))["reservations"] == []


@pytest.mark.parametrize("role", ("owner", *PROJECT_ROLES))
def test_another_organizations_reservations_are_404(world, role: str) -> None:  # type: ignore[no-untyped-def]
    api, alpha, beta = world
    theirs = ok(api.post(f"/v0.4/organizations/{beta.org_id}/reservations", json=_window()), 201)
    key = as_key(api, alpha.keys[role])
    assert api.get(f"/v0.4/organizations/{beta.org_id}/reservations", headers=key).status_code == 404
    assert (
        api.post(f"/v0.4/organizations/{beta.org_id}/reservations", json=_window(), headers=key).status_code
        == 404
    )
    assert api.delete(f"/v0.4/reservations/{theirs['id']}", headers=key).status_code == 404
    assert api.post(f"/v0.4/reservations/{theirs['id']}/approve", headers=key).status_code == 404
    assert (
        ok(api.get(f"/v0.4/organizations/{beta.org_id}/reservations"))["reservations"][0]["status"]
        == "approved"
    )


def test_an_owner_cancels_and_a_second_cancel_is_a_conflict(world) -> None:  # type: ignore[no-untyped-def]
    api, alpha, _ = world
    owner = as_key(api, alpha.keys["owner"])
    made = ok(api.post(f"/v0.4/organizations/{alpha.org_id}/reservations", json=_window()), 201)
    assert (
        api.delete(f"/v0.4/reservations/{made['id']}", headers=as_key(api, alpha.keys["member"])).status_code
        == 403
    )
    assert ok(api.delete(f"/v0.4/reservations/{made['id']}", headers=owner))["status"] == "canceled"
    assert api.delete(f"/v0.4/reservations/{made['id']}", headers=owner).status_code == 409
    assert "reservation.cancel" in _audit_actions(api, alpha.org_id)


def test_malformed_windows_are_400_naming_the_field(world) -> None:  # type: ignore[no-untyped-def]
    api, alpha, _ = world
    url = f"/v0.4/organizations/{alpha.org_id}/reservations"
    backwards = {**_window(), "ends_at": _window(-5)["starts_at"]}
    assert api.post(url, json=backwards).json()["message"].startswith("ends_at")
    assert api.post(url, json={**_window(), "backend": "qpu.nope"}).status_code == 400
    assert api.post(url, json={**_window(), "organization_id": "x"}).status_code == 400
    assert api.post(url, json=_window(24 * 40)).status_code == 201  # far ahead is fine
    assert api.post(url, json=_window(1, 24 * 40)).status_code == 400  # longer than 31 days is not


def test_only_administrators_set_a_jobs_tier_and_it_is_audited(world) -> None:  # type: ignore[no-untyped-def]
    api, alpha, _ = world
    owner = as_key(api, alpha.keys["owner"])
    job = ok(api.post("/v0.4/jobs", json=bell_job(), headers=as_key(api, alpha.keys["member"])), 201)
    for role in ("owner", *PROJECT_ROLES):
        refused = api.put(
            f"/v0.4/jobs/{job['id']}/priority", json={"tier": 3}, headers=as_key(api, alpha.keys[role])
        )
        assert refused.status_code == 403
    assert api.put(f"/v0.4/jobs/{job['id']}/priority", json={"tier": 99}).status_code == 400
    assert (
        api.put("/v0.4/jobs/00000000-0000-4000-8000-000000000000/priority", json={"tier": 1}).status_code
        == 404
    )
    done = ok(api.put(f"/v0.4/jobs/{job['id']}/priority", json={"tier": 3}))
    assert done == {"id": job["id"], "tier": 3, "queued_executions": 1}
    events = ok(api.get(f"/v0.4/organizations/{alpha.org_id}/audit", headers=owner))["events"]
    assert any(e["action"] == "job.priority" and e["target_id"] == job["id"] for e in events)
