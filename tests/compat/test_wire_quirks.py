"""Raw HTTP details the official clients depend on (wire spec §13), pinned against a live server.

Each test names the client that breaks when the detail changes.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from ._util import headers, wait_terminal

pytestmark = pytest.mark.compat

ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
BELL = [{"gate": "h", "targets": [0]}, {"gate": "x", "targets": [1], "controls": [0]}]


@pytest.fixture(scope="module")
def http(live_server) -> Iterator[httpx.Client]:  # type: ignore[no-untyped-def]
    with httpx.Client(base_url=live_server.v04, headers=headers(live_server.key), timeout=30) as client:
        yield client


def submit(http: httpx.Client, circuit: list[dict[str, Any]], qubits: int = 2, **extra: Any) -> str:
    body = {
        "type": "ionq.circuit.v1",
        "backend": "simulator",
        "shots": 100,
        "input": {"gateset": "qis", "qubits": qubits, "circuit": circuit},
        **extra,
    }
    reply = http.post("/jobs", json=body)
    assert reply.status_code == 201, reply.text
    return reply.json()["id"]


def finished(http: httpx.Client, live_server, job_id: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return wait_terminal(live_server.v04, live_server.key, job_id)


def test_post_without_content_type(http: httpx.Client, live_server) -> None:  # type: ignore[no-untyped-def]
    # pennylane sends data=json.dumps(payload) and no Content-Type header.
    body = {
        "type": "ionq.circuit.v1",
        "backend": "simulator",
        "shots": 10,
        "input": {"qubits": 2, "gateset": "qis", "circuit": [{"gate": "h", "target": 0}]},
    }
    request = http.build_request("POST", "/jobs", content=json.dumps(body).encode())
    assert "content-type" not in request.headers
    reply = http.send(request)
    assert reply.status_code in (200, 201), reply.text
    created = reply.json()
    assert set(created) >= {"id", "status", "session_id"}
    assert created["status"] in ("submitted", "ready", "started", "completed")
    assert finished(http, live_server, created["id"])["status"] == "completed"


def test_string_shots_lang_and_unknown_keys(http: httpx.Client, live_server) -> None:  # type: ignore[no-untyped-def]
    # cirq sends shots as a string, "lang": "json" and any extra_query_params at the top level.
    body = {
        "backend": "simulator",
        "type": "ionq.circuit.v1",
        "lang": "json",
        "shots": "100",
        "foo": "bar",
        "noise": {"model": "ideal", "seed": None},
        "input": {
            "gateset": "qis",
            "qubits": 2,
            "circuit": [{"gate": "h", "targets": [0]}, {"gate": "cnot", "control": 0, "target": 1}],
        },
        "metadata": {"measurement0": "m\u001f0,1", "shots": "100"},
    }
    reply = http.post("/jobs", json=body)
    assert reply.status_code == 201, reply.text
    job = finished(http, live_server, reply.json()["id"])
    assert job["status"] == "completed"
    assert job["shots"] == 100
    assert job["metadata"] == {"measurement0": "m\u001f0,1", "shots": "100"}
    assert job["stats"]["qubits"] == 2


def test_missing_qubits_and_singular_fields(http: httpx.Client, live_server) -> None:  # type: ignore[no-untyped-def]
    # The ionq package may omit input.qubits; pennylane and cirq use target/control, not the lists.
    reply = http.post(
        "/jobs",
        json={
            "type": "ionq.circuit.v1",
            "backend": "simulator",
            "input": {"circuit": [{"gate": "x", "target": 2}]},
        },
    )
    assert reply.status_code == 201, reply.text
    job = finished(http, live_server, reply.json()["id"])
    assert job["stats"]["qubits"] == 3
    assert job["shots"] == 100  # the default
    assert http.get(f"/jobs/{job['id']}/results/probabilities").json() == {"4": 1.0}


@pytest.mark.timeout(60)
def test_get_jobs_with_json_body_limit_and_next_omitted_on_last_page(http: httpx.Client, live_server) -> None:  # type: ignore[no-untyped-def]
    for _ in range(3):
        submit(http, BELL)
    # cirq: GET /jobs with the page size in a JSON body, `next` in the query, stop when `next` is absent.
    first = http.request("GET", "/jobs", json={"limit": 2})
    assert first.status_code == 200, first.text
    assert len(first.json()["jobs"]) == 2
    seen: list[str] = []
    cursor = None
    for _ in range(1000):
        params = {"next": cursor} if cursor else {}
        page = http.request("GET", "/jobs", params=params, json={"limit": 2}).json()
        assert len(page["jobs"]) <= 2
        seen.extend(j["id"] for j in page["jobs"])
        if "next" not in page:
            break
        assert page["next"], "next must be omitted, not empty or null, on the last page"
        cursor = page["next"]
    else:
        pytest.fail("GET /jobs kept returning `next`")
    everything = http.request("GET", "/jobs", json={"limit": 1000}).json()
    assert "next" not in everything
    assert seen == [j["id"] for j in everything["jobs"]]
    assert len(seen) == len(set(seen))
    # The query parameter works too, and a JSON body limit does not override it.
    assert len(http.get("/jobs", params={"limit": 1}).json()["jobs"]) == 1


def test_completed_job_has_no_failure_or_warning_keys(http: httpx.Client, live_server) -> None:  # type: ignore[no-untyped-def]
    # cirq and qiskit do `"messages" in job["warning"]` and `'error' in job["failure"]`: null breaks them.
    job = finished(http, live_server, submit(http, BELL))
    assert job["status"] == "completed"
    assert "failure" not in job
    assert "warning" not in job
    listed = http.get("/jobs", params={"limit": 5}).json()["jobs"]
    assert all("failure" not in j and "warning" not in j for j in listed if j["status"] == "completed")
    assert all(j["status"] != "running" for j in listed)  # v0.4 says "started"; qiskit rejects "running"


def test_metadata_echoed_verbatim_in_order(http: httpx.Client, live_server) -> None:  # type: ignore[no-untyped-def]
    # qiskit's qiskit_header is gzip+base64 and can be kilobytes; cirq chunks values into 40-char keys.
    metadata = {
        "zeta": "1",
        "alpha": "2",
        "measurement1": "b",
        "measurement0": "a",
        "Mixed Case": "ü ✓",
        "qiskit_header": "H4sI" + "A" * 20_000,
        "shots": "100",
    }
    job_id = submit(http, BELL, metadata=metadata)
    job = finished(http, live_server, job_id)
    assert list(job["metadata"]) == list(metadata)
    assert job["metadata"] == metadata
    # No metadata: {} rather than null (cirq calls .keys() on it).
    bare = finished(http, live_server, submit(http, BELL))
    assert bare["metadata"] == {}


def test_result_url_is_root_relative_v04(http: httpx.Client, live_server) -> None:  # type: ignore[no-untyped-def]
    job = finished(http, live_server, submit(http, BELL))
    url = job["results"]["probabilities"]["url"]
    assert url == f"/v0.4/jobs/{job['id']}/results/probabilities"
    # Ideal jobs advertise no histogram (the ionq package would prefer it over probabilities).
    assert set(job["results"]) == {"probabilities"}
    reply = httpx.get(live_server.url + url, headers=headers(live_server.key))
    assert reply.status_code == 200
    distribution = reply.json()
    assert set(distribution) == {"0", "3"}
    assert sum(distribution.values()) == pytest.approx(1.0, abs=1e-9)
    for value in ("True", "true", "FALSE", "0"):
        assert (
            httpx.get(
                live_server.url + url, params={"sharpen": value}, headers=headers(live_server.key)
            ).status_code
            == 200
        )
    # pennylane also sends ?sharpen= on GET /jobs/{id}.
    assert http.get(f"/jobs/{job['id']}", params={"sharpen": "True"}).status_code == 200


def test_ideal_bell_probabilities_are_exactly_one_half(http: httpx.Client, live_server) -> None:  # type: ignore[no-untyped-def]
    # The ionq package turns probabilities into counts with int(p * shots): 0.4999999999999999 * 100
    # gives 49, so a 100-shot Bell job shows 98 counts. IonQ's ideal simulator answers exactly 0.5.
    job = finished(http, live_server, submit(http, BELL))
    assert http.get(f"/jobs/{job['id']}/results/probabilities").json() == {"0": 0.5, "3": 0.5}


def test_multi_circuit_results_in_circuit_order(http: httpx.Client, live_server) -> None:  # type: ignore[no-untyped-def]
    # Clients read dict.values() in order: the keys must follow the circuits, never be sorted.
    targets = (2, 0, 1, 2, 0, 1)
    circuits = [[{"gate": "x", "target": q}] for q in targets]
    body = {
        "type": "ionq.multi-circuit.v1",
        "backend": "simulator",
        "shots": 10,
        "input": {"gateset": "qis", "qubits": 3, "circuits": [{"circuit": c} for c in circuits]},
    }
    reply = http.post("/jobs", json=body)
    assert reply.status_code == 201, reply.text
    job = finished(http, live_server, reply.json()["id"])
    children = job["child_job_ids"]
    assert len(children) == 6
    expected = [{str(1 << q): 1.0} for q in targets]
    for path in ("probabilities", "probabilities/aggregated"):
        text = http.get(f"/jobs/{job['id']}/results/{path}").text
        result = json.loads(text)
        assert list(result) == children, path
        assert list(result.values()) == expected, path
    # Each child is a job of its own, with its parent and its own results.
    child = http.get(f"/jobs/{children[1]}").json()
    assert child["parent_job_id"] == job["id"]
    assert http.get(f"/jobs/{children[1]}/results/probabilities").json() == {"1": 1.0}


def test_backends_need_no_auth(live_server) -> None:  # type: ignore[no-untyped-def]
    # qiskit probes GET /backends/{name} with no Authorization header to learn the qubit count.
    reply = httpx.get(f"{live_server.v04}/backends/simulator")
    assert reply.status_code == 200
    assert reply.json()["qubits"] == 29
    listed = httpx.get(f"{live_server.v04}/backends")
    assert listed.status_code == 200
    by_name = {b["backend"]: b for b in listed.json()}
    assert by_name["qpu.aria-1"]["qubits"] == 25
    # The ionq package: int last_updated and no characterization_url: null.
    assert all(isinstance(b["last_updated"], int) for b in by_name.values())
    assert all(b.get("characterization_url", "") is not None for b in by_name.values())
    # Unknown names are a JSON 404 (qiskit then falls back to 4 qubits).
    missing = httpx.get(f"{live_server.v04}/backends/qpu.qpu")
    assert missing.status_code == 404
    assert missing.json()["statusCode"] == 404


def test_401_body_shape(live_server) -> None:  # type: ignore[no-untyped-def]
    # qiskit parses {"statusCode", "error", "message"}; a bare {"error": "..."} crashes it.
    for sent in ({"Authorization": "apiKey not-a-key"}, {"Authorization": "apiKey qmk_bogus_bogus"}, {}):
        reply = httpx.get(f"{live_server.v04}/jobs", headers=sent)
        assert reply.status_code == 401, sent
        body = reply.json()
        assert body["statusCode"] == 401
        assert isinstance(body["error"], str) and body["error"]
        assert isinstance(body["message"], str) and body["message"]
    wrong = httpx.post(f"{live_server.v04}/jobs", headers={"Authorization": "apiKey nope"}, json={})
    assert wrong.status_code == 401


def test_404_and_400_bodies(http: httpx.Client) -> None:
    missing = http.get("/jobs/00000000-0000-0000-0000-000000000000")
    assert missing.status_code == 404
    assert missing.json()["statusCode"] == 404 and missing.json()["message"]
    bad = http.post(
        "/jobs",
        json={
            "type": "ionq.circuit.v1",
            "backend": "simulator",
            "input": {"qubits": 1, "circuit": [{"gate": "nope", "target": 0}]},
        },
    )
    # No client treats 400 and 422 differently (neither is retried); the spec's table says 400.
    assert bad.status_code in (400, 422)
    body = bad.json()
    assert body["statusCode"] == bad.status_code and isinstance(body["error"], str)
    assert "nope" in body["message"]


def test_iso_dates_with_milliseconds(http: httpx.Client, live_server) -> None:  # type: ignore[no-untyped-def]
    # cirq splits calibration dates on '.', the ionq package requires submitted_at; qiskit uses fromisoformat.
    job = finished(http, live_server, submit(http, BELL))
    for field in ("submitted_at", "started_at", "completed_at"):
        assert ISO_MS.match(job[field]), (field, job[field])
    chars = http.get("/backends/qpu.aria-1/characterizations", params={"limit": 1}).json()
    assert len(chars["characterizations"]) == 1
    assert ISO_MS.match(chars["characterizations"][0]["date"])
    calibration = http.get("/calibrations/current").json()
    assert ISO_MS.match(calibration["date"])
    assert calibration["target"] == "qpu.aria-1"


def test_ionq_characterization_current_has_int_date(http: httpx.Client) -> None:
    char = http.get("/characterizations/backends/qpu.aria-1/current").json()
    assert isinstance(char["date"], int) and not isinstance(char["date"], bool)
    assert char["date"] > 1_600_000_000  # epoch seconds
    assert isinstance(char["fidelity"]["spam"]["mean"], float)
    assert {"readout", "reset", "t1", "t2"} <= set(char["timing"])
    assert char["backend"] == "qpu.aria-1"
    assert char["qubits"] == 25


def test_cancel_and_delete_answer_json(http: httpx.Client, live_server) -> None:  # type: ignore[no-untyped-def]
    # Every client calls .json() on these; cirq replaces its job dict with the cancel answer.
    job = finished(http, live_server, submit(http, BELL))
    deleted = http.delete(f"/jobs/{job['id']}")
    assert deleted.status_code == 200
    assert deleted.json() == {"id": job["id"], "status": "deleted"}
    assert http.get(f"/jobs/{job['id']}").status_code == 404
    assert http.get(f"/jobs/{job['id']}/results/probabilities").status_code == 404


def test_histogram_and_shots_sampled_with_the_job_seed(http: httpx.Client, live_server) -> None:  # type: ignore[no-untyped-def]
    job_id = submit(http, BELL, shots=500, noise={"model": "ideal", "seed": 42})
    finished(http, live_server, job_id)
    histogram = http.get(f"/jobs/{job_id}/results/histogram").json()
    assert set(histogram) <= {"0", "3"}
    assert all(isinstance(v, int) for v in histogram.values())
    assert sum(histogram.values()) == 500
    shots = http.get(f"/jobs/{job_id}/results/shots").json()
    assert len(shots) == 500
    assert {int(s) for s in shots} <= {0, 3}
    # Reproducible: the same job samples the same outcomes every time.
    time.sleep(0.01)
    assert http.get(f"/jobs/{job_id}/results/shots").json() == shots
    assert http.get(f"/jobs/{job_id}/results/histogram").json() == histogram
