"""Reading IonQ's wire, in the shapes IonQ's own documentation shows (v0.4 and the v0.3 leftovers)."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import pytest

from qumulus.drivers import ProviderJob
from qumulus.drivers import ionq_wire as wire


@pytest.mark.parametrize(
    ("word", "status"),
    [
        ("submitted", "queued"),
        ("ready", "queued"),
        ("started", "running"),
        ("running", "running"),
        ("completed", "completed"),
        ("failed", "failed"),
        ("canceled", "canceled"),
        ("deleted", "canceled"),
        ("something-new", "queued"),
    ],
)
def test_statuses_of_both_api_versions_map(word: str, status: str) -> None:
    assert wire.status_of({"status": word}) == (status, word)


def test_failures_read_v04_message_and_v03_error() -> None:
    v04 = wire.failure_of({"failure": {"code": "CompilationError", "message": "bad gate"}})
    v03 = wire.failure_of({"failure": {"code": "internal_error", "error": "An error occurred!"}})
    assert (v04.code, v04.message) == ("CompilationError", "provider: bad gate")
    assert (v03.code, v03.message) == ("internal_error", "provider: An error occurred!")
    assert wire.failure_of({"status": "failed"}).code == "QuantumComputerError"


def test_usage_and_cost_from_every_known_field() -> None:
    assert wire.usage_of({"usage_seconds": 0.62, "execution_duration_ms": 9}) == 0.62  # Qumulus
    assert wire.usage_of({"execution_duration_ms": 1500}) == 1.5  # v0.4
    assert wire.usage_of({"execution_time": 13}) == 0.013  # v0.3 (ms)
    assert wire.usage_of({}) is None
    assert wire.cost_of({"cost": 0.3095}) == (Decimal("0.3095"), None)  # Qumulus
    assert wire.cost_of({"cost": {"value": 24.83, "unit": "usd"}}) == (Decimal("24.83"), "USD")  # /cost
    assert wire.cost_of({"cost_usd": 12.41}) == (Decimal("12.41"), "USD")  # v0.3
    assert wire.cost_of({"cost": None}) == (None, None)


def test_distributions_keep_circuit_order_and_little_endian_keys() -> None:
    assert wire.distribution({"0": 0.5, "3": 0.5}) == {0: 0.5, 3: 0.5}
    raw = {"c-b": {"1": 1.0}, "c-a": {"2": 1}}
    assert wire.distributions(raw, ["c-b", "c-a"]) == [{1: 1.0}, {2: 1.0}]
    assert wire.distributions(raw, []) == [{1: 1.0}, {2: 1.0}]  # no ids: the answer's own order
    assert wire.shots_of(["0", 3, "3"]) == [0, 3, 3]
    assert wire.histogram_of({"0": 49, "3": 51}) == {0: 49, 3: 51}
    for bad in ({}, [], {"0": "x"}):
        with pytest.raises(ValueError):
            wire.distribution(bad)


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"status": "available"}, "operational"),
        ({"status": "available", "degraded": True}, "degraded"),
        ({"status": "unavailable"}, "major_outage"),
        ({"status": "offline"}, "maintenance"),
        ({"status": "calibrating"}, "maintenance"),
        ({"status": "retired"}, "retired"),
        ({"status": "on-fire"}, "major_outage"),
    ],
)
def test_device_statuses_map_to_the_platform_vocabulary(body: dict, status: str) -> None:
    assert wire.device_status({**body, "qubits": 25, "average_queue_time": 120000}).status == status


def test_characterizations_of_both_date_formats() -> None:
    body = {
        "id": "u-1",
        "date": "2025-06-16T00:00:00.000Z",
        "qubits": 25,
        "connectivity": [[0, 1]],
        "fidelity": {"spam": {"median": 0.995}},
        "timing": {"t1": 100},
    }
    snap = wire.characterization_of(body, qubits=0)
    assert snap.provider_id == "u-1" and snap.qubits == 25
    assert snap.date == datetime(2025, 6, 16, tzinfo=timezone.utc)
    assert snap.data == {
        "fidelity": {"spam": {"median": 0.995}},
        "timing": {"t1": 100},
        "connectivity": [[0, 1]],
    }
    v03 = wire.characterization_of({"date": 1750032000, "fidelity": {}}, qubits=11)
    assert v03.date == datetime.fromtimestamp(1750032000, tz=timezone.utc) and v03.qubits == 11


def test_the_submitted_body_carries_the_circuits_and_the_token_but_not_user_metadata() -> None:
    job = ProviderJob(
        token="qumulus-e1",
        type="ionq.circuit.v1",
        input={"qubits": 2, "circuit": []},
        shots=100,
        name="bell",
        settings={"error_mitigation": {"debiasing": False}},
        noise={"model": "aria-1", "seed": 3},
        tags={"qumulus_job": "j1"},
    )
    body = wire.submit_body(job, "qpu.aria-1")
    assert body == {
        "type": "ionq.circuit.v1",
        "backend": "qpu.aria-1",
        "shots": 100,
        "name": "bell",
        "input": {"qubits": 2, "circuit": []},
        "settings": {"error_mitigation": {"debiasing": False}},
        "metadata": {"qumulus_job": "j1", "qumulus_token": "qumulus-e1"},
    }
    assert wire.submit_body(job, "simulator")["noise"] == {"model": "aria-1", "seed": 3}
    assert wire.safe_name("bell/2 (try #3)") == "bell_2 _try _3_" and wire.safe_name("///") == "_"
    assert wire.safe_name("") is None and len(wire.safe_name("x" * 300) or "") == 100


def test_refusals_become_failures_with_ionq_codes() -> None:
    assert wire.http_failure(422, {"message": "input.circuit[0].gate: unknown"}, "").code == "InvalidInput"
    assert wire.http_failure(402, {"message": "budget"}, "").code == "QuotaExhaustedError"
    assert "credentials" in wire.http_failure(401, None, "Invalid key").message


def test_a_providers_artifact_formats_map_to_local_artifact_ids() -> None:
    from qumulus.wire.jobs import local_artifact_id

    assert local_artifact_id("ionq.native.v1") == "native"  # the ids local jobs serve them under
    assert local_artifact_id("ionq.result.shots.json.v2") == "shots"
    assert local_artifact_id("ionq.result.probabilities.json.v1") == "ionq.result.probabilities.json.v1"
    for odd in ("native", "shots", "../x", "a/b", "", "x" * 200):  # a local id's name, or not a URL segment
        assert local_artifact_id(odd) is None
