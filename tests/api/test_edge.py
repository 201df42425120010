"""The edge: what every request body and date goes through, and the answers a client relies on.

Each test posts what a probe of issues 16 and 17 posted and checks the user-visible outcome: a 4xx
naming the field, nothing stored, the one job a retry asked for. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.api.conftest import bell_job
from tests.conftest import Api

FAR_FUTURE = "9999-12-31T23:59:59-14:00"
FAR_PAST = "0001-01-01T00:00:00+14:00"


def refused(response, field: str, status: int = 400) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == status, (response.status_code, response.text)
    body = response.json()
    assert body["statusCode"] == status and body["error"], body
    assert field in body["message"], body
    return body


def whoami(api: Api) -> dict:
    return api.get("/v0.4/whoami").json()


# --- idempotency ------------------------------------------------------------------------------------


def test_parallel_retries_with_one_key_all_answer_the_one_job(idle_api: Api) -> None:
    headers = {"Idempotency-Key": "retry-storm"}
    with ThreadPoolExecutor(8) as pool:
        answers = list(
            pool.map(lambda _: idle_api.post("/v0.4/jobs", json=bell_job(), headers=headers), range(16))
        )
    assert {a.status_code for a in answers} == {201}, [a.text for a in answers if a.status_code != 201]
    assert len({a.json()["id"] for a in answers}) == 1
    assert len(idle_api.get("/v0.4/jobs").json()["jobs"]) == 1


def test_a_lost_insert_race_is_the_databases_integrity_error_on_every_path(idle_api: Api) -> None:
    """Two submissions planned before either inserts (what parallel retries do): the second insert's
    conflict must be SQLAlchemy's IntegrityError (the SQLite fast path raised sqlite3's, a 500)."""
    from sqlalchemy.exc import IntegrityError

    from qumulus.services.jobs.submission import plan_submission
    from qumulus.wire.requests import parse_job_request

    platform = idle_api.platform
    who = idle_api.client.app.state.authenticator.authenticate(f"apiKey {idle_api.key}")  # type: ignore[attr-defined]
    first, second = (
        plan_submission(platform, who, parse_job_request(bell_job(), idempotency_key="race"))  # type: ignore[arg-type]
        for _ in range(2)
    )
    platform.committer.run(first)  # type: ignore[attr-defined]
    with pytest.raises(IntegrityError):
        platform.committer.run(second)  # type: ignore[attr-defined]


def test_a_key_reused_with_another_request_is_refused(idle_api: Api) -> None:
    headers = {"Idempotency-Key": "k-1"}
    made = idle_api.post("/v0.4/jobs", json=bell_job(shots=100), headers=headers)
    assert made.status_code == 201
    # The same request again (keys in another order, other spacing): the same job.
    same = idle_api.post(
        "/v0.4/jobs",
        content=json.dumps(dict(reversed(list(bell_job(shots=100).items()))), indent=2),
        headers={**headers, "Content-Type": "application/json"},
    )
    assert same.status_code == 201 and same.json()["id"] == made.json()["id"]
    other = idle_api.post("/v0.4/jobs", json=bell_job(shots=200), headers=headers)
    refused(other, "Idempotency-Key", 422)
    assert len(idle_api.get("/v0.4/jobs").json()["jobs"]) == 1
    # Job sets keep the same rule.
    circuits = [{"circuit": [{"gate": "h", "target": 0}]}]
    first = idle_api.post(
        "/v0.4/job_sets", json={"backend": "simulator", "circuits": circuits}, headers=headers
    )
    assert first.status_code == 201
    again = idle_api.post(
        "/v0.4/job_sets", json={"backend": "simulator", "circuits": circuits}, headers=headers
    )
    assert again.status_code == 201 and again.json()["id"] == first.json()["id"]
    changed = idle_api.post(
        "/v0.4/job_sets", json={"backend": "simulator", "circuits": circuits, "shots": 7}, headers=headers
    )
    refused(changed, "Idempotency-Key", 422)


# --- dates ------------------------------------------------------------------------------------------


def test_far_dates_are_a_400_naming_the_field_and_store_nothing(idle_api: Api) -> None:
    me = whoami(idle_api)
    project, org = me["project_id"], me["organization_id"]
    budgets = f"/v0.4/projects/{project}/budgets"
    for period in ("month", "week", "day"):
        refused(
            idle_api.post(budgets, json={"limit": 5, "period": period, "period_start": "9999-12-01"}),
            "period_start",
        )
    refused(
        idle_api.post(
            budgets,
            json={"limit": 5, "period": "custom", "period_start": "2025-01-01", "period_end": FAR_FUTURE},
        ),
        "period_end",
    )
    assert idle_api.get(budgets).json()["budgets"] == []

    keys = f"/v0.4/projects/{project}/keys"
    before = len(idle_api.get(keys).json()["keys"])
    refused(idle_api.post(keys, json={"name": "far", "expires_at": FAR_FUTURE}), "expires_at")
    assert len(idle_api.get(keys).json()["keys"]) == before  # no key row committed behind a 4xx

    reservations = f"/v0.4/organizations/{org}/reservations"
    for starts, ends in ((FAR_FUTURE, FAR_FUTURE), (FAR_PAST, "2030-01-01T00:00:00Z")):
        body = {"backend": "qpu.forte-1", "starts_at": starts, "ends_at": ends}
        refused(idle_api.post(reservations, json=body), "starts_at")
    window = {"starts_at": "2030-01-01T00:00:00Z", "ends_at": FAR_FUTURE}
    refused(idle_api.post("/v0.4/backends/simulator/maintenance", json=window), "ends_at")

    refused(idle_api.get("/v0.4/usage", params={"from": "0001-01-01T00:00:00+14:00"}), "from")
    refused(idle_api.get("/v0.4/usage", params={"to": "1e300"}), "to")
    refused(idle_api.get("/v0.4/jobs", params={"created_after": FAR_PAST}), "created_after")
    # The ends of the supported range are accepted.
    assert (
        idle_api.get("/v0.4/usage", params={"from": "1970-01-01T00:00:00Z", "to": "9000-01-01"}).status_code
        == 200
    )


# --- strict bodies, names, numbers ------------------------------------------------------------------


def test_sessions_refuse_server_owned_fields_and_limits_out_of_range(idle_api: Api) -> None:
    for field in ("project_id", "organization_id", "status", "id", "creator_id"):
        refused(idle_api.post("/v0.4/sessions", json={"backend": "simulator", field: "x"}), field)
    huge = "1" + "0" * 400
    for settings, field in (
        ({"duration_limit_min": 1e30}, "duration_limit_min"),
        ({"cost_limit": {"unit": "usd", "value": 1e30}}, "cost_limit.value"),
        ({"job_count_limit": 10**12}, "job_count_limit"),
        ({"max_jobs": 3}, "max_jobs"),
    ):
        refused(idle_api.post("/v0.4/sessions", json={"backend": "simulator", "settings": settings}), field)
    raw = '{"backend": "simulator", "settings": {"duration_limit_min": ' + huge + "}}"
    assert idle_api.post("/v0.4/sessions", content=raw).status_code == 400
    raw = '{"backend": "simulator", "settings": {"cost_limit": {"unit": "usd", "value": ' + huge + "}}}"
    assert idle_api.post("/v0.4/sessions", content=raw).status_code == 400
    assert idle_api.get("/v0.4/sessions").json()["sessions"] == []
    # qiskit's numeric strings still work
    made = idle_api.post(
        "/v0.4/sessions", json={"backend": "simulator", "settings": {"duration_limit_min": "10"}}
    )
    assert made.status_code == 201, made.text
    assert idle_api.get("/v0.4/sessions").status_code == 200


def test_one_name_rule_for_every_name(idle_api: Api) -> None:
    me = whoami(idle_api)
    long = "n" * 10_000
    org, project = me["organization_id"], me["project_id"]
    refused(idle_api.post("/v0.4/organizations", json={"name": long}), "name")
    refused(idle_api.post(f"/v0.4/organizations/{org}/projects", json={"name": long}), "name")
    refused(idle_api.post(f"/v0.4/projects/{project}/keys", json={"name": long}), "name")
    refused(
        idle_api.post(f"/v0.4/organizations/{org}/members", json={"email": "a@b.test", "name": long}), "name"
    )
    refused(idle_api.post("/v0.4/jobs", json=bell_job(name=long)), "name")
    refused(idle_api.post("/v0.4/jobs", json=bell_job(name="bad\nname")), "name")
    members = idle_api.get(f"/v0.4/organizations/{org}/members").json()["members"]
    assert all(m["email"] != "a@b.test" for m in members)  # not stored with a cut name
    ok = idle_api.post(f"/v0.4/organizations/{org}/members", json={"email": "c@d.test", "name": "n" * 200})
    assert ok.status_code == 201, ok.text


def test_deep_nesting_and_lone_surrogates_are_refused_at_submission(idle_api: Api) -> None:
    deep: dict = {}
    node = deep
    for _ in range(900):
        node["k"] = {}
        node = node["k"]
    refused(idle_api.post("/v0.4/jobs", content=json.dumps(bell_job(settings=deep))), "settings.k.k")
    gate = {"gate": "h", "target": 0, "extra": deep}
    body = bell_job(input={"qubits": 1, "circuit": [gate]})
    refused(idle_api.post("/v0.4/jobs", content=json.dumps(body)), "input.circuit[0].extra")
    lone = "\ud800"
    for body, field in (
        (bell_job(name=f"x{lone}"), "name"),
        (bell_job(tags=["ok", lone]), "tags[1]"),
        (bell_job(metadata={"m": lone}), "metadata.m"),
        (bell_job(metadata={lone: "v"}), "metadata."),
    ):
        refused(idle_api.post("/v0.4/jobs", content=json.dumps(body)), field)
    assert idle_api.get("/v0.4/jobs").json()["jobs"] == []
    me = whoami(idle_api)
    org = me["organization_id"]
    for path, body, field in (
        ("/v0.4/organizations", {"name": lone}, "name"),
        (f"/v0.4/organizations/{org}/projects", {"name": f"p{lone}"}, "name"),
        (f"/v0.4/organizations/{org}/members", {"email": f"a{lone}@b.test"}, "email"),
        ("/v0.4/backends/simulator/status", {"status": "available", "message": lone}, "message"),
    ):
        method = idle_api.put if path.endswith("/status") else idle_api.post
        refused(method(path, content=json.dumps(body)), field)
    # an API key's name, and a stored job's tags changed with PATCH (the issue saw PATCH save the bad
    # tag, then every read of the job and of the project's list answer 500)
    project = me["project_id"]
    keys_before = idle_api.get(f"/v0.4/projects/{project}/keys").json()
    refused(idle_api.post(f"/v0.4/projects/{project}/keys", content=json.dumps({"name": f"k{lone}"})), "name")
    assert idle_api.get(f"/v0.4/projects/{project}/keys").json() == keys_before  # no key made
    job = idle_api.post("/v0.4/jobs", json=bell_job(tags=["kept"])).json()["id"]
    for body, field in (({"tags": ["ok", lone]}, "tags[1]"), ({"tags": [f"a{lone}b"]}, "tags[0]")):
        patched = idle_api.client.patch(
            f"/v0.4/jobs/{job}", content=json.dumps(body), headers=idle_api.headers
        )
        refused(patched, field)
    assert idle_api.get(f"/v0.4/jobs/{job}").json()["tags"] == ["kept"]  # unchanged, and readable
    assert idle_api.get("/v0.4/jobs").status_code == 200  # nothing stored that breaks a list


def test_integers_past_64_bits_are_a_400(idle_api: Api) -> None:
    raw = '{"tier": ' + "9" * 30 + "}"
    job = idle_api.post("/v0.4/jobs", json=bell_job()).json()["id"]
    assert idle_api.put(f"/v0.4/jobs/{job}/priority", content=raw).status_code == 400
    raw = json.dumps(bell_job(noise={"model": "ideal", "seed": 1})).replace(
        '"seed": 1', '"seed": ' + "9" * 25
    )
    assert idle_api.post("/v0.4/jobs", content=raw).status_code == 400


def test_job_fields_have_strict_types(idle_api: Api) -> None:
    """Each of these was accepted and then broke later or ran differently than asked."""
    pauli = {"gate": "pauliexp", "targets": [0], "terms": ["X"], "coefficients": [1e200], "time": 1e200}
    for body, field, status in (
        (bell_job(noise={"model": "ideal", "seed": -1}), "noise.seed", 400),
        (bell_job(noise={"model": "ideal", "seed": 1.5}), "noise.seed", 400),
        (bell_job(noise={"model": "ideal", "sed": 1}), "noise.sed", 400),
        (bell_job(settings={"error_mitigation": "on"}), "settings.error_mitigation", 400),
        (
            bell_job(settings={"error_mitigation": {"debiasing": "yes"}}),
            "settings.error_mitigation.debiasing",
            400,
        ),
        (bell_job(error_mitigation={"debias": "no"}), "error_mitigation.debias", 400),
        (bell_job(input={"format": "ionq.circuit.v9", "qubits": 1, "circuit": []}), "input.format", 422),
        (bell_job(input={"qubits": 1, "circuit": [pauli]}), "time", 422),
    ):
        refused(idle_api.post("/v0.4/jobs", json=body), field, status)
    assert idle_api.get("/v0.4/jobs").json()["jobs"] == []
    # what clients really send still works
    for body in (
        bell_job(noise={"model": "ideal", "seed": None}, settings={"error_mitigation": {"debiasing": False}}),
        bell_job(error_mitigation={"debias": True}, lang="json", foo="bar"),
    ):
        assert idle_api.post("/v0.4/jobs", json=body).status_code == 201


def test_an_empty_or_non_finite_distribution_is_never_a_result() -> None:
    import numpy as np

    from qumulus.runtime.tasks import _meaningful

    assert not _meaningful(np.array([]))
    assert not _meaningful(np.array([np.nan, 0.5]))
    assert not _meaningful(np.zeros(4))
    assert _meaningful(np.array([0.5, 0.5]))


def test_a_webhook_host_label_over_63_characters_is_a_400(idle_api: Api) -> None:
    project = whoami(idle_api)["project_id"]
    url = f"https://{'a' * 64}.example.com/hook"
    refused(idle_api.post(f"/v0.4/projects/{project}/webhooks", json={"url": url}), "url")
    refused(
        idle_api.post(f"/v0.4/projects/{project}/webhooks", json={"url": "https://x.test", "secret": "s"}),
        "secret",
    )


def test_the_ends_of_the_date_range_are_accepted_and_render(idle_api: Api) -> None:
    """Render before commit: whatever the edge accepts, the answer (built after the commit) can be
    rendered, at both ends of the range and with the widest offsets."""
    me = whoami(idle_api)
    project, org = me["project_id"], me["organization_id"]
    key = idle_api.post(
        f"/v0.4/projects/{project}/keys", json={"name": "edge", "expires_at": "9000-01-01T00:00:00Z"}
    )
    assert key.status_code == 201 and key.json()["expires_at"].startswith("9000-01-01"), key.text
    budget = idle_api.post(
        f"/v0.4/projects/{project}/budgets",
        json={"limit": "999999999999.999999", "period": "month", "period_start": "8999-12-31T23:59:59-00:00"},
    )
    assert budget.status_code == 201, budget.text
    window = {"backend": "qpu.forte-1", "starts_at": "8999-12-31T00:00:00+14:00", "ends_at": "9000-01-01"}
    reservation = idle_api.post(f"/v0.4/organizations/{org}/reservations", json=window)
    assert reservation.status_code == 201, reservation.text
    for path in (
        f"/v0.4/projects/{project}/keys",
        f"/v0.4/projects/{project}/budgets",
        f"/v0.4/organizations/{org}/reservations",
    ):
        assert idle_api.get(path).status_code == 200


def test_bulk_bodies_refuse_unknown_fields(idle_api: Api) -> None:
    job = idle_api.post("/v0.4/jobs", json=bell_job()).json()["id"]
    for method, path in (
        ("PUT", "/v0.4/jobs/status/cancel"),
        ("DELETE", "/v0.4/jobs"),
        ("POST", "/v0.4/jobs/status"),
    ):
        answer = idle_api.client.request(
            method, path, json={"ids": [job], "status": "completed"}, headers=idle_api.headers
        )
        refused(answer, "status")
    assert idle_api.get(f"/v0.4/jobs/{job}").json()["status"] == "ready"
