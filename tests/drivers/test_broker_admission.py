"""Local admission comes first on a driver-served backend: a job the broker refuses (no contract, a
budget that cannot hold it) is refused *here*, with the ordinary status code, and the upstream never
hears of it. The same job, once admitted, does reach the upstream (so "never heard of" is not an
artefact of how the upstream is searched)."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import pytest

from tests.drivers.broker import Cluster, headers

pytestmark = [pytest.mark.slow]

BELL = {"qubits": 2, "circuit": [{"gate": "h", "targets": [0]}, {"gate": "cnot", "control": 0, "target": 1}]}


def _upstream_names(cluster: Cluster) -> list[str]:
    """Names of the upstream's newest jobs (its own record, over its API)."""
    body = cluster.upstream.api("GET", "/jobs", params={"limit": 100})
    return [job.get("name") or "" for job in body["jobs"]]


def _post(cluster: Cluster, key: str, name: str) -> httpx.Response:
    body = {
        "type": "ionq.circuit.v1",
        "backend": "upstream.aria-1",
        "shots": 100,
        "input": BELL,
        "name": name,
    }
    return httpx.post(f"{cluster.broker.v04}/jobs", headers=headers(key), json=body, timeout=30)


def _org_with_project(cluster: Cluster, name: str) -> tuple[str, str, str]:
    broker = cluster.broker
    org = broker.api("POST", "/organizations", json={"name": name})["id"]
    project = broker.api("POST", f"/organizations/{org}/projects", json={"name": "p"})["id"]
    key = broker.api("POST", f"/projects/{project}/keys", json={"name": "k"})["key"]
    return org, project, key


def _nothing_upstream(cluster: Cluster, name: str, before: int) -> None:
    """Give the broker's dispatcher time to act (it releases within ~0.1 s), then check the
    upstream has no job of that name and no new job at all."""
    time.sleep(1.5)
    names = _upstream_names(cluster)
    assert name not in names
    assert _newest_upstream(cluster) == before  # no job at all reached it meanwhile
    assert cluster.broker.sql("SELECT count(*) FROM jobs WHERE name = ?", name) == [(0,)]  # nothing stored


def _newest_upstream(cluster: Cluster) -> Any:
    jobs = cluster.upstream.api("GET", "/jobs", params={"limit": 1})["jobs"]
    return jobs[0]["id"] if jobs else None


def test_a_job_the_broker_refuses_never_reaches_the_upstream(cluster: Cluster) -> None:
    broker = cluster.broker
    org, project, key = _org_with_project(cluster, "Admission")

    # 1. No contract for upstream.* in this organization: refused by the broker.
    name = f"no-contract-{uuid.uuid4().hex[:8]}"
    before = _newest_upstream(cluster)
    refused = _post(cluster, key, name)
    assert refused.status_code == 403, refused.text
    assert "contract" in refused.json()["message"].lower()
    _nothing_upstream(cluster, name, before)

    # 2. A contract, but a budget that cannot hold the job: 402 before anything is forwarded.
    broker.api(
        "POST", f"/organizations/{org}/contracts", json={"backend": "upstream.*", "rate_per_second": "0.5"}
    )
    budget = broker.api("POST", f"/projects/{project}/budgets", json={"limit": "0.01"})
    name = f"over-budget-{uuid.uuid4().hex[:8]}"
    before = _newest_upstream(cluster)
    refused = _post(cluster, key, name)
    assert refused.status_code == 402, refused.text
    assert refused.json()["error"] in ("QuotaExhaustedError", "Payment Required") or "budget" in refused.text
    _nothing_upstream(cluster, name, before)

    # 3. The same job with room in the budget is admitted and does reach the upstream, named.
    broker.api("PATCH", f"/projects/{project}/budgets/{budget['id']}", json={"limit": "100"})
    name = f"admitted-{uuid.uuid4().hex[:8]}"
    accepted = _post(cluster, key, name)
    assert accepted.status_code < 300, accepted.text
    done = broker.wait_job(accepted.json()["id"], key=key, timeout=180)
    assert done["status"] == "completed"
    assert name in _upstream_names(cluster)
