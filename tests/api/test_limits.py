"""Limits a user can run into: rate, queued jobs, shots, circuit size, body size, read-only fields.

Each refusal is a JSON error that names the limit and the value; none creates a job.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select, update

from qumulus.auth.principal import Principal
from qumulus.errors import RateLimited
from qumulus.services import jobs
from qumulus.services.tenancy.keys import Authenticator, create_api_key
from qumulus.store.models import Job, Project
from tests.api.conftest import BELL, bell_job
from tests.conftest import Api, make_platform

MakeApi = Callable[..., Api]


@pytest.fixture
def make_api(settings) -> Iterator[MakeApi]:  # type: ignore[no-untyped-def]
    """The app (without its job runtime unless asked) with some settings changed."""
    from fastapi.testclient import TestClient

    from qumulus.api.app import create_app

    opened: list[TestClient] = []

    def build(*, run_jobs: bool = False, **overrides: object) -> Api:
        platform, key = make_platform(dataclasses.replace(settings, **overrides))
        client = TestClient(create_app(platform, run_jobs=run_jobs), raise_server_exceptions=False)
        client.__enter__()
        opened.append(client)
        return Api(client=client, key=key, platform=platform)

    yield build
    for client in opened:
        client.__exit__(None, None, None)


def who(api: Api) -> Principal:
    return Authenticator(api.platform.db, api.platform.secret).authenticate(f"apiKey {api.key}")  # type: ignore[attr-defined]


def second_key(api: Api) -> str:
    me = who(api)
    with api.platform.db.write() as session:  # type: ignore[attr-defined]
        _, key = create_api_key(
            session, secret=api.platform.secret, project_id=me.project_id, user_id=me.user_id
        )  # type: ignore[attr-defined]
    return key


def job_count(api: Api) -> int:
    with api.platform.db.read() as session:  # type: ignore[attr-defined]
        return session.scalar(select(func.count()).select_from(Job).where(Job.parent_id.is_(None)))


def assert_error(response, status: int, field: str | None, *words: str) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    body = response.json()
    assert body["statusCode"] == status and isinstance(body["error"], str)
    if field is not None:
        assert body["validation"]["keys"] == [field]
    for word in words:
        assert word in body["message"], (word, body["message"])
    return body


# rate limit ------------------------------------------------------------------------------------


def test_a_key_over_its_rate_gets_429_with_retry_after_and_recovers(make_api: MakeApi) -> None:
    api = make_api(rate_limit_per_minute=60, rate_limit_burst=3)
    assert [api.get("/v0.4/jobs").status_code for _ in range(3)] == [200, 200, 200]
    refused = api.post("/v0.4/jobs", json=bell_job())
    assert_error(refused, 429, None, "60 requests per minute", "QUMULUS_RATE_LIMIT_PER_MINUTE")
    assert refused.headers["Retry-After"] == "1"
    assert api.get("/v0.3/jobs").status_code == 429  # both API versions draw on the key's bucket
    assert job_count(api) == 0  # the refused POST created nothing (qiskit re-POSTs on 429)
    other = second_key(api)
    assert api.client.get("/v0.4/jobs", headers={"Authorization": f"apiKey {other}"}).status_code == 200
    assert api.client.get("/health").status_code == 200  # unauthenticated: not limited
    time.sleep(1.05)  # 60/min: a token is back after a second
    assert api.post("/v0.4/jobs", json=bell_job()).status_code == 201


def test_default_rate_limit_leaves_a_polling_client_alone(make_api: MakeApi) -> None:
    api = make_api()  # pennylane polls ~100 times a second
    assert {api.get("/v0.4/jobs?limit=1").status_code for _ in range(200)} == {200}


# queued jobs per project -------------------------------------------------------------------------


def set_project_cap(api: Api, cap: int | None) -> None:
    with api.platform.db.write() as session:  # type: ignore[attr-defined]
        session.execute(update(Project).values(max_queued_jobs=cap))


def test_a_project_at_its_queued_job_limit_is_refused_until_a_job_leaves_the_queue(make_api: MakeApi) -> None:
    api = make_api()
    set_project_cap(api, 2)
    ids = [api.post("/v0.4/jobs", json=bell_job()).json()["id"] for _ in range(2)]
    refused = api.post("/v0.4/jobs", json=bell_job())
    assert_error(refused, 429, "project.max_queued_jobs", "2 active", "limit is 2", "max_queued_jobs")
    assert job_count(api) == 2
    assert api.post("/v0.4/jobs", json=bell_job(dry_run=True)).status_code == 201  # queues nothing
    assert api.put(f"/v0.4/jobs/{ids[0]}/status/cancel").status_code == 200
    assert api.post("/v0.4/jobs", json=bell_job()).status_code == 201


def test_without_a_project_limit_the_setting_applies(make_api: MakeApi) -> None:
    api = make_api(max_queued_jobs=1)
    assert api.post("/v0.4/jobs", json=bell_job()).status_code == 201
    assert_error(api.post("/v0.4/jobs", json=bell_job()), 429, None, "limit is 1", "QUMULUS_MAX_QUEUED_JOBS")


def test_parallel_submissions_from_two_api_processes_cannot_overshoot_the_limit(settings) -> None:  # type: ignore[no-untyped-def]
    """Two platforms (two engines, two group committers) on one database: 50 at once, room for 10."""
    from qumulus.platform import Platform

    first, key = make_platform(settings)
    second = Platform(settings)
    try:
        caller = Authenticator(first.db, first.secret).authenticate(f"apiKey {key}")
        with first.db.write() as session:
            session.execute(update(Project).values(max_queued_jobs=10))
        start = threading.Barrier(16)

        def submit(n: int) -> str:
            platform = (first, second)[n % 2]
            if n < 16:
                start.wait()
            spec = jobs.JobSpec(backend="simulator", job_type="ionq.circuit.v1", input=BELL)
            try:
                return jobs.submit_job(platform, caller, spec).job.status
            except RateLimited:
                return "refused"

        with ThreadPoolExecutor(16) as pool:
            outcomes = list(pool.map(submit, range(50)))
        assert outcomes.count("ready") == 10 and outcomes.count("refused") == 40
        with first.db.read() as session:
            assert session.scalar(select(func.count()).select_from(Job).where(Job.status == "ready")) == 10
    finally:
        first.stop()
        second.stop()


# shots, circuit size, request size -------------------------------------------------------------


def test_shots_over_the_configured_maximum_are_refused(make_api: MakeApi) -> None:
    api = make_api(max_shots=1000)
    assert api.post("/v0.4/jobs", json=bell_job(shots=1000)).status_code == 201
    assert_error(
        api.post("/v0.4/jobs", json=bell_job(shots=1001)), 400, "shots", "1000", "1001", "QUMULUS_MAX_SHOTS"
    )


def test_too_many_gates_or_circuits_are_refused_naming_the_circuit(make_api: MakeApi) -> None:
    api = make_api(max_gates=4, max_circuits=2)
    x = {"gate": "x", "target": 0}
    single = {"type": "ionq.circuit.v1", "backend": "simulator", "input": {"qubits": 1, "circuit": [x] * 5}}
    assert_error(
        api.post("/v0.4/jobs", json=single),
        413,
        "input.circuit",
        "5 gates",
        "limit is 4",
        "QUMULUS_MAX_GATES",
    )
    multi = {
        "type": "ionq.multi-circuit.v1",
        "backend": "simulator",
        "input": {"qubits": 1, "circuits": [{"circuit": [x] * 2}, {"circuit": [x] * 3}]},
    }
    # One limit, counted per job in total (as IonQ counts), one status, one setting.
    assert_error(api.post("/v0.4/jobs", json=multi), 413, "input.circuits", "5 gates", "QUMULUS_MAX_GATES")
    multi["input"]["circuits"] = [{"circuit": [x]}] * 3  # type: ignore[index]
    assert_error(
        api.post("/v0.4/jobs", json=multi), 413, "input.circuits", "3 circuits", "QUMULUS_MAX_CIRCUITS"
    )
    multi["input"]["circuits"] = [{"circuit": [x] * 2}] * 2  # type: ignore[index]
    assert api.post("/v0.4/jobs", json=multi).status_code == 201
    assert job_count(api) == 1


def test_a_body_over_the_size_limit_names_the_limit(make_api: MakeApi) -> None:
    api = make_api(max_request_bytes=2000)
    body = bell_job(metadata={"blob": "x" * 3000})
    assert_error(api.post("/v0.4/jobs", json=body), 413, "body", "2000 bytes", "QUMULUS_MAX_REQUEST_BYTES")


# read-only fields, and the shapes real clients send ----------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("status", "completed"),
        ("cost", 0),
        ("id", "00000000-0000-0000-0000-000000000000"),
        ("project_id", "another-tenants-project"),
        ("usage", {"seconds": 0}),
        ("request", 1700000000),
        ("response", 1700000000),
        ("children", []),
        ("failure", None),
        ("submitter_id", "someone-else"),
    ],
)
def test_read_only_fields_are_refused(make_api: MakeApi, field: str, value: object) -> None:
    api = make_api()
    assert_error(
        api.post("/v0.4/jobs", json=bell_job(**{field: value})), 400, field, field, "set by the server"
    )
    assert_error(api.post("/v0.3/jobs", json=bell_job(**{field: value})), 400, field)
    assert job_count(api) == 0


QISKIT = {
    "type": "ionq.circuit.v1",
    "backend": "simulator",
    "shots": 1000,
    "name": "bell",
    "input": {
        "gateset": "qis",
        "qubits": 2,
        "circuit": [{"gate": "h", "targets": [0]}, {"gate": "x", "targets": [1], "controls": [0]}],
    },
    "metadata": {
        "shots": "1000",
        "sampler_seed": "None",
        "qiskit_header": "H4sIA",
        "user_agent": "qiskit-ionq",
    },
    "noise": {"model": "ideal", "seed": None},
    "custom_option": "from extra_query_params",
}
CIRQ = {
    "backend": "simulator",
    "type": "ionq.circuit.v1",
    "lang": "json",
    "input": {
        "gateset": "qis",
        "qubits": 2,
        "circuit": [{"gate": "h", "targets": [0]}, {"gate": "cnot", "control": 0, "target": 1}],
    },
    "metadata": {"measurement0": "m\u001f0,1", "shots": "100"},
    "shots": "100",
    "foo": "bar",
}
PENNYLANE = {"type": "ionq.circuit.v1", "input": BELL, "backend": "simulator", "shots": 1000}
V03 = {
    "target": "simulator",
    "lang": "json",
    "shots": 100,
    "input": {"format": "ionq.circuit.v0", "qubits": 2, "circuit": [{"gate": "h", "target": 0}]},
    "error_mitigation": {"debias": False},
}


@pytest.mark.parametrize("body", [QISKIT, CIRQ, PENNYLANE, V03], ids=["qiskit", "cirq", "pennylane", "v0.3"])
def test_the_bodies_official_clients_send_are_still_accepted(make_api: MakeApi, body: dict) -> None:
    api = make_api()
    assert api.post("/v0.4/jobs", json=body).status_code == 201


def test_the_gate_setting_governs_the_parsers_limit_too(make_api: MakeApi) -> None:
    """150 001 gates was a 422 "at most 150000" whatever QUMULUS_MAX_GATES said: the setting could
    not raise it. Now the setting is the one limit, with one status (413)."""
    x = {"gate": "x", "target": 0}
    body = {
        "type": "ionq.circuit.v1",
        "backend": "simulator",
        "input": {"qubits": 1, "circuit": [x] * 150_001},
    }
    api = make_api(max_gates=150_001)
    assert api.post("/v0.4/jobs", json=body).status_code == 201
    body["input"]["circuit"].append(x)  # type: ignore[index]
    assert_error(api.post("/v0.4/jobs", json=body), 413, "input.circuit", "150001", "QUMULUS_MAX_GATES")
