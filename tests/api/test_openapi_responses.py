"""Every success answer matches the response schema the OpenAPI document gives it.

schemathesis (tests/api/test_schemathesis.py) checks answers against their schemas, but its
generated ids rarely name a real job, contract or reservation, so most of its answers are 404s. Here
real objects are made first (a completed Bell job, an OpenQASM job with its shots artifact, a job
set, a session, a contract, a reservation, a maintenance window, a declared driver backend …), then
each operation is called once and its answer validated against the document (``jsonschema_rs``,
the validator schemathesis uses).

A second test holds the document to the rule: every operation that answers JSON has a success
schema (the few that do not answer JSON are listed with the reason).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import jsonschema_rs

from tests.api.conftest import BELL, bell_job
from tests.conftest import Api

#: Operations whose success answer is not a JSON object, and why they have no JSON schema.
NOT_JSON = {
    ("GET", "/v0.4/jobs/{job_id}/events"): "text/event-stream (Server-Sent Events)",
    ("PUT", "/v0.4/users/me/password"): "204, no body",
}


def _document(api: Api) -> dict[str, Any]:
    return api.client.get("/openapi.json").json()


def _schema(document: dict[str, Any], method: str, path: str, status: int) -> dict[str, Any] | None:
    operation = document["paths"][path][method.lower()]
    answer = operation["responses"].get(str(status), {})
    return answer.get("content", {}).get("application/json", {}).get("schema")


def _check(document: dict[str, Any], method: str, template: str, response: Any) -> None:
    assert response.status_code < 300, (method, template, response.status_code, response.text[:500])
    schema = _schema(document, method, template, response.status_code)
    assert schema, f"{method} {template}: no response schema for {response.status_code}"
    wrapped = {**schema, "components": document["components"]}
    errors = [
        f"{e.message} at {list(e.instance_path)}"
        for e in jsonschema_rs.validator_for(wrapped).iter_errors(response.json())
    ]
    assert not errors, f"{method} {template}: " + "; ".join(errors[:5])


def _iso(delta: timedelta) -> str:
    return (datetime.now(timezone.utc) + delta).isoformat()


def test_every_operations_answer_matches_its_documented_schema(api: Api) -> None:
    document = _document(api)
    checked: set[tuple[str, str]] = set()

    def call(method: str, template: str, path: str | None = None, **kw: Any) -> Any:
        response = api.client.request(method, path or template, headers=api.headers, **kw)
        _check(document, method, template, response)
        checked.add((method, template))
        return response.json()

    me = call("GET", "/v0.4/whoami")
    call("GET", "/v0.3/whoami")
    org, project = me["organization_id"], me["project_id"]
    call("GET", "/health")
    call("GET", "/v0.4/users/me")
    call("PATCH", "/v0.4/users/me", json={"notify_on_failure": True})

    # jobs and their results
    job = api.post("/v0.4/jobs", json=bell_job()).json()["id"]
    api.wait(job)
    program = (
        'OPENQASM 3.0;\ninclude "stdgates.inc";\nbit[1] c;\nqubit[1] q;\nx q[0];\nc[0] = measure q[0];\n'
    )
    qasm = api.post(
        "/v0.4/jobs",
        json={"type": "ionq.qasm3.v1", "backend": "simulator", "shots": 20, "input": {"data": program}},
    ).json()["id"]
    api.wait(qasm)
    for v in ("v0.4", "v0.3"):
        for tail in (
            "results/probabilities",
            "results/probabilities/aggregated",
            "results/histogram",
            "results/shots",
        ):
            call("GET", f"/{v}/jobs/{{job_id}}/{tail}", f"/{v}/jobs/{qasm}/{tail}")
        call("GET", f"/{v}/jobs/{{job_id}}/artifacts/{{artifact_id}}", f"/{v}/jobs/{qasm}/artifacts/shots")
        call("GET", f"/{v}/jobs/{{job_id}}/progress", f"/{v}/jobs/{job}/progress")
        call(
            "GET",
            f"/{v}/jobs/estimate",
            params={"backend": "qpu.aria-1", "shots": 100, "1q_gates": 2, "2q_gates": 1},
        )
        call("POST", f"/{v}/jobs/estimate", json={**bell_job(), "backend": "qpu.aria-1"})
        call("GET", f"/{v}/backends")
        call(
            "GET", f"/{v}/backends/{{name}}/characterizations", f"/{v}/backends/qpu.aria-1/characterizations"
        )
        chars = api.get(f"/{v}/backends/qpu.aria-1/characterizations").json()["characterizations"]
        call(
            "GET",
            f"/{v}/backends/{{name}}/characterizations/{{characterization_id}}",
            f"/{v}/backends/qpu.aria-1/characterizations/{chars[0]['id']}",
        )
        call(
            "GET",
            f"/{v}/characterizations/backends/{{name}}/current",
            f"/{v}/characterizations/backends/qpu.aria-1/current",
        )
        call(
            "GET", f"/{v}/characterizations/backends/{{name}}", f"/{v}/characterizations/backends/qpu.aria-1"
        )
        call(
            "GET",
            f"/{v}/characterizations/{{characterization_id}}",
            f"/{v}/characterizations/{chars[0]['id']}",
        )
        call("GET", f"/{v}/calibrations/current")
        call("GET", f"/{v}/calibrations")
    call("GET", "/v0.3/jobs")
    call("GET", "/v0.3/jobs/{job_id}", f"/v0.3/jobs/{job}")
    call("GET", "/v0.3/jobs/{job_id}/results", f"/v0.3/jobs/{job}/results")
    v3 = api.post(
        "/v0.3/jobs",
        json={"target": "simulator", "shots": 10, "input": {"format": "ionq.circuit.v0", **BELL}},
    )
    _check(document, "POST", "/v0.3/jobs", v3)
    checked.add(("POST", "/v0.3/jobs"))
    call("POST", "/v0.4/jobs/status", json={"ids": [job, qasm]})
    call("GET", "/v0.4/jobs/{job_id}/queue", f"/v0.4/jobs/{job}/queue")
    call("GET", "/v0.4/job_limit")
    call("GET", "/v0.4/backends/{name}/properties", "/v0.4/backends/qpu.aria-1/properties")
    hold = {"status": "maintenance", "message": "jobs stay queued for the calls below"}
    api.put("/v0.4/backends/qpu.aria-1/status", json=hold)
    queued = [api.post("/v0.4/jobs", json=bell_job(backend="qpu.aria-1")).json()["id"] for _ in range(3)]
    call("PUT", "/v0.4/jobs/{job_id}/priority", f"/v0.4/jobs/{queued[0]}/priority", json={"tier": 1})
    for v in ("v0.4", "v0.3"):
        call("PUT", f"/{v}/jobs/status/cancel", json={"ids": [queued.pop()]})
    call("DELETE", "/v0.3/jobs", json={"ids": [qasm]})

    # job sets
    made = call(
        "POST",
        "/v0.4/job_sets",
        json={"backend": "simulator", "circuits": [{"name": "b", "circuit": BELL["circuit"]}], "shots": 10},
    )
    call("GET", "/v0.4/job_sets")
    call("GET", "/v0.4/job_sets/{set_id}", f"/v0.4/job_sets/{made['id']}")
    call("POST", "/v0.4/job_sets/{set_id}/rerun", f"/v0.4/job_sets/{made['id']}/rerun")
    call("PUT", "/v0.4/job_sets/{set_id}/status/cancel", f"/v0.4/job_sets/{made['id']}/status/cancel")

    # billing and scheduling
    contract = call(
        "POST",
        "/v0.4/organizations/{org_id}/contracts",
        f"/v0.4/organizations/{org}/contracts",
        json={"backend": "qpu.*", "rate_per_second": "1.5", "allocation_seconds": 3600},
    )
    call("GET", "/v0.4/organizations/{org_id}/contracts", f"/v0.4/organizations/{org}/contracts")
    one = f"/v0.4/organizations/{org}/contracts/{contract['id']}"
    call("GET", "/v0.4/organizations/{org_id}/contracts/{contract_id}", one)
    call("PATCH", "/v0.4/organizations/{org_id}/contracts/{contract_id}", one, json={"share": 2})
    call("GET", "/v0.4/organizations/{org_id}/allocations", f"/v0.4/organizations/{org}/allocations")
    call("GET", "/v0.4/usage")
    call("DELETE", "/v0.4/organizations/{org_id}/contracts/{contract_id}", one)
    reservation = call(
        "POST",
        "/v0.4/organizations/{org_id}/reservations",
        f"/v0.4/organizations/{org}/reservations",
        json={
            "backend": "qpu.aria-1",
            "starts_at": _iso(timedelta(days=2)),
            "ends_at": _iso(timedelta(days=2, hours=1)),
        },
    )
    call("GET", "/v0.4/organizations/{org_id}/reservations", f"/v0.4/organizations/{org}/reservations")
    # (approve answers the same reservation object; an administrator's reservation needs none)
    call("DELETE", "/v0.4/reservations/{reservation_id}", f"/v0.4/reservations/{reservation['id']}")
    call("GET", "/v0.4/organizations/{org_id}/audit", f"/v0.4/organizations/{org}/audit")

    # backend status
    call("GET", "/v0.4/status")
    call("GET", "/v0.4/backends/{name}/status/history", "/v0.4/backends/qpu.aria-1/status/history")
    call(
        "PUT",
        "/v0.4/backends/{name}/status",
        "/v0.4/backends/qpu.aria-1/status",
        json={"status": "degraded", "message": "test"},
    )
    window = call(
        "POST",
        "/v0.4/backends/{name}/maintenance",
        "/v0.4/backends/qpu.aria-1/maintenance",
        json={"starts_at": _iso(timedelta(days=3)), "ends_at": _iso(timedelta(days=3, hours=1))},
    )
    call(
        "DELETE",
        "/v0.4/backends/{name}/maintenance/{window_id}",
        f"/v0.4/backends/qpu.aria-1/maintenance/{window['id']}",
    )
    call("POST", "/v0.4/backends/{name}/recalibrate", "/v0.4/backends/qpu.aria-1/recalibrate")

    # driver-served backends (admin)
    decl = {
        "driver": "ionq",
        "qubits": 25,
        "credential": {"env": "NOT_SET_HERE"},
        "options": {"url": "http://127.0.0.1:9", "target": "qpu.aria-1"},
    }
    call("PUT", "/v0.4/admin/backends/{name}", "/v0.4/admin/backends/site.test", json=decl)
    call("GET", "/v0.4/admin/backends")
    call("DELETE", "/v0.4/admin/backends/{name}", "/v0.4/admin/backends/site.test")

    # tenancy leftovers
    other = api.post(f"/v0.4/organizations/{org}/projects", json={"name": "to-delete"}).json()["id"]
    member = api.post(
        f"/v0.4/organizations/{org}/members", json={"email": "m@example.test", "role": "member"}
    ).json()
    api.post(f"/v0.4/projects/{project}/members", json={"user_id": member["user_id"]})
    call(
        "DELETE",
        "/v0.4/projects/{project_id}/members/{user_id}",
        f"/v0.4/projects/{project}/members/{member['user_id']}",
    )
    call(
        "DELETE",
        "/v0.4/organizations/{org_id}/members/{user_id}",
        f"/v0.4/organizations/{org}/members/{member['user_id']}",
    )
    call("DELETE", "/v0.4/projects/{project_id}", f"/v0.4/projects/{other}")

    print(f"\n{len(checked)} operations' answers checked against their schemas")


def test_every_json_operation_documents_its_success_answer(idle_api: Api) -> None:
    document = _document(idle_api)
    missing = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if (method.upper(), path) in NOT_JSON:
                continue
            success = [code for code in operation["responses"] if code.startswith("2")]
            if not any(_schema(document, method, path, int(code)) for code in success):
                missing.append(f"{method.upper()} {path}")
    assert not missing, "no response schema:\n" + "\n".join(sorted(missing))
