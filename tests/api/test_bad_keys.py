"""Every kind of bad key is a 401 with a JSON error that says what is wrong — on jobs and tenancy alike."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from qumulus.auth.keys import CHECKSUM_LENGTH, _checksum
from qumulus.timeutil import iso, utcnow
from tests.api.conftest import bell_job
from tests.api.tenants import as_key, make_tenant, ok
from tests.conftest import Api

PATHS = ["/v0.4/jobs", "/v0.4/whoami", "/v0.4/organizations", "/v0.4/users/me"]


def _refused(api: Api, headers: dict[str, str], expected: str) -> None:
    for path in PATHS:
        response = api.client.get(path, headers=headers)
        assert response.status_code == 401, (path, response.text)
        body = response.json()
        assert body["statusCode"] == 401 and body["error"] == "Unauthorized Error"
        assert expected in body["message"], (path, body["message"])
    submitted = api.client.post("/v0.4/jobs", json=bell_job(), headers=headers)
    assert submitted.status_code == 401


def _with_checksum(body: str) -> str:
    return body + _checksum(body)


def test_missing_key(idle_api: Api) -> None:
    api = idle_api
    _refused(api, {}, "Missing API key")


@pytest.mark.parametrize(
    "header",
    [
        "apiKey",  # no key at all
        "Basic dXNlcjpwYXNz",  # another scheme
        "apiKey sk_live_0123456789",  # not ours
        "apiKey qmk_short_abc",  # wrong lengths
        "apiKey qmk_ABCDEFGHIJKLMNOP_" + "a" * 38,  # key id outside its alphabet
    ],
)
def test_malformed_key(idle_api: Api, header: str) -> None:
    api = idle_api
    _refused(api, {"Authorization": header}, "")


def test_wrong_checksum(idle_api: Api) -> None:
    api = idle_api
    key = api.key
    last = key[-1]
    mistyped = key[:-1] + ("A" if last != "A" else "B")
    _refused(api, as_key(api, mistyped), "checksum")
    truncated_then_padded = key[: -CHECKSUM_LENGTH - 1] + "x" + key[-CHECKSUM_LENGTH:]
    _refused(api, as_key(api, truncated_then_padded), "checksum")


def test_well_formed_but_unknown_key_and_wrong_secret(idle_api: Api) -> None:
    api = idle_api
    unknown = _with_checksum("qmk_" + "a" * 16 + "_" + "b" * 32)
    _refused(api, as_key(api, unknown), "Invalid key")
    key_id = api.key[4:20]
    wrong_secret = _with_checksum(f"qmk_{key_id}_" + "Z" * 32)
    assert wrong_secret != api.key
    _refused(api, as_key(api, wrong_secret), "Invalid key")


def test_revoked_key_stops_working_at_once(idle_api: Api) -> None:
    api = idle_api
    tenant = make_tenant(api, "gamma")
    member = as_key(api, tenant.keys["member"])
    for _ in range(2):  # the key row is cached, then the verified header with its principal
        assert api.get("/v0.4/jobs", headers=member).status_code == 200
    owner = as_key(api, tenant.keys["owner"])
    revoked = ok(
        api.delete(f"/v0.4/projects/{tenant.project_id}/keys/{tenant.key_ids['member']}", headers=owner)
    )
    assert revoked["status"] == "revoked" and revoked["revoked_at"]
    _refused(api, member, "revoked")
    # revoking again is a conflict, not a second audit row
    again = api.delete(f"/v0.4/projects/{tenant.project_id}/keys/{tenant.key_ids['member']}", headers=owner)
    assert again.status_code == 409


def test_expired_key(idle_api: Api) -> None:
    api = idle_api
    tenant = make_tenant(api, "delta")
    owner = as_key(api, tenant.keys["owner"])
    soon = iso(utcnow() + timedelta(seconds=1))
    made = ok(
        api.post(f"/v0.4/projects/{tenant.project_id}/keys", json={"expires_at": soon}, headers=owner), 201
    )
    # twice: the second request is answered from the verified-header cache, which must still expire
    for _ in range(2):
        assert api.get("/v0.4/whoami", headers=as_key(api, made["key"])).status_code == 200
    time.sleep(1.2)
    _refused(api, as_key(api, made["key"]), "expired")
    listed = ok(api.get(f"/v0.4/projects/{tenant.project_id}/keys", headers=owner))["keys"]
    assert {k["key_id"]: k["status"] for k in listed}[made["key_id"]] == "expired"


def test_expiry_in_the_past_is_refused(idle_api: Api) -> None:
    api = idle_api
    project = ok(api.get("/v0.4/whoami"))["project_id"]
    past = iso(utcnow() - timedelta(minutes=1))
    response = api.post(f"/v0.4/projects/{project}/keys", json={"expires_at": past})
    assert response.status_code == 400 and response.json()["validation"]["keys"] == ["expires_at"]
