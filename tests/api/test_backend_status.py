"""The backend status lifecycle through the REST API, with a real worker: who may change a status,
what each status does to queued work and new submissions, and what the status page shows."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from tests.api.conftest import bell_job
from tests.api.tenants import as_key, make_tenant, ok
from tests.conftest import Api

HELD_FOR_S = 2.5  # long enough for several claims (workers poll every second and are woken on submit)


def _set(api: Api, backend: str, status: str, message: str = "", **kw) -> dict:  # type: ignore[no-untyped-def]
    return ok(api.put(f"/v0.4/backends/{backend}/status", json={"status": status, "message": message}, **kw))


def _stays_queued(api: Api, job_id: str) -> None:
    deadline = time.monotonic() + HELD_FOR_S
    while time.monotonic() < deadline:
        assert api.get(f"/v0.4/jobs/{job_id}").json()["status"] in ("submitted", "ready")
        time.sleep(0.1)


def _page_entry(api: Api, backend: str) -> dict:
    page = ok(api.client.get("/v0.4/status"))  # public: no key
    return next(b for b in page["backends"] if b["backend"] == backend)


def test_an_administrator_sets_a_status_and_it_is_shown_audited_and_kept_in_history(api: Api) -> None:
    shown = _set(api, "qpu.aria-1", "degraded", "Elevated 2q error on pairs 3-4.")
    assert shown["status"] == "available" and shown["degraded"] is True
    assert shown["status_detail"] == "degraded"
    assert shown["status_message"] == "Elevated 2q error on pairs 3-4."
    entry = _page_entry(api, "qpu.aria-1")
    assert (entry["status"], entry["wire_status"], entry["message"]) == (
        "degraded",
        "available",
        "Elevated 2q error on pairs 3-4.",
    )
    _set(api, "qpu.aria-1", "major_outage", "Laser fault.")
    _set(api, "qpu.aria-1", "operational")
    history = ok(api.client.get("/v0.4/backends/qpu.aria-1/status/history"))["history"]
    assert [(h["status"], h["previous"]) for h in history] == [
        ("operational", "major_outage"),
        ("major_outage", "degraded"),
        ("degraded", "operational"),
    ]
    assert history[1]["message"] == "Laser fault."
    from qumulus.store.models import AuditEvent

    with api.platform.db.read() as session:  # type: ignore[attr-defined]
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "backend.status").order_by(AuditEvent.at)
        ).all()
    assert [e.details["status"] for e in events] == ["degraded", "major_outage", "operational"]
    assert all(e.target_id == "qpu.aria-1" and e.actor_key_id for e in events)


@pytest.mark.parametrize("role", ("owner", "admin", "member", "viewer"))
def test_nobody_but_a_platform_administrator_may_change_a_status(api: Api, role: str) -> None:
    tenant = make_tenant(api, "alpha")
    key = as_key(api, tenant.keys[role])
    refused = api.put("/v0.4/backends/simulator/status", json={"status": "maintenance"}, headers=key)
    assert refused.status_code == 403, refused.text
    window = {"starts_at": datetime.now(timezone.utc).isoformat(), "ends_at": "2100-01-01T00:00:00Z"}
    assert api.post("/v0.4/backends/simulator/maintenance", json=window, headers=key).status_code == 403
    assert _page_entry(api, "simulator")["status"] == "operational"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"status": "sleeping"}, "status"),
        ({"status": 3}, "status"),
        ({"message": "x"}, "status"),
        ({"status": "degraded", "colour": "red"}, "colour"),
        ({"status": "degraded", "message": "x" * 2001}, "message"),
    ],
)
def test_a_bad_status_body_is_a_400_naming_the_field(api: Api, body: dict, field: str) -> None:
    response = api.put("/v0.4/backends/simulator/status", json=body)
    assert response.status_code == 400, response.text
    assert response.json()["message"].startswith(field)


def test_unknown_backend_is_a_404(api: Api) -> None:
    assert api.put("/v0.4/backends/qpu.nope/status", json={"status": "degraded"}).status_code == 404
    assert api.client.get("/v0.4/backends/qpu.nope/status/history").status_code == 404


@pytest.mark.parametrize("status", ["maintenance", "major_outage"])
def test_jobs_queue_but_do_not_start_while_the_backend_is_down_and_start_after(api: Api, status: str) -> None:
    _set(api, "simulator", status, "Back soon.")
    job = ok(api.post("/v0.4/jobs", json=bell_job()), 201)
    _stays_queued(api, job["id"])
    _set(api, "simulator", "operational")
    assert api.wait(job["id"], timeout=30)["status"] == "completed"


@pytest.mark.parametrize("status", ["degraded", "partial_outage"])
def test_degraded_and_partial_outage_still_run_jobs(api: Api, status: str) -> None:
    _set(api, "simulator", status)
    job = ok(api.post("/v0.4/jobs", json=bell_job()), 201)
    assert api.wait(job["id"], timeout=30)["status"] == "completed"


def test_a_maintenance_window_holds_jobs_while_it_runs_and_its_cancellation_releases_them(api: Api) -> None:
    now = datetime.now(timezone.utc)
    window = ok(
        api.post(
            "/v0.4/backends/simulator/maintenance",
            json={
                "starts_at": (now - timedelta(minutes=1)).isoformat(),
                "ends_at": (now + timedelta(hours=1)).isoformat(),
                "message": "Replacing a vacuum pump.",
            },
        ),
        201,
    )
    entry = _page_entry(api, "simulator")
    assert (entry["status"], entry["wire_status"], entry["in_maintenance_window"]) == (
        "maintenance",
        "offline",
        window["id"],
    )
    assert entry["message"] == "Replacing a vacuum pump."
    assert ok(api.client.get("/v0.4/backends/simulator"))["status"] == "offline"
    job = ok(api.post("/v0.4/jobs", json=bell_job()), 201)  # still accepted: it queues
    _stays_queued(api, job["id"])
    ok(api.delete(f"/v0.4/backends/simulator/maintenance/{window['id']}"))
    assert api.wait(job["id"], timeout=30)["status"] == "completed"
    assert _page_entry(api, "simulator")["status"] == "operational"
    listed = ok(api.client.get("/v0.4/backends/simulator/status/history"))["maintenance"]
    assert [(w["id"], w["status"]) for w in listed] == [(window["id"], "canceled")]


def test_an_upcoming_window_is_announced_without_changing_the_status_now(api: Api) -> None:
    start = datetime.now(timezone.utc) + timedelta(days=2)
    ok(
        api.post(
            "/v0.4/backends/qpu.forte-1/maintenance",
            json={"starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=4)).isoformat()},
        ),
        201,
    )
    entry = _page_entry(api, "qpu.forte-1")
    assert entry["status"] == "operational" and entry["in_maintenance_window"] is None
    assert [w["starts_at"][:16] for w in entry["maintenance"]] == [start.isoformat()[:16]]
    bad = api.post(
        "/v0.4/backends/qpu.forte-1/maintenance",
        json={"starts_at": start.isoformat(), "ends_at": (start - timedelta(hours=1)).isoformat()},
    )
    assert bad.status_code == 400 and bad.json()["message"].startswith("ends_at")


def test_a_retired_backend_refuses_new_jobs_but_its_jobs_stay_retrievable(api: Api) -> None:
    job = ok(api.post("/v0.4/jobs", json=bell_job()), 201)
    assert api.wait(job["id"])["status"] == "completed"
    shown = _set(api, "simulator", "retired", "Replaced by simulator-2.")
    assert (shown["status"], shown["accepting_jobs"]) == ("retired", False)
    refused = api.post("/v0.4/jobs", json=bell_job())
    assert refused.status_code == 400
    assert "simulator" in refused.json()["message"] and "retired" in refused.json()["message"]
    old = ok(api.get(f"/v0.4/jobs/{job['id']}"))
    assert old["status"] == "completed"
    probabilities = ok(api.get(f"/v0.4/jobs/{job['id']}/results/probabilities"))
    assert set(probabilities) == {"0", "3"}


def test_qpu_characterizations_carry_the_wire_status_clients_read(api: Api) -> None:
    _set(api, "qpu.aria-1", "maintenance", "Calibrating.")
    latest = ok(api.client.get("/v0.4/backends/qpu.aria-1/characterizations?limit=1"))["characterizations"][0]
    assert latest["status"] == "offline"  # qiskit's backend.status() is False
    assert ok(api.get("/v0.4/calibrations/current"))["status"] == "offline"  # cirq (qpu.aria-1)
    listed = {b["backend"]: b for b in ok(api.get("/v0.4/backends"))}
    assert listed["qpu.aria-1"]["status"] == "offline" and listed["qpu.aria-2"]["status"] == "available"
    _set(api, "qpu.aria-1", "operational")
    latest = ok(api.client.get("/v0.4/backends/qpu.aria-1/characterizations?limit=1"))["characterizations"][0]
    assert latest["status"] == "available"


def test_a_job_queued_in_a_maintenance_window_starts_when_the_window_ends(api: Api) -> None:
    now = datetime.now(timezone.utc)
    ends = now + timedelta(seconds=3)
    ok(
        api.post(
            "/v0.4/backends/simulator/maintenance",
            json={"starts_at": now.isoformat(), "ends_at": ends.isoformat(), "message": "Short break."},
        ),
        201,
    )
    job = ok(api.post("/v0.4/jobs", json=bell_job()), 201)
    while datetime.now(timezone.utc) < ends - timedelta(seconds=0.5):
        assert api.get(f"/v0.4/jobs/{job['id']}").json()["status"] in ("submitted", "ready")
        time.sleep(0.1)
    done = api.wait(job["id"], timeout=30)
    assert done["status"] == "completed"
    started = datetime.fromisoformat(done["started_at"].replace("Z", "+00:00"))
    assert started >= ends
    assert _page_entry(api, "simulator")["status"] == "operational"
