"""Two organizations flooding the broker: jobs reach the upstream in fair-share order, never more
than ``max_outstanding`` at a time. Measured from the upstream's own timestamps."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from decimal import Decimal

import pytest

from tests.drivers.broker import MAX_OUTSTANDING, Cluster

pytestmark = [pytest.mark.slow]

PER_ORG = 6
BELL = {"qubits": 2, "circuit": [{"gate": "h", "targets": [0]}, {"gate": "cnot", "control": 0, "target": 1}]}


def _new_org(cluster: Cluster, name: str) -> tuple[str, str]:
    """A fresh organization on the broker (no usage yet), with a project (and its budget), a key and
    the same contract terms; returns (key, project id)."""
    broker = cluster.broker
    org = broker.api("POST", "/organizations", json={"name": name})["id"]
    project = broker.api("POST", f"/organizations/{org}/projects", json={"name": "b"})["id"]
    key = broker.api("POST", f"/projects/{project}/keys", json={"name": "flood"})["key"]
    terms = {"backend": "upstream.*", "rate_per_second": "0.5"}
    broker.api("POST", f"/organizations/{org}/contracts", json=terms)
    broker.api("POST", f"/projects/{project}/budgets", json={"limit": "100"})
    return key, project


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_two_floods_reach_the_upstream_in_fair_share_order_within_the_outstanding_limit(
    cluster: Cluster,
) -> None:
    broker = cluster.broker
    (key_a, project_a), (key_b, _) = _new_org(cluster, "Group A"), _new_org(cluster, "Group B")
    # Hold releases while both floods arrive (an administrator's maintenance on the local backend),
    # so the order they reach the upstream is the scheduler's, not the order they were typed in.
    broker.api(
        "PUT", "/backends/upstream.aria-1/status", json={"status": "maintenance", "message": "flood test"}
    )
    body = {"type": "ionq.circuit.v1", "backend": "upstream.aria-1", "shots": 50, "input": BELL}
    jobs = {
        key: [broker.api("POST", "/jobs", json=body, key=key)["id"] for _ in range(PER_ORG)]
        for key in (key_a, key_b)
    }  # all of A's, then all of B's
    broker.api("PUT", "/backends/upstream.aria-1/status", json={"status": "operational", "message": ""})

    arrivals = []
    spent_at_upstream = Decimal(0)
    for label, key in (("A", key_a), ("B", key_b)):
        for job_id in jobs[key]:
            assert broker.wait_job(job_id, key=key, timeout=300)["status"] == "completed"
            ((_, provider_id),) = cluster.provider_jobs(job_id)
            up = cluster.upstream_job(provider_id)
            arrivals.append((_when(up["submitted_at"]), _when(up["completed_at"]), label))
            spent_at_upstream += Decimal(str(up["cost"])) if label == "A" else 0
    (budget,) = broker.api("GET", f"/projects/{project_a}/budgets", key=key_a)["budgets"]
    # the upstream's costs landed in the group's budget: all spent, nothing left held
    assert Decimal(budget["spent"]) == spent_at_upstream > 0 and Decimal(budget["held"]) == 0
    arrivals.sort()
    order = "".join(label for _, _, label in arrivals)
    first_half = Counter(order[:PER_ORG])
    print(f"\nrelease order at the upstream: {order}; first {PER_ORG}: {dict(first_half)}")
    # Fair share: B, though it queued last, gets its half of the first releases (A's flood did not
    # take the shared contract); a strict FIFO would give A all of them.
    assert abs(first_half["A"] - first_half["B"]) <= 2, order
    # Never more than the outstanding limit at the upstream at once (its own timestamps).
    events = sorted(
        [(s, 1) for s, _, _ in arrivals] + [(e, -1) for _, e, _ in arrivals], key=lambda x: (x[0], x[1])
    )
    peak = depth = 0
    for _, step in events:
        depth += step
        peak = max(peak, depth)
    assert peak <= MAX_OUTSTANDING
