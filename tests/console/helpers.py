"""Helpers for console tests: a cookie-keeping client per person, logging in through the form."""

from __future__ import annotations

import re

import httpx
from fastapi.testclient import TestClient

from qumulus.services.tenancy import users
from qumulus.services.tenancy.access import CLI_ADMIN

PASSWORD = "console test password"
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def set_password(platform: object, email: str, password: str = PASSWORD) -> None:
    """What ``qumulus users set-password`` does."""
    users.set_password(platform, CLI_ADMIN, email=email, password=password)  # type: ignore[arg-type]


def csrf(response: httpx.Response) -> str:
    found = TOKEN.search(response.text)
    assert found, response.text[:500]
    return found.group(1)


def browser(app: object, base_url: str = "http://testserver") -> TestClient:
    """A separate cookie jar on the same app (not entered: the app's lifespan is the fixture's)."""
    return TestClient(app, base_url=base_url, raise_server_exceptions=False)  # type: ignore[arg-type]


def login(app: object, email: str, password: str = PASSWORD) -> TestClient:
    client = browser(app)
    form = client.get("/console/login")
    done = client.post(
        "/console/login",
        data={"email": email, "password": password, "csrf_token": csrf(form)},
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text[:500]
    return client
