"""Malformed requests get a clear 4xx JSON error naming the field — never a 5xx, never a job."""

from __future__ import annotations

import copy
import json
import random
from typing import Any

import pytest

from tests.api.conftest import BELL, bell_job
from tests.conftest import Api

BAD_BODIES: list[tuple[str, Any, int, str | None]] = [
    # (description, body, expected status, field named in the message)
    ("array body", [1, 2], 400, "body"),
    ("string body", "hello", 400, "body"),
    ("no backend", {"input": BELL}, 400, "backend"),
    ("backend not a string", {"backend": 5, "input": BELL}, 400, "backend"),
    ("unknown backend", {"backend": "qpu.nowhere", "input": BELL}, 400, "backend"),
    ("noise model not a string", bell_job(noise={"model": 1}), 400, "noise.model"),
    ("no input", {"backend": "simulator"}, 400, "input"),
    ("input a list", {"backend": "simulator", "input": []}, 400, "input"),
    ("shots a list", bell_job(shots=[1]), 400, "shots"),
    ("shots a word", bell_job(shots="many"), 400, "shots"),
    ("shots boolean", bell_job(shots=True), 400, "shots"),
    ("shots zero", bell_job(shots=0), 400, "shots"),
    ("shots negative", bell_job(shots=-5), 400, "shots"),
    ("shots huge", bell_job(shots=10**12), 400, "shots"),
    ("metadata a string", bell_job(metadata="x"), 400, "metadata"),
    ("settings a list", bell_job(settings=[1]), 400, "settings"),
    ("noise a string", bell_job(noise="ideal"), 400, "noise"),
    ("unknown noise model", bell_job(noise={"model": "loud"}), 400, "noise.model"),
    ("noise seed a string", bell_job(noise={"model": "ideal", "seed": "x"}), 400, "noise.seed"),
    ("dry_run a string", bell_job(dry_run="yes"), 400, "dry_run"),
    ("name an object", bell_job(name={"a": 1}), 400, "name"),
    ("tags not strings", bell_job(tags=[1, 2]), 400, "tags"),
    ("unknown session", bell_job(session_id="nope"), 404, "session_id"),
    ("unknown type", bell_job(type="ionq.unknown.v9"), 422, "type"),
    ("unknown gate", bell_job(input={"qubits": 1, "circuit": [{"gate": "frob", "target": 0}]}), 422, "gate"),
    ("target out of range", bell_job(input={"qubits": 1, "circuit": [{"gate": "x", "target": 3}]}), 422, "target"),
    ("negative target", bell_job(input={"qubits": 2, "circuit": [{"gate": "x", "target": -1}]}), 422, "target"),
    ("NaN rotation", bell_job(input={"qubits": 1, "circuit": [{"gate": "rx", "target": 0, "rotation": "NaN"}]}),
     422, "rotation"),
    ("missing rotation", bell_job(input={"qubits": 1, "circuit": [{"gate": "rx", "target": 0}]}), 422, "rotation"),
    ("control equals target", bell_job(input={"qubits": 2, "circuit": [{"gate": "cnot", "control": 0, "target": 0}]}),
     422, None),
    ("too many qubits", bell_job(input={"qubits": 2000, "circuit": [{"gate": "x", "target": 0}]}), 422, "qubits"),
    ("circuit a dict", bell_job(input={"qubits": 1, "circuit": {"gate": "x"}}), 422, "circuit"),
    ("gate a number", bell_job(input={"qubits": 1, "circuit": [5]}), 422, None),
    ("native gate in qis", bell_job(input={"qubits": 1, "circuit": [{"gate": "gpi", "target": 0, "phase": 0}]}),
     422, None),
    ("multi with no circuits", bell_job(type="ionq.multi-circuit.v1", input={"qubits": 1, "circuits": []}),
     422, "circuits"),
    ("both circuit and circuits", bell_job(input={"qubits": 1, "circuit": [], "circuits": []}), 422, None),
]  # fmt: skip


@pytest.mark.parametrize(
    ("description", "body", "status", "field"), BAD_BODIES, ids=[b[0] for b in BAD_BODIES]
)
def test_bad_job_bodies(idle_api: Api, description: str, body: Any, status: int, field: str | None) -> None:
    response = idle_api.post("/v0.4/jobs", json=body)
    assert response.status_code == status, response.text
    error = response.json()
    assert error["statusCode"] == status and error["error"] and error["message"]
    if field:
        assert field in error["message"], error["message"]
    assert idle_api.get("/v0.4/jobs").json()["jobs"] == []  # nothing was created


@pytest.mark.parametrize(
    ("raw", "headers"),
    [
        (b"{not json", {"Content-Type": "application/json"}),
        (b"", {}),
        (b"\xff\xfe\x00garbage", {"Content-Type": "text/plain"}),
        (b"[" * 100_000 + b"]" * 100_000, {}),
        (b'{"backend": "simulator", "input": ' + b"[" * 50_000 + b"]" * 50_000 + b"}", {}),
        (b'{"backend": "simulator", "shots": 1e400, "input": {"qubits": 1, "circuit": []}}', {}),
        (b'{"backend": "simulator", "metadata": {"x": NaN}, "input": {"qubits": 1, "circuit": []}}', {}),
        (b'{"backend": "simulator", "name": "a\\u0000b", "input": {"qubits": 1, "circuit": []}}', {}),
    ],
    ids=["broken", "empty", "binary", "deep-array", "deep-input", "infinite", "nan", "nul"],
)
def test_unparseable_bodies(idle_api: Api, raw: bytes, headers: dict[str, str]) -> None:
    response = idle_api.post("/v0.4/jobs", content=raw, headers=headers)
    assert response.status_code == 400, response.text
    assert response.json()["statusCode"] == 400


def test_body_over_the_limit_is_413(idle_api: Api) -> None:
    limit = idle_api.platform.settings.max_request_bytes  # type: ignore[attr-defined]
    response = idle_api.post("/v0.4/jobs", content=b" " * (limit + 1))
    assert response.status_code == 413 and response.json()["statusCode"] == 413


@pytest.mark.parametrize(
    "header",
    [None, "", "apiKey", "Bearer", "apiKey nonsense", "Basic dXNlcjpwYXNz",
     "apiKey qmk_aaaaaaaaaaaaaaaa_" + "A" * 38],
    ids=["missing", "empty", "no-key", "bearer-no-key", "garbage", "basic", "bad-checksum"],
)  # fmt: skip
def test_bad_keys_are_401(idle_api: Api, header: str | None) -> None:
    headers = {} if header is None else {"Authorization": header}
    response = idle_api.client.post("/v0.4/jobs", json=bell_job(), headers=headers)
    assert response.status_code == 401
    body = response.json()
    assert body == {"statusCode": 401, "error": "Unauthorized Error", "message": body["message"]}


def test_unknown_valid_looking_key_is_401(idle_api: Api) -> None:
    from qumulus.auth.keys import generate_key

    response = idle_api.client.get("/v0.4/jobs", headers={"Authorization": f"apiKey {generate_key().full}"})
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("method", "path", "params", "status"),
    [
        ("GET", "/v0.4/jobs", {"limit": "0"}, 400),
        ("GET", "/v0.4/jobs", {"limit": "abc"}, 400),
        ("GET", "/v0.4/jobs", {"limit": "100000"}, 400),
        ("GET", "/v0.4/jobs", {"next": "not-a-cursor!!"}, 400),
        ("GET", "/v0.4/jobs", {"status": "exploded"}, 400),
        ("GET", "/v0.4/jobs/does-not-exist", {}, 404),
        ("GET", "/v0.4/jobs/abc%00def", {}, 400),
        ("GET", "/v0.4/jobs", {"id": "a\x00b"}, 400),
        ("GET", "/v0.4/jobs/" + "x" * 5000, {}, 404),
        ("GET", "/v0.4/jobs/does-not-exist/results/probabilities", {}, 404),
        ("PUT", "/v0.4/jobs/does-not-exist/status/cancel", {}, 404),
        ("DELETE", "/v0.4/jobs/does-not-exist", {}, 404),
        ("GET", "/v0.4/nothing-here", {}, 404),
        ("PATCH", "/v0.4/jobs", {}, 405),
        ("GET", "/v0.4/backends/no-such-backend", {}, 404),
        ("GET", "/v0.4/backends/simulator/characterizations", {"limit": "-1"}, 400),
        ("GET", "/v0.4/backends/qpu.aria-1/characterizations", {"start": "yesterday"}, 400),
        ("GET", "/v0.4/backends/qpu.aria-1/characterizations", {"start": "1e300"}, 400),
        ("GET", "/v0.4/characterizations/backends/simulator/current", {}, 404),
        ("GET", "/v0.4/characterizations/no-such-id", {}, 404),
    ],
)
def test_bad_queries(idle_api: Api, method: str, path: str, params: dict[str, str], status: int) -> None:
    response = idle_api.client.request(method, path, params=params, headers=idle_api.headers)
    assert response.status_code == status, response.text
    assert response.json()["statusCode"] == status


def test_options_and_405_name_every_method_of_the_path(idle_api: Api) -> None:
    """``OPTIONS`` answers 204 with the path's true ``Allow``; a 405 names the same set (Starlette's
    own named only the first route matching the path)."""
    options = idle_api.client.options("/v0.4/jobs", headers=idle_api.headers)
    assert options.status_code == 204
    allowed = set(options.headers["allow"].split(", "))
    assert {"GET", "POST", "DELETE", "OPTIONS"} <= allowed and "PATCH" not in allowed
    refused = idle_api.client.patch("/v0.4/jobs", headers=idle_api.headers)
    assert refused.status_code == 405 and set(refused.headers["allow"].split(", ")) == allowed


@pytest.mark.parametrize(
    "body", [None, {}, {"ids": []}, {"ids": "abc"}, {"ids": [1, 2]}, {"ids": ["a"] * 1001}]
)
def test_bad_bulk_bodies(idle_api: Api, body: Any) -> None:
    for method, path in (("PUT", "/v0.4/jobs/status/cancel"), ("DELETE", "/v0.4/jobs")):
        response = idle_api.client.request(method, path, content=json.dumps(body), headers=idle_api.headers)
        assert response.status_code == 400, response.text


def _mutations(rng: random.Random, value: Any) -> Any:
    """Replace one random node of a JSON document with a random ill-typed value."""
    choices: list[Any] = [
        None,
        True,
        -1,
        0,
        1.5,
        float("inf"),
        "",
        "x" * 300,
        [],
        {},
        [None],
        {"a": [1]},
        2**70,
    ]
    if isinstance(value, dict) and value and rng.random() < 0.8:
        key = rng.choice(list(value))
        value[key] = _mutations(rng, value[key])
        return value
    if isinstance(value, list) and value and rng.random() < 0.8:
        index = rng.randrange(len(value))
        value[index] = _mutations(rng, value[index])
        return value
    return rng.choice(choices)


def test_fuzzed_job_bodies_never_5xx(idle_api: Api) -> None:
    rng = random.Random(20261121)
    template = bell_job(
        name="fuzz",
        metadata={"k": "v"},
        noise={"model": "ideal", "seed": 1},
        input={"qubits": 3, "gateset": "qis", "circuit": [
            {"gate": "h", "targets": [0]}, {"gate": "rx", "target": 1, "rotation": 0.5},
            {"gate": "x", "targets": [2], "controls": [0, 1]},
            {"gate": "pauliexp", "targets": [0, 1], "terms": ["XY"], "coefficients": [0.3], "time": 1.0},
        ]},
    )  # fmt: skip
    statuses: dict[int, int] = {}
    for _ in range(300):
        body = _mutations(rng, copy.deepcopy(template))
        try:
            raw = json.dumps(body)
        except ValueError:
            continue
        response = idle_api.post("/v0.4/jobs", content=raw)
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        assert response.status_code < 500, (raw, response.text)
        if response.status_code >= 400:
            assert set(response.json()) >= {"statusCode", "error", "message"}
    assert any(s >= 400 for s in statuses) and any(s == 201 for s in statuses)
