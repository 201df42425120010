"""Backends served by drivers, as users and administrators meet them on the broker: a third-party
driver's backend, the upstream device mirrored (status and characterization, history kept), and
backends declared through the admin API without a restart."""

from __future__ import annotations

import time
from decimal import Decimal

import httpx
import pytest

from tests.drivers.broker import Cluster, headers

pytestmark = [pytest.mark.slow]


def test_a_third_party_driver_package_serves_a_backend_with_no_change_to_qumulus(cluster: Cluster) -> None:
    broker = cluster.broker
    listed = {b["backend"]: b for b in httpx.get(f"{broker.v04}/backends", timeout=30).json()}
    assert listed["lab.toy"]["qubits"] == 8 and listed["lab.toy"]["status"] == "available"
    circuits = [
        {"circuit": [{"gate": "x", "targets": [0]}, {"gate": "cnot", "control": 0, "target": 2}]},
        {"circuit": [{"gate": "x", "targets": [1]}, {"gate": "swap", "targets": [1, 2]}]},
    ]
    body = {
        "type": "ionq.multi-circuit.v1",
        "backend": "lab.toy",
        "shots": 10,
        "input": {"qubits": 3, "circuits": circuits},
    }
    job = broker.wait_job(broker.api("POST", "/jobs", json=body)["id"])
    assert job["status"] == "completed" and Decimal(str(job["cost"])) == Decimal("0.02")  # the toy's price
    assert broker.api("GET", f"/jobs/{job['id']}/results/probabilities") == {
        job["child_job_ids"][0]: {"5": 1.0},
        job["child_job_ids"][1]: {"4": 1.0},
    }
    assert all(len(cluster.ledger(child)) == 1 for child in job["child_job_ids"])


def _latest(server_v04: str, backend: str) -> dict:
    body = httpx.get(
        f"{server_v04}/backends/{backend}/characterizations", params={"limit": 10}, timeout=30
    ).json()
    return body


def test_the_upstream_device_is_mirrored_with_its_history(cluster: Cluster) -> None:
    mine = _latest(cluster.broker.v04, "upstream.aria-1")["characterizations"]
    theirs = _latest(cluster.upstream.v04, "qpu.aria-1")["characterizations"][0]
    assert mine[0]["fidelity"] == theirs["fidelity"] and mine[0]["timing"] == theirs["timing"]
    assert mine[0]["qubits"] == 25 and mine[0]["date"] == theirs["date"]
    cluster.upstream.api("POST", "/backends/qpu.aria-1/recalibrate")  # the provider publishes a new one
    new = _latest(cluster.upstream.v04, "qpu.aria-1")["characterizations"][0]
    deadline = time.monotonic() + 60
    while (now := _latest(cluster.broker.v04, "upstream.aria-1")["characterizations"])[0]["date"] != new[
        "date"
    ]:
        assert time.monotonic() < deadline, "the new characterization was never mirrored"
        time.sleep(0.2)
    assert now[0]["fidelity"] == new["fidelity"] and len(now) == len(mine) + 1  # the old one is kept


def test_backends_declared_through_the_admin_api_serve_jobs_without_a_restart(cluster: Cluster) -> None:
    broker, upstream = cluster.broker, cluster.upstream
    decl = {
        "driver": "ionq",
        "qubits": 29,
        "kind": "simulator",
        "max_outstanding": 2,
        "credential": {"env": "UPSTREAM_KEY"},
        "options": {"url": upstream.url, "target": "simulator"},
    }
    shown = broker.api("PUT", "/admin/backends/upstream.sim", json=decl)
    assert shown["credential"] == "env:UPSTREAM_KEY" and shown["source"] == "admin"
    listing = httpx.get(f"{broker.v04}/admin/backends", headers=headers(broker.key), timeout=30)
    assert upstream.key not in listing.text  # the reference is shown, never the key
    bell = {
        "qubits": 2,
        "circuit": [{"gate": "h", "targets": [0]}, {"gate": "cnot", "control": 0, "target": 1}],
    }
    job = {"type": "ionq.circuit.v1", "backend": "upstream.sim", "shots": 100, "input": bell}
    done = broker.wait_job(broker.api("POST", "/jobs", json=job)["id"])
    assert done["status"] == "completed"
    assert broker.api("GET", f"/jobs/{done['id']}/results/probabilities") == {"0": 0.5, "3": 0.5}

    bad = httpx.put(
        f"{broker.v04}/admin/backends/upstream.bad",
        headers=headers(broker.key),
        timeout=30,
        json={**decl, "max_outstanding": 0},
    )
    assert bad.status_code == 400 and bad.json()["message"].startswith("max_outstanding: ")
    clear = httpx.put(
        f"{broker.v04}/admin/backends/upstream.bad",
        headers=headers(broker.key),
        timeout=30,
        json={**decl, "credential": {"key": "sk-secret"}},
    )
    assert clear.status_code == 400 and "environment variable" in clear.json()["message"]
    assert "sk-secret" not in clear.text

    retired = broker.api("DELETE", "/admin/backends/upstream.sim")
    assert retired["status"] == "retired"
    refused = httpx.post(f"{broker.v04}/jobs", headers=headers(broker.key), json=job, timeout=30)
    assert refused.status_code == 400 and "retired" in refused.json()["message"]
