"""Notifications end to end: a real SMTP server and a real HTTP receiver, jobs run by the runtime.

Failures are real: the stored circuit is damaged after validation (as in test_worker_failures), so
the simulator process raises and the completion marks the job failed.
"""

from __future__ import annotations

import dataclasses
import email
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy import select, update

from qumulus.notifications import signing, webhook
from qumulus.services.tenancy.keys import Authenticator, create_api_key
from qumulus.store.models import (
    Job,
    NotificationOutbox,
    Organization,
    OrganizationMember,
    Project,
    ProjectMember,
    User,
)
from tests.api.conftest import bell_job
from tests.conftest import Api, free_port, make_platform

# receivers ---------------------------------------------------------------------------------------


@dataclass
class Inbox:
    """What a local aiosmtpd server received."""

    messages: list[tuple[list[str], Message]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((list(envelope.rcpt_tos), email.message_from_bytes(envelope.content)))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


@dataclass
class Hit:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict[str, Any]:
        return json.loads(self.body)


class Receiver:
    """A local HTTP server that records POSTs and answers with the given statuses, then 200s."""

    def __init__(self, statuses: list[int] | None = None) -> None:
        self.hits: list[Hit] = []
        self.statuses = list(statuses or [])
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                receiver.hits.append(Hit(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(receiver.statuses.pop(0) if receiver.statuses else 200)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


# apps --------------------------------------------------------------------------------------------


@pytest.fixture
def make_api(settings) -> Iterator[Callable[..., Api]]:  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    from qumulus.api.app import create_app

    opened: list[TestClient] = []

    def build(*, run_jobs: bool, **overrides: object) -> Api:
        platform, key = make_platform(dataclasses.replace(settings, **overrides))
        client = TestClient(create_app(platform, run_jobs=run_jobs), raise_server_exceptions=False)
        client.__enter__()
        opened.append(client)
        return Api(client=client, key=key, platform=platform)

    yield build
    for client in opened:
        client.__exit__(None, None, None)


def until(check: Callable[[], Any], timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


def project_id(api: Api) -> str:
    return Authenticator(api.platform.db, api.platform.secret).authenticate(f"apiKey {api.key}").project_id  # type: ignore[attr-defined]


def submit_failing(api: Api) -> str:
    """A job accepted by the API whose stored circuit is then damaged: it fails when it runs."""
    job_id = api.post("/v0.4/jobs", json=bell_job(name="doomed")).json()["id"]
    with api.platform.db.write() as session:  # type: ignore[attr-defined]
        session.execute(update(Job).where(Job.id == job_id).values(input={"qubits": 2, "circuit": "garbage"}))
    return job_id


def outbox(api: Api, job_id: str) -> list[NotificationOutbox]:
    with api.platform.db.read() as session:  # type: ignore[attr-defined]
        return list(session.scalars(select(NotificationOutbox).where(NotificationOutbox.job_id == job_id)))


def add_webhook(api: Api, url: str, events: list[str] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"url": url}
    if events is not None:
        body["events"] = events
    created = api.post(f"/v0.4/projects/{project_id(api)}/webhooks", json=body)
    assert created.status_code == 201, created.text
    return created.json()


# failure emails ----------------------------------------------------------------------------------


def test_a_failed_job_emails_its_submitter_and_calls_the_failed_webhook(make_api, smtp, receiver) -> None:  # type: ignore[no-untyped-def]
    inbox, port = smtp
    api = make_api(run_jobs=False, smtp_host="127.0.0.1", smtp_port=port, smtp_starttls=False,
                   webhook_allow_private=True)  # fmt: skip
    hook = add_webhook(api, receiver.url, ["job.failed"])
    me = api.get("/v0.4/users/me").json()
    assert me["notify_on_failure"] is True
    job_id = submit_failing(api)
    api.platform.start_runtime()  # type: ignore[attr-defined]
    assert until(lambda: inbox.messages), "no email arrived"
    (recipients, message), *rest = inbox.messages
    assert rest == [] and recipients == [me["email"]]
    assert message["Subject"] == "[Qumulus] Job doomed failed"
    text = message.get_payload()
    assert job_id in text and "InvalidInput" in text
    assert until(lambda: receiver.hits)
    (hit,) = receiver.hits
    assert hit.headers["x-qumulus-event"] == "job.failed"
    assert signing.verify(
        hook["secret"], hit.headers["x-qumulus-timestamp"], hit.body, hit.headers["x-qumulus-signature"]
    )
    assert hit.json["job"]["id"] == job_id and hit.json["job"]["status"] == "failed"
    assert hit.json["job"]["failure"]["code"] == "InvalidInput"
    assert until(lambda: all(r.status == "delivered" for r in outbox(api, job_id)))
    assert sorted(r.channel for r in outbox(api, job_id)) == ["email", "webhook"]


def test_a_user_who_opted_out_gets_no_email(make_api, smtp) -> None:  # type: ignore[no-untyped-def]
    inbox, port = smtp
    api = make_api(run_jobs=False, smtp_host="127.0.0.1", smtp_port=port, smtp_starttls=False)
    changed = api.client.patch("/v0.4/users/me", json={"notify_on_failure": False}, headers=api.headers)
    assert changed.status_code == 200 and changed.json()["notify_on_failure"] is False
    assert api.get("/v0.4/users/me").json()["notify_on_failure"] is False
    job_id = submit_failing(api)
    api.platform.start_runtime()  # type: ignore[attr-defined]
    assert api.wait(job_id)["status"] == "failed"
    assert outbox(api, job_id) == []
    time.sleep(1.5)  # more than the notifier's poll interval
    assert inbox.messages == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"notify_on_failure": "no"}, "notify_on_failure"),
        ({}, "notify_on_failure"),
        ({"email": "x@y"}, "email"),
    ],
)
def test_profile_updates_are_validated(make_api, body: dict, field: str) -> None:  # type: ignore[no-untyped-def]
    api = make_api(run_jobs=False)
    response = api.client.patch("/v0.4/users/me", json=body, headers=api.headers)
    assert response.status_code == 400 and response.json()["validation"]["keys"] == [field]


# webhooks ----------------------------------------------------------------------------------------


def test_completed_jobs_are_posted_signed_once_per_job(make_api, receiver) -> None:  # type: ignore[no-untyped-def]
    api = make_api(run_jobs=True, webhook_allow_private=True)
    hook = add_webhook(api, receiver.url)
    assert hook["events"] == ["job.completed", "job.failed", "job.canceled"] and hook["secret"].startswith(
        "whsec_"
    )
    single = api.post("/v0.4/jobs", json=bell_job()).json()["id"]
    circuits = [{"circuit": [{"gate": "x", "target": 0}]}, {"circuit": [{"gate": "h", "target": 0}]}]
    multi = api.post(
        "/v0.4/jobs",
        json={
            "type": "ionq.multi-circuit.v1",
            "backend": "simulator",
            "input": {"qubits": 1, "circuits": circuits},
        },
    ).json()["id"]
    assert until(lambda: len(receiver.hits) >= 2)
    time.sleep(0.5)
    by_job = {h.json["job"]["id"]: h for h in receiver.hits}
    assert set(by_job) == {single, multi} and len(receiver.hits) == 2  # the circuits of a multi job: one call
    for job_id, hit in by_job.items():
        assert hit.path == "/hook" and hit.headers["x-qumulus-event"] == "job.completed"
        assert signing.verify(
            hook["secret"], hit.headers["x-qumulus-timestamp"], hit.body, hit.headers["x-qumulus-signature"]
        )
        assert not signing.verify(
            "whsec_wrong", hit.headers["x-qumulus-timestamp"], hit.body, hit.headers["x-qumulus-signature"]
        )
        assert (
            hit.json["event"] == "job.completed"
            and hit.json["delivery_id"] == hit.headers["x-qumulus-delivery"]
        )
        assert hit.json["job"] == api.get(f"/v0.4/jobs/{job_id}").json()  # the job's v0.4 JSON
    listed = api.get(f"/v0.4/projects/{project_id(api)}/webhooks").json()["webhooks"]
    assert [w["id"] for w in listed] == [hook["id"]] and "secret" not in listed[0]


def test_canceled_jobs_are_posted_and_deleted_webhooks_are_not(make_api, receiver) -> None:  # type: ignore[no-untyped-def]
    api = make_api(run_jobs=False, webhook_allow_private=True)
    api.platform.start_notifier()  # type: ignore[attr-defined]  # no workers: jobs stay queued
    hook = add_webhook(api, receiver.url, ["job.canceled"])
    job_id = api.post("/v0.4/jobs", json=bell_job()).json()["id"]
    assert api.put(f"/v0.4/jobs/{job_id}/status/cancel").status_code == 200
    assert until(lambda: receiver.hits)
    assert (
        receiver.hits[0].json["job"]["id"] == job_id and receiver.hits[0].json["job"]["status"] == "canceled"
    )
    deleted = api.delete(f"/v0.4/projects/{project_id(api)}/webhooks/{hook['id']}")
    assert deleted.status_code == 200
    other = api.post("/v0.4/jobs", json=bell_job()).json()["id"]
    assert api.put(f"/v0.4/jobs/{other}/status/cancel").status_code == 200
    assert outbox(api, other) == []
    assert api.get(f"/v0.4/projects/{project_id(api)}/webhooks").json() == {"webhooks": []}


def test_a_failed_delivery_is_retried_until_it_succeeds(make_api) -> None:  # type: ignore[no-untyped-def]
    flaky = Receiver(statuses=[500, 503])
    try:
        api = make_api(run_jobs=False, webhook_allow_private=True)
        api.platform.start_notifier()  # type: ignore[attr-defined]
        add_webhook(api, flaky.url, ["job.canceled"])
        job_id = api.post("/v0.4/jobs", json=bell_job()).json()["id"]
        api.put(f"/v0.4/jobs/{job_id}/status/cancel")
        assert until(lambda: outbox(api, job_id) and outbox(api, job_id)[0].status == "delivered", timeout=20)
        (row,) = outbox(api, job_id)
        assert row.attempts == 3 and row.last_error is None
        assert len(flaky.hits) == 3 and {h.headers["x-qumulus-delivery"] for h in flaky.hits} == {row.id}
    finally:
        flaky.close()


def test_completed_jobs_without_webhooks_write_no_notifications(make_api, smtp) -> None:  # type: ignore[no-untyped-def]
    _, port = smtp
    api = make_api(run_jobs=True, smtp_host="127.0.0.1", smtp_port=port, smtp_starttls=False)
    job_id = api.post("/v0.4/jobs", json=bell_job()).json()["id"]
    assert api.wait(job_id)["status"] == "completed"
    assert outbox(api, job_id) == []


# refusing private targets ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "word"),
    [
        ("http://127.0.0.1:9/hook", "loopback"),
        ("http://localhost:9/hook", "loopback"),
        ("http://169.254.169.254/latest/meta-data", "link-local"),
        ("http://10.0.0.1/", "private"),
        ("gopher://example.com/", "http or https"),
    ],
)
def test_private_targets_are_refused_without_the_setting(make_api, url: str, word: str) -> None:  # type: ignore[no-untyped-def]
    api = make_api(run_jobs=False)
    response = api.post(f"/v0.4/projects/{project_id(api)}/webhooks", json={"url": url})
    assert response.status_code == 400, response.text
    assert response.json()["validation"]["keys"] == ["url"] and word in response.json()["message"]
    assert api.get(f"/v0.4/projects/{project_id(api)}/webhooks").json() == {"webhooks": []}


def test_delivery_rechecks_the_target(receiver) -> None:  # type: ignore[no-untyped-def]
    """A name that resolved to a public address at creation and to a private one now is not called."""
    with pytest.raises(webhook.DeliveryFailed, match="loopback"):
        webhook.deliver("http://hooks.example.com/hook", "s", b"{}", event="job.completed", delivery_id="d",
                        allow_private=False, resolve=lambda host, port: ["127.0.0.1"])  # fmt: skip
    assert receiver.hits == []


# who may manage webhooks ---------------------------------------------------------------------------


def member_key(api: Api, role: str) -> str:
    me = Authenticator(api.platform.db, api.platform.secret).authenticate(f"apiKey {api.key}")  # type: ignore[attr-defined]
    with api.platform.db.write() as session:  # type: ignore[attr-defined]
        user = User(email=f"{role}@example.com", name=role)
        session.add(user)
        session.flush()
        session.add(OrganizationMember(organization_id=me.organization_id, user_id=user.id, role="member"))
        session.add(ProjectMember(project_id=me.project_id, user_id=user.id, role=role))
        _, key = create_api_key(
            session, secret=api.platform.secret, project_id=me.project_id, user_id=user.id
        )  # type: ignore[attr-defined]
    return key


def test_webhooks_are_for_project_admins_and_other_tenants_projects_do_not_exist(make_api, receiver) -> None:  # type: ignore[no-untyped-def]
    api = make_api(run_jobs=False, webhook_allow_private=True)
    pid = project_id(api)
    member = {"Authorization": f"apiKey {member_key(api, 'member')}"}
    for call in (
        lambda: api.client.get(f"/v0.4/projects/{pid}/webhooks", headers=member),
        lambda: api.client.post(f"/v0.4/projects/{pid}/webhooks", json={"url": receiver.url}, headers=member),
    ):
        response = call()
        assert response.status_code == 403 and "webhook.manage" in response.json()["message"]
    # a member still manages their own notification preference
    assert (
        api.client.patch("/v0.4/users/me", json={"notify_on_failure": False}, headers=member).status_code
        == 200
    )
    with api.platform.db.write() as session:  # type: ignore[attr-defined]
        org = Organization(name="Other", slug="other")
        session.add(org)
        session.flush()
        foreign = Project(organization_id=org.id, name="theirs")
        session.add(foreign)
        session.flush()
        foreign_id = foreign.id
    admin = {"Authorization": f"apiKey {member_key(api, 'admin')}"}  # a project admin, not a platform admin
    assert api.client.get(f"/v0.4/projects/{pid}/webhooks", headers=admin).status_code == 200
    for headers in (admin, member):
        assert api.client.get(f"/v0.4/projects/{foreign_id}/webhooks", headers=headers).status_code == 404
        assert (
            api.client.post(
                f"/v0.4/projects/{foreign_id}/webhooks", json={"url": receiver.url}, headers=headers
            )
        ).status_code == 404
    assert api.get("/v0.4/projects/no-such-project/webhooks").status_code == 404
    assert api.delete(f"/v0.4/projects/{pid}/webhooks/no-such-hook").status_code == 404
