"""Sessions over REST (wire spec §8.1): create, read, list, end, limits, and tenancy."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import insert, update

from qumulus.store.models import Contract, new_id
from qumulus.store.models import Session as JobSession
from qumulus.timeutil import utcnow
from tests.api.conftest import bell_job
from tests.api.tenants import as_key, make_tenant, ok
from tests.conftest import Api


def open_session(api: Api, **settings: object) -> dict:
    return ok(api.post("/v0.4/sessions", json={"backend": "simulator", "settings": settings}), 201)


def test_create_get_end_and_jobs_carry_the_session(api: Api) -> None:
    created = open_session(api, job_count_limit=5)
    assert created["status"] == created["state"] == "created" and created["active"] is True
    assert created["backend"] == "simulator" and created["settings"] == {"job_count_limit": 5}

    job = ok(api.post("/v0.4/jobs", json=bell_job(session_id=created["id"])), 201)
    assert job["session_id"] == created["id"]
    assert api.wait(job["id"])["session_id"] == created["id"]
    listed = ok(api.get("/v0.4/jobs", params={"session_id": created["id"]}))["jobs"]
    assert [j["id"] for j in listed] == [job["id"]]

    got = ok(api.get(f"/v0.4/sessions/{created['id']}"))
    assert got["state"] == "started" and got["started_at"] and got["job_count"] == 1
    assert got["usage_time"] > 0  # the completed job's ledger seconds

    ended = ok(api.post(f"/v0.4/sessions/{created['id']}/end"))
    assert ended["state"] == ended["status"] == "ended" and ended["active"] is False and ended["ended_at"]
    assert ok(api.put(f"/v0.4/sessions/{created['id']}/end"))["state"] == "ended"  # idempotent, PUT too

    refused = api.post("/v0.4/jobs", json=bell_job(session_id=created["id"]))
    assert refused.status_code == 409 and "ended" in refused.json()["message"]
    assert refused.json()["validation"]["keys"] == ["session_id"]


def test_job_count_limit_refuses_the_next_job_and_ends_the_session(api: Api) -> None:
    session = open_session(api, job_count_limit=2)
    for _ in range(2):
        ok(api.post("/v0.4/jobs", json=bell_job(session_id=session["id"])), 201)
    third = api.post("/v0.4/jobs", json=bell_job(session_id=session["id"]))
    assert third.status_code == 409, third.text
    assert "job count limit (2 jobs)" in third.json()["message"]
    assert ok(api.get(f"/v0.4/sessions/{session['id']}"))["state"] == "ended"


def test_duration_limit_ends_the_session(api: Api) -> None:
    session = open_session(api, duration_limit_min="1")  # qiskit passes max_time through as given
    assert session["settings"]["duration_limit_min"] == 1.0
    ok(api.post("/v0.4/jobs", json=bell_job(session_id=session["id"])), 201)
    with api.platform.db.begin() as conn:  # type: ignore[attr-defined]
        conn.execute(
            update(JobSession)
            .where(JobSession.id == session["id"])
            .values(started_at=utcnow() - timedelta(minutes=2))
        )
    late = api.post("/v0.4/jobs", json=bell_job(session_id=session["id"]))
    assert late.status_code == 409 and "duration limit (1 minutes)" in late.json()["message"]
    assert ok(api.get(f"/v0.4/sessions/{session['id']}"))["state"] == "ended"


def test_cost_limit_from_the_usage_ledger(api: Api) -> None:
    org = api.get("/v0.4/whoami").json()["organization_id"]
    with api.platform.db.begin() as conn:  # type: ignore[attr-defined]
        # Bill the simulator at $1 per second (bootstrap gives it a free contract; else add one).
        billed = conn.execute(
            update(Contract)
            .where(Contract.organization_id == org, Contract.backend == "simulator")
            .values(rate_per_second=Decimal(1))
        ).rowcount
        if not billed:
            conn.execute(
                insert(Contract).values(
                    id=new_id(),
                    organization_id=org,
                    backend="simulator",
                    rate_per_second=Decimal(1),
                    starts_at=utcnow() - timedelta(days=1),
                )
            )
    session = open_session(api, cost_limit={"unit": "usd", "value": 0.000001})
    first = ok(api.post("/v0.4/jobs", json=bell_job(session_id=session["id"])), 201)
    assert api.wait(first["id"])["status"] == "completed"
    body = ok(api.get(f"/v0.4/sessions/{session['id']}"))
    assert body["cost"] >= 0.000001 and body["state"] == "ended", body
    refused = api.post("/v0.4/jobs", json=bell_job(session_id=session["id"]))
    assert refused.status_code == 409 and "ended" in refused.json()["message"]


def test_list_is_newest_first_and_cursor_paged(api: Api) -> None:
    ids = [open_session(api)["id"] for _ in range(3)]
    first = ok(api.get("/v0.4/sessions", params={"limit": 2}))
    assert [s["id"] for s in first["sessions"]] == ids[::-1][:2]
    second = ok(api.get("/v0.4/sessions", params={"limit": 2, "next": first["next"]}))
    assert [s["id"] for s in second["sessions"]] == ids[:1] and "next" not in second


def test_bad_input_is_a_400_naming_the_field(api: Api) -> None:
    cases = [
        ({"settings": {}}, "backend"),
        ({"backend": "nope"}, "backend"),
        ({"backend": "simulator", "settings": {"job_count_limit": 0}}, "settings.job_count_limit"),
        ({"backend": "simulator", "settings": {"duration_limit_min": "soon"}}, "settings.duration_limit_min"),
        (
            {"backend": "simulator", "settings": {"cost_limit": {"unit": "eur", "value": 1}}},
            "settings.cost_limit.unit",
        ),
        ({"backend": "simulator", "settings": {"cost_limit": {"value": -1}}}, "settings.cost_limit.value"),
        ({"backend": "simulator", "settings": []}, "settings"),
    ]
    for body, field in cases:
        response = api.post("/v0.4/sessions", json=body)
        assert response.status_code == 400, (body, response.text)
        assert response.json()["validation"]["keys"] == [field], (body, response.json())
    assert api.get("/v0.4/sessions", params={"limit": "x"}).status_code == 400
    assert api.get("/v0.4/sessions", params={"next": "garbage"}).status_code == 400


def test_a_session_on_another_backend_refuses_the_job(api: Api) -> None:
    session = ok(api.post("/v0.4/sessions", json={"backend": "qpu.aria-1"}), 201)
    response = api.post("/v0.4/jobs", json=bell_job(session_id=session["id"]))
    assert response.status_code == 400 and "qpu.aria-1" in response.json()["message"]


def test_another_tenants_session_is_not_found(api: Api) -> None:
    mine = open_session(api)
    other = make_tenant(api, "beta")
    theirs = as_key(api, other.keys["member"])
    for call in (
        lambda: api.get(f"/v0.4/sessions/{mine['id']}", headers=theirs),
        lambda: api.post(f"/v0.4/sessions/{mine['id']}/end", headers=theirs),
        lambda: api.post("/v0.4/jobs", json=bell_job(session_id=mine["id"]), headers=theirs),
    ):
        assert call().status_code == 404
    assert ok(api.get("/v0.4/sessions", headers=theirs))["sessions"] == []
    assert ok(api.get(f"/v0.4/sessions/{mine['id']}"))["state"] == "created"  # untouched
