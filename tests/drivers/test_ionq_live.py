"""The ``ionq`` driver against a real Qumulus server playing the provider (``qumulus serve``; the
broker cluster's upstream, tests/drivers/broker.py).

Everything the driver reports is checked against what the upstream itself recorded (its own
``GET /jobs`` answers), never against the driver's word alone.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import Any

import httpx
import pytest

from qumulus.drivers import Rejected, UnknownJob
from qumulus.drivers.forward import follow, submit_once
from tests.compat._util import BIG_DEPTH, BIG_QUBITS, random_layers
from tests.drivers.conftest import FAST, Observed, ionq_driver, job, upstream_jobs

pytestmark = pytest.mark.compat


def _upstream_job(server: Any, job_id: str) -> dict[str, Any]:
    return httpx.get(
        f"{server.v04}/jobs/{job_id}", headers={"Authorization": f"apiKey {server.key}"}, timeout=30
    ).json()


def test_a_bell_job_on_the_upstream_qpu_comes_back_with_its_results_usage_and_cost(upstream) -> None:  # type: ignore[no-untyped-def]
    driver = ionq_driver(upstream.url, upstream.key)
    retry = Observed()
    recorded: list[str] = []
    work = job(shots=200)
    provider_id = submit_once(
        driver, work, known_id=None, record=recorded.append, retry=retry, earlier_attempts=False
    )
    assert provider_id is not None and recorded == [provider_id]
    state = follow(driver, provider_id, retry=retry, schedule=FAST)
    assert state is not None and state.status == "completed" and retry.seen == []

    recorded_there = _upstream_job(upstream, provider_id)
    assert recorded_there["status"] == "completed" and recorded_there["backend"] == "qpu.aria-1"
    assert recorded_there["metadata"]["qumulus_token"] == work.token
    assert state.usage_seconds == recorded_there["usage_seconds"] > 0
    assert state.cost == Decimal(str(recorded_there["cost"])) > 0
    (result,) = state.results or []
    assert result.qubits == 2 and result.shots is not None and len(result.shots) == 200
    assert Counter(result.shots) == result.histogram  # the upstream's own shots and counts agree
    assert sum(result.probabilities.values()) == pytest.approx(1.0)
    assert result.probabilities.get(0, 0) + result.probabilities.get(3, 0) > 0.8  # a (noisy) Bell pair
    assert driver.pushes  # the upstream's Server-Sent Events were used, not given up on
    # The upstream compiled it (an emulated QPU job): its output.compilation artifact came with it.
    descriptor = recorded_there["output"]["compilation"]["compiled_circuits"]["ionq.native.v1"]
    compiled = httpx.get(
        f"{upstream.v04}/jobs/{provider_id}/artifacts/{descriptor['id']}",
        headers={"Authorization": f"apiKey {upstream.key}"},
        timeout=30,
    ).json()
    assert set(state.artifacts) == {"ionq.native.v1"} and state.artifacts["ionq.native.v1"] == compiled
    assert {g["gate"] for g in compiled["circuit"]} <= {"gpi", "gpi2", "ms"}
    driver.close()


def test_a_worker_that_died_before_recording_the_id_re_attaches_instead_of_resubmitting(upstream) -> None:  # type: ignore[no-untyped-def]
    driver = ionq_driver(upstream.url, upstream.key, target="simulator")
    work = job()

    def crash(provider_id: str) -> None:
        raise SystemExit("the worker died before its commit")

    with pytest.raises(SystemExit):
        submit_once(driver, work, known_id=None, record=crash, retry=Observed(), earlier_attempts=False)
    (first,) = upstream_jobs(upstream, work.token)  # the provider accepted it

    recorded: list[str] = []
    again = submit_once(driver, work, known_id=None, record=recorded.append, retry=Observed())
    assert again == first["id"] and recorded == [first["id"]]
    assert driver.find(work.token) == first["id"] and driver.find(f"{work.token}-other") is None
    # Even a plain second submit (the search skipped) is the same job: the key is honoured.
    assert driver.submit(work) == first["id"]
    assert [j["id"] for j in upstream_jobs(upstream, work.token)] == [first["id"]]
    driver.close()


def test_multi_circuit_results_come_back_in_circuit_order(upstream) -> None:  # type: ignore[no-untyped-def]
    driver = ionq_driver(upstream.url, upstream.key, target="simulator")
    circuits = [
        {"circuit": [{"gate": "x", "targets": [0]}]},
        {"circuit": [{"gate": "x", "targets": [1]}]},
        {"circuit": [{"gate": "h", "targets": [0]}]},
    ]
    work = job({"qubits": 2, "circuits": circuits}, kind="ionq.multi-circuit.v1")
    retry = Observed()
    provider_id = submit_once(driver, work, known_id=None, record=lambda _: None, retry=retry)
    state = follow(driver, provider_id or "", retry=retry, schedule=FAST)
    assert state is not None and state.status == "completed"
    assert [r.probabilities for r in state.results or []] == [{1: 1.0}, {2: 1.0}, {0: 0.5, 1: 0.5}]
    assert state.cost == Decimal(0)  # the simulator is free at the upstream
    driver.close()


def test_cancel_is_forwarded_and_the_job_ends_canceled(upstream) -> None:  # type: ignore[no-untyped-def]
    driver = ionq_driver(upstream.url, upstream.key, target="simulator")
    gates = [
        {"gate": "cnot", "control": q[0], "target": q[1]}
        if g == "cnot"
        else {"gate": g, "targets": [q[0]], "rotation": a}
        for g, q, a in random_layers(BIG_QUBITS, BIG_DEPTH)
    ]
    provider_id = driver.submit(job({"qubits": BIG_QUBITS, "circuit": gates}))
    driver.cancel(provider_id)
    state = follow(driver, provider_id, retry=Observed(), schedule=FAST)
    assert state is not None and state.status == "canceled" and state.results is None
    assert _upstream_job(upstream, provider_id)["status"] == "canceled"
    driver.cancel(provider_id)  # already final there: not an error
    driver.close()


def test_a_job_the_upstream_refuses_fails_with_its_reason(upstream) -> None:  # type: ignore[no-untyped-def]
    driver = ionq_driver(upstream.url, upstream.key)  # qpu.aria-1 has 25 qubits
    wide = {"qubits": 30, "circuit": [{"gate": "x", "targets": [29]}]}
    with pytest.raises(Rejected) as err:
        submit_once(driver, job(wide), known_id=None, record=lambda _: None, retry=Observed())
    assert err.value.failure.code == "InvalidInput" and "30" in err.value.failure.message
    with pytest.raises(UnknownJob):
        driver.poll("00000000-0000-4000-8000-000000000000")
    driver.close()


def test_the_device_status_and_characterization_are_the_upstreams(upstream) -> None:  # type: ignore[no-untyped-def]
    driver = ionq_driver(upstream.url, upstream.key)
    backend = httpx.get(f"{upstream.v04}/backends/qpu.aria-1", timeout=30).json()
    status = driver.status()
    assert (status.status, status.qubits, status.provider_status) == ("operational", 25, "available")
    snapshot = driver.characterization()
    assert snapshot is not None and snapshot.provider_id == backend["characterization_id"]
    assert snapshot.qubits == 25 and snapshot.date is not None
    assert snapshot.data["fidelity"]["2q"]["median"] > 0.9 and snapshot.data["connectivity"]
    gone = ionq_driver(upstream.url, upstream.key, target="qpu.nowhere-9")
    assert gone.status().status == "retired" and gone.characterization() is None
    driver.close()
    gone.close()


MCM = (
    'OPENQASM 3.0;\ninclude "stdgates.inc";\nbit[2] c;\nqubit[2] q;\nh q[0];\nc[0] = measure q[0];\n'
    "reset q[0];\nif (c[0]) { x q[1]; }\nc[1] = measure q[1];\n"
)


def test_an_upstream_artifact_is_fetched_by_id_with_the_results(upstream) -> None:  # type: ignore[no-untyped-def]
    """IonQ's newer result form lists artifacts by id (``{"<format>": {"id": …}}``, no URL): the
    driver fetches each one with the results. The upstream's OpenQASM job publishes its per-shot
    registers as ``ionq.result.shots.json.v2``; the driver's state carries exactly that body."""
    driver = ionq_driver(upstream.url, upstream.key, target="simulator")
    work = job({"data": MCM, "qubits": 2}, shots=300, kind="ionq.qasm3.v1")
    provider_id = submit_once(
        driver, work, known_id=None, record=lambda _: None, retry=Observed(), earlier_attempts=False
    )
    assert provider_id is not None
    state = follow(driver, provider_id, retry=Observed(), schedule=FAST)
    assert state is not None and state.status == "completed"

    there = _upstream_job(upstream, provider_id)
    descriptor = there["results"]["ionq.result.shots.json.v2"]
    assert "url" not in descriptor  # an artifact by id, not a result link
    published = httpx.get(
        f"{upstream.v04}/jobs/{provider_id}/artifacts/{descriptor['id']}",
        headers={"Authorization": f"apiKey {upstream.key}"},
        timeout=30,
    ).json()
    assert set(state.artifacts) == {"ionq.result.shots.json.v2"}  # the links with a URL are results
    assert state.artifacts["ionq.result.shots.json.v2"] == published
    pairs = [tuple(shot["registers"]["c"]) for shot in state.artifacts["ionq.result.shots.json.v2"]["shots"]]
    assert len(pairs) == 300 and set(pairs) == {(0, 0), (1, 1)}  # c[1] copies c[0]
    driver.close()
