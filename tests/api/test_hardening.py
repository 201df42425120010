"""Issue 16 (hardening): webhooks' reach before DNS, render before commit, budgets never crossed,
waits that answer the fresh state. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import socket

import pytest

from tests.api.tenants import as_key, make_tenant
from tests.conftest import Api


def test_a_webhook_url_is_not_resolved_for_a_caller_without_reach_or_role(
    idle_api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 16.11: the target used to be resolved before the access check, so any key learnt
    "host 'localhost' resolves to 127.0.0.1" for any project id — a DNS oracle."""
    tenant = make_tenant(idle_api, "dnsprobe")
    looked_up: list[str] = []
    real = socket.getaddrinfo

    def spy(host, *args, **kwargs):  # type: ignore[no-untyped-def]
        looked_up.append(host)
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", spy)
    body = {"url": "http://localhost:9/hook"}
    cases = [
        (idle_api.key, "no-such-project", 404),  # out of reach
        (tenant.keys["member"], tenant.project_id, 403),  # in reach, role too low
        (tenant.keys["viewer"], tenant.project_id, 403),
    ]
    for key, project, status in cases:
        answer = idle_api.client.post(
            f"/v0.4/projects/{project}/webhooks", json=body, headers=as_key(idle_api, key)
        )
        assert answer.status_code == status, answer.text
        assert "resolve" not in answer.text and "127.0.0.1" not in answer.text
    assert "localhost" not in looked_up
    # the project's admin is told (the check itself still stands)
    answer = idle_api.client.post(
        f"/v0.4/projects/{tenant.project_id}/webhooks",
        json=body,
        headers=as_key(idle_api, tenant.keys["admin"]),
    )
    assert answer.status_code == 400 and "loopback" in answer.json()["message"]
