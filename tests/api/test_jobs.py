"""The job lifecycle through the REST API, on SQLite and PostgreSQL."""

from __future__ import annotations

import math

import pytest

from tests.api.conftest import BELL, bell_job
from tests.conftest import Api


def test_bell_job_completes_with_exact_probabilities(api: Api) -> None:
    created = api.post("/v0.4/jobs", json=bell_job(name="bell", metadata={"b": "2", "a": "1"}))
    assert created.status_code == 201
    body = created.json()
    assert set(body) == {"id", "status", "session_id"}
    job = api.wait(body["id"])
    assert job["status"] == "completed"
    assert job["name"] == "bell"
    assert list(job["metadata"]) == ["b", "a"]  # echoed verbatim, order kept
    assert job["stats"] == {"qubits": 2, "circuits": 1, "gate_counts": {"1q": 1, "2q": 1}}
    assert job["results"]["probabilities"]["url"] == f"/v0.4/jobs/{body['id']}/results/probabilities"
    assert "failure" not in job and "warning" not in job
    for step in ("submitted_at", "ready_at", "started_at", "completed_at"):
        assert job[step].endswith("Z") and "." in job[step]
    assert job["submitted_at"] <= job["ready_at"] <= job["started_at"] <= job["completed_at"]
    probs = api.get(job["results"]["probabilities"]["url"]).json()
    assert set(probs) == {"0", "3"}
    assert math.isclose(probs["0"], 0.5, abs_tol=1e-12) and math.isclose(probs["3"], 0.5, abs_tol=1e-12)


def test_little_endian_keys(api: Api) -> None:
    payload = {"qubits": 3, "circuit": [{"gate": "x", "targets": [0]}, {"gate": "x", "targets": [2]}]}
    job = api.wait(api.post("/v0.4/jobs", json={"backend": "simulator", "input": payload}).json()["id"])
    assert api.get(f"/v0.4/jobs/{job['id']}/results/probabilities").json() == {"5": 1.0}


def test_multi_circuit_children_in_order(api: Api) -> None:
    circuits = [
        {"name": "first", "circuit": [{"gate": "x", "target": 0}]},
        {"name": "second", "circuit": [{"gate": "x", "target": 1}]},
        {"name": "third", "circuit": [{"gate": "h", "target": 0}]},
    ]
    created = api.post(
        "/v0.4/jobs",
        json={
            "type": "ionq.multi-circuit.v1",
            "backend": "simulator",
            "input": {"qubits": 2, "circuits": circuits},
        },
    ).json()
    parent = api.wait(created["id"])
    assert parent["status"] == "completed"
    assert parent["stats"]["circuits"] == 3
    children = parent["child_job_ids"]
    assert len(children) == 3
    probs = api.get(f"/v0.4/jobs/{created['id']}/results/probabilities").json()
    assert list(probs) == children  # circuit order
    assert probs[children[0]] == {"1": 1.0}
    assert probs[children[1]] == {"2": 1.0}
    assert probs[children[2]] == pytest.approx({"0": 0.5, "1": 0.5})
    assert api.get(f"/v0.4/jobs/{created['id']}/results/probabilities/aggregated").json() == probs
    child = api.get(f"/v0.4/jobs/{children[1]}").json()
    assert child["parent_job_id"] == created["id"] and child["name"] == "second"
    assert api.get(f"/v0.4/jobs/{children[1]}/results/probabilities").json() == {"2": 1.0}


def test_v03_shapes(api: Api) -> None:
    body = {
        "target": "simulator",
        "shots": 10,
        "input": {"format": "ionq.circuit.v0", **BELL},
        "error_mitigation": {"debias": False},
    }
    created = api.post("/v0.3/jobs", json=body)
    assert created.status_code == 201
    job_id = created.json()["id"]
    api.wait(job_id)
    job = api.get(f"/v0.3/jobs/{job_id}").json()
    assert job["status"] == "completed" and job["target"] == "simulator"
    assert isinstance(job["request"], int) and isinstance(job["response"], int)
    assert job["results_url"] == f"/v0.3/jobs/{job_id}/results"
    assert api.get(job["results_url"]).json() == pytest.approx({"0": 0.5, "3": 0.5})


def test_histogram_and_shots_are_real_counts_and_reproducible(api: Api) -> None:
    job_id = api.post("/v0.4/jobs", json=bell_job(shots=1000, noise={"model": "ideal", "seed": 7})).json()[
        "id"
    ]
    api.wait(job_id)
    histogram = api.get(f"/v0.4/jobs/{job_id}/results/histogram").json()
    shots = api.get(f"/v0.4/jobs/{job_id}/results/shots").json()
    assert sum(histogram.values()) == 1000 and set(histogram) <= {"0", "3"}
    assert len(shots) == 1000
    assert {str(k): shots.count(k) for k in set(shots)} == histogram
    # binomial(1000, 0.5): 5 sigma is ±79
    assert abs(histogram["0"] - 500) < 79
    assert api.get(f"/v0.4/jobs/{job_id}/results/histogram").json() == histogram


def test_idempotency_key_returns_the_same_job(api: Api) -> None:
    headers = {"Idempotency-Key": "retry-123"}
    first = api.post("/v0.4/jobs", json=bell_job(), headers=headers).json()
    second = api.post("/v0.4/jobs", json=bell_job(), headers=headers).json()
    assert first["id"] == second["id"]
    listed = api.get("/v0.4/jobs", params={"limit": 100}).json()["jobs"]
    assert [j["id"] for j in listed].count(first["id"]) == 1
    assert len(listed) == 1


def test_list_pages_with_cursor_and_omits_next_on_last_page(api: Api) -> None:
    ids = [api.post("/v0.4/jobs", json=bell_job(name=f"j{i}")).json()["id"] for i in range(5)]
    seen: list[str] = []
    page = api.get("/v0.4/jobs", params={"limit": 2}).json()
    while True:
        seen.extend(j["id"] for j in page["jobs"])
        if "next" not in page:
            break
        page = api.get("/v0.4/jobs", params={"limit": 2, "next": page["next"]}).json()
    assert sorted(seen) == sorted(ids) and len(seen) == 5
    assert seen == list(reversed(ids))  # newest first
    # cirq sends the limit as a JSON body on a GET
    body_limited = api.client.request("GET", "/v0.4/jobs", headers=api.headers, json={"limit": 3}).json()
    assert len(body_limited["jobs"]) == 3 and "next" in body_limited


def test_delete_then_404(api: Api) -> None:
    job_id = api.post("/v0.4/jobs", json=bell_job()).json()["id"]
    api.wait(job_id)
    deleted = api.delete(f"/v0.4/jobs/{job_id}")
    assert deleted.status_code == 200 and deleted.json() == {"id": job_id, "status": "deleted"}
    gone = api.get(f"/v0.4/jobs/{job_id}")
    assert gone.status_code == 404
    assert gone.json()["statusCode"] == 404 and gone.json()["error"] == "Not Found Error"
    assert api.get(f"/v0.4/jobs/{job_id}/results/probabilities").status_code == 404


def test_cancel_queued_job_and_finished_job_conflict(idle_api: Api) -> None:
    job_id = idle_api.post("/v0.4/jobs", json=bell_job()).json()["id"]
    assert idle_api.get(f"/v0.4/jobs/{job_id}").json()["status"] == "ready"
    canceled = idle_api.put(f"/v0.4/jobs/{job_id}/status/cancel")
    assert canceled.status_code == 200 and canceled.json() == {"id": job_id, "status": "canceled"}
    job = idle_api.get(f"/v0.4/jobs/{job_id}").json()
    assert job["status"] == "canceled" and job["results"] is None and "failure" not in job
    assert idle_api.put(f"/v0.4/jobs/{job_id}/status/cancel").json()["status"] == "canceled"
    results = idle_api.get(f"/v0.4/jobs/{job_id}/results/probabilities")
    assert results.status_code == 400


def test_canceling_a_completed_job_answers_its_status(api: Api) -> None:
    """As IonQ answers: 200 with the job's current status (cirq-ionq's ``job.cancel()`` raises on an
    error status); the job stays completed with its results."""
    job_id = api.post("/v0.4/jobs", json=bell_job()).json()["id"]
    api.wait(job_id)
    answer = api.put(f"/v0.4/jobs/{job_id}/status/cancel")
    assert answer.status_code == 200 and answer.json() == {"id": job_id, "status": "completed"}
    assert api.get(f"/v0.4/jobs/{job_id}").json()["status"] == "completed"
    assert api.get(f"/v0.4/jobs/{job_id}/results/probabilities").status_code == 200


def test_canceling_a_parent_cancels_its_children(idle_api: Api) -> None:
    circuits = [{"circuit": [{"gate": "x", "target": 0}]}, {"circuit": [{"gate": "h", "target": 0}]}]
    parent = idle_api.post(
        "/v0.4/jobs",
        json={
            "type": "ionq.multi-circuit.v1",
            "backend": "simulator",
            "input": {"qubits": 1, "circuits": circuits},
        },
    ).json()
    idle_api.put(f"/v0.4/jobs/{parent['id']}/status/cancel")
    children = idle_api.get(f"/v0.4/jobs/{parent['id']}").json()["child_job_ids"]
    assert [idle_api.get(f"/v0.4/jobs/{c}").json()["status"] for c in children] == ["canceled", "canceled"]


def test_bulk_cancel_and_delete(idle_api: Api) -> None:
    ids = [idle_api.post("/v0.4/jobs", json=bell_job()).json()["id"] for _ in range(3)]
    canceled = idle_api.put("/v0.4/jobs/status/cancel", json={"ids": [*ids[:2], "no-such-job"]}).json()
    assert canceled["status"] == "canceled" and sorted(canceled["ids"]) == sorted(ids[:2])
    assert canceled["id"] in ids and canceled["not_found"] == ["no-such-job"]
    assert idle_api.get(f"/v0.4/jobs/{ids[2]}").json()["status"] == "ready"
    deleted = idle_api.delete("/v0.4/jobs", json={"ids": ids}).json()
    assert deleted["status"] == "deleted" and sorted(deleted["ids"]) == sorted(ids)
    assert all(idle_api.get(f"/v0.4/jobs/{i}").status_code == 404 for i in ids)


def test_list_filters_by_status_including_queued_alias(idle_api: Api) -> None:
    queued = idle_api.post("/v0.4/jobs", json=bell_job()).json()["id"]
    other = idle_api.post("/v0.4/jobs", json=bell_job()).json()["id"]
    idle_api.put(f"/v0.4/jobs/{other}/status/cancel")
    listed = idle_api.get("/v0.4/jobs", params={"status": "queued"}).json()["jobs"]
    assert [j["id"] for j in listed] == [queued]
    listed = idle_api.get("/v0.4/jobs", params={"status": "canceled"}).json()["jobs"]
    assert [j["id"] for j in listed] == [other]


def test_results_of_a_pending_job_are_a_retriable_conflict(idle_api: Api) -> None:
    job_id = idle_api.post("/v0.4/jobs", json=bell_job()).json()["id"]
    response = idle_api.get(f"/v0.4/jobs/{job_id}/results/probabilities")
    assert response.status_code == 409 and "ready" in response.json()["message"]


def test_dry_run_completes_without_results(api: Api) -> None:
    job_id = api.post("/v0.4/jobs", json=bell_job(dry_run=True)).json()["id"]
    job = api.get(f"/v0.4/jobs/{job_id}").json()
    assert job["status"] == "completed" and job["dry_run"] is True and job["results"] is None


def test_whoami(api: Api) -> None:
    who = api.get("/v0.4/whoami").json()
    assert who["project_id"] and who["organization_id"]


def test_usage_ledger_written_once_per_executed_job(api: Api) -> None:
    from sqlalchemy import func, select

    from qumulus.store.models import UsageLedger

    job_id = api.post("/v0.4/jobs", json=bell_job()).json()["id"]
    job = api.wait(job_id)
    with api.platform.db.read() as session:  # type: ignore[attr-defined]
        rows = session.scalar(
            select(func.count()).select_from(UsageLedger).where(UsageLedger.job_id == job_id)
        )
    assert rows == 1
    assert job["usage_seconds"] > 0 and job["execution_duration_ms"] >= 0


def test_get_with_wait_returns_once_the_job_is_final(api: Api) -> None:
    layer = [{"gate": "h", "target": q} for q in range(21)] + [{"gate": "t", "target": 0}]  # not Clifford
    layer += [{"gate": "cnot", "control": q, "target": q + 1} for q in range(20)]
    payload = {"qubits": 21, "circuit": layer * 40}  # seconds (tens under heavy load): longer than POST's own wait
    created = api.post("/v0.4/jobs", json={"backend": "simulator", "input": payload}).json()
    assert created["status"] in ("ready", "started")
    job = api.get(f"/v0.4/jobs/{created['id']}", params={"wait": 60}).json()  # the most one may ask
    assert job["status"] == "completed"
    assert api.get(f"/v0.4/jobs/{created['id']}", params={"wait": 120}).status_code == 400  # over the cap


def test_hot_routes_are_served_ahead_of_fastapi_and_still_documented(api: Api) -> None:
    """Create, get and probabilities run as plain Starlette routes (no dependency solving), and the
    OpenAPI document a user browses at /docs still lists them."""
    from fastapi.routing import APIRoute
    from starlette.routing import Match, Route

    app = api.client.app  # type: ignore[attr-defined]
    for method, path in [
        ("POST", "/v0.4/jobs"),
        ("GET", "/v0.4/jobs/abc"),
        ("GET", "/v0.4/jobs/abc/results/probabilities"),
        ("GET", "/v0.3/jobs/abc"),
    ]:
        scope = {"type": "http", "method": method, "path": path, "root_path": ""}
        first = next(r for r in app.router.routes if r.matches(scope)[0] == Match.FULL)
        assert isinstance(first, Route) and not isinstance(first, APIRoute), (method, path, first)
    paths = api.get("/openapi.json").json()["paths"]
    assert "post" in paths["/v0.4/jobs"] and "get" in paths["/v0.4/jobs/{job_id}"]
    assert "get" in paths["/v0.4/jobs/{job_id}/results/probabilities"]


def test_fastapi_telemetry_is_opt_in(monkeypatch: pytest.MonkeyPatch) -> None:
    """FastAPI's per-request OpenTelemetry check is off unless QUMULUS_OTEL=1 asks for it."""

    from qumulus.api.app import _telemetry_options

    options = _telemetry_options()
    if not options:
        pytest.skip("this FastAPI has no native telemetry")
    assert options["telemetry"] == {"tracing": False, "metrics": False, "logs": False}
    monkeypatch.setenv("QUMULUS_OTEL", "1")
    assert _telemetry_options()["telemetry"] == {"tracing": True, "metrics": True, "logs": True}
