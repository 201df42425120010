"""The upstream's artifacts come through the broker: an OpenQASM 3 program (qiskit-ionq sends a
circuit with a mid-circuit measurement and a reset as ``ionq.qasm3.v1``) is forwarded as text, and
its per-shot registers (``ionq.result.shots.json.v2``) and the upstream's compiled circuit
(``ionq.native.v1``) are kept by the broker and served from its own ``/artifacts/{id}`` URLs, equal
to what the upstream published. Both servers are real (tests/drivers/broker.py)."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest

pytest.importorskip("qiskit_ionq")

from qiskit import QuantumCircuit
from qiskit_ionq import IonQProvider
from qiskit_ionq.ionq_backend import IonQQPUBackend

from tests.drivers.broker import Cluster, headers

pytestmark = [pytest.mark.compat, pytest.mark.slow]

SHOTS_V2 = "ionq.result.shots.json.v2"
NATIVE = "ionq.native.v1"


@pytest.fixture(scope="module")
def qpu(cluster: Cluster) -> Iterator[Any]:
    broker = cluster.broker
    with pytest.MonkeyPatch.context() as mp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in ("IONQ_API_URL", "QISKIT_IONQ_API_URL"):
            mp.setenv(name, broker.v04)
        for name in ("IONQ_API_KEY", "IONQ_API_TOKEN", "QISKIT_IONQ_API_TOKEN"):
            mp.setenv(name, broker.key)
        provider = IonQProvider(token=broker.key, url=broker.v04)
        yield IonQQPUBackend(provider, name="ionq_upstream.aria-1")


def mid_circuit() -> QuantumCircuit:
    """q0 is measured, reset and rotated; q1 copies q0's first value: c = (m0, ry, m0)."""
    qc = QuantumCircuit(2, 3, name="mcm")
    qc.h(0)
    qc.cx(0, 1)
    qc.measure(0, 0)
    qc.reset(0)
    qc.ry(0.7, 0)
    qc.measure(0, 1)
    qc.measure(1, 2)
    return qc


def upstream_artifact(cluster: Cluster, provider_id: str, fmt: str) -> Any:
    """An artifact as the upstream publishes it, through its own descriptors and URL."""
    there = cluster.upstream_job(provider_id)
    if fmt == NATIVE:
        descriptor = there["output"]["compilation"]["compiled_circuits"][NATIVE]
    else:
        descriptor = there["results"][fmt]
    return cluster.upstream.api("GET", f"/jobs/{provider_id}/artifacts/{descriptor['id']}")


def only_provider_job(cluster: Cluster, local_id: str) -> str:
    ((execution_id, provider_id),) = cluster.provider_jobs(local_id)
    (only,) = cluster.upstream_jobs_for(execution_id)  # submitted exactly once
    assert only["id"] == provider_id
    return str(provider_id)


def test_qiskit_mid_circuit_program_is_forwarded_and_its_memory_is_the_upstreams(
    cluster: Cluster, qpu: Any
) -> None:
    shots = 400
    broker = cluster.broker
    project = broker.api("GET", "/whoami")["project_id"]
    budget = broker.api("POST", f"/projects/{project}/budgets", json={"limit": "1000"})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        job = qpu.run(mid_circuit(), shots=shots, memory=True)
        result = job.result(wait=0.05, timeout=180)
    memory, counts = result.get_memory(), result.get_counts()
    assert len(memory) == shots and {k: memory.count(k) for k in set(memory)} == counts

    local_id = job.job_id()
    provider_id = only_provider_job(cluster, local_id)
    up = cluster.upstream_job(provider_id)
    assert up["type"] == "ionq.qasm3.v1" and up["status"] == "completed"  # forwarded as a program
    mine = broker.api("GET", f"/jobs/{local_id}")
    assert mine["type"] == "ionq.qasm3.v1" and mine["status"] == "completed"

    # The registers: served by the broker under its own id, equal to the upstream's artifact.
    theirs = upstream_artifact(cluster, provider_id, SHOTS_V2)
    assert mine["results"][SHOTS_V2]["id"] == "shots"
    assert broker.api("GET", f"/jobs/{local_id}/artifacts/shots") == theirs
    # ... and qiskit's memory is exactly those shots, in order (clbit i = register element i).
    assert memory == ["".join(str(b) for b in reversed(s["registers"]["c"])) for s in theirs["shots"]]
    copied = sum(s[0] == s[2] for s in memory)  # "c2 c1 c0": q1 copied q0's first value, up to noise
    assert copied >= 0.9 * shots and {s[2] for s in memory} == {"0", "1"}

    # The upstream's compilation (its emulated qpu.aria-1 compiles every job), reachable the same way.
    assert mine["output"]["compilation"]["compiled_circuits"][NATIVE]["id"] == "native"
    native = job.compiled_circuit("native")
    assert native == upstream_artifact(cluster, provider_id, NATIVE)
    assert {g["gate"] for g in native["circuit"]} >= {"measure", "reset"}  # kept in place

    # Admitted locally like any job: the contract's rate × the timing model's estimate was held
    # against the budget at submission; the upstream's cost is what was billed.
    ((estimate, hold, budget_id),) = broker.sql(
        "SELECT estimated_seconds, budget_hold, budget_id FROM jobs WHERE id = ?", local_id
    )
    assert estimate > 0 and budget_id == budget["id"]
    assert Decimal(str(hold)) == (Decimal("0.5") * Decimal(str(estimate))).quantize(Decimal("0.000001"))
    ((usage, cost),) = cluster.ledger(local_id)
    assert usage == up["usage_seconds"] > 0
    assert Decimal(str(cost)) == Decimal(str(mine["cost"])) == Decimal(str(up["cost"])) > 0


def test_a_gate_list_qpu_jobs_compiled_circuit_is_the_upstreams(cluster: Cluster, qpu: Any) -> None:
    qc = QuantumCircuit(3, 3, name="ghz")
    qc.h(0)
    qc.cx(0, 1)
    qc.cx(1, 2)
    qc.measure([0, 1, 2], [0, 1, 2])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        job = qpu.run(qc, shots=100)
        job.result(wait=0.05, timeout=180)
        native = job.compiled_circuit("native")
    provider_id = only_provider_job(cluster, job.job_id())
    assert native == upstream_artifact(cluster, provider_id, NATIVE)
    assert {g["gate"] for g in native["circuit"]} <= {"gpi", "gpi2", "ms"}
    # A gate-list job publishes no registers artifact, upstream or here.
    assert SHOTS_V2 not in cluster.broker.api("GET", f"/jobs/{job.job_id()}")["results"]


def test_a_multi_circuit_job_serves_its_childrens_upstream_compilations_in_order(
    cluster: Cluster, qpu: Any
) -> None:
    one, two = QuantumCircuit(2, 2, name="one"), QuantumCircuit(3, 3, name="two")
    one.h(0)
    one.cx(0, 1)
    one.measure([0, 1], [0, 1])
    two.x(2)
    two.cx(2, 0)
    two.cx(0, 1)
    two.measure([0, 1, 2], [0, 1, 2])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        job = qpu.run([one, two], shots=100)
        job.result(wait=0.05, timeout=180)
        natives = job.compiled_circuit("native")
    parent = cluster.broker.api("GET", f"/jobs/{job.job_id()}")
    theirs = [
        upstream_artifact(cluster, str(provider_id), NATIVE)
        for _, provider_id in cluster.provider_jobs(job.job_id())  # one upstream job per circuit
    ]
    assert len(parent["child_job_ids"]) == 2 and natives == theirs
    # circuit order: one entangling (MS) gate per CNOT
    assert [sum(g["gate"] == "ms" for g in n["circuit"]) for n in natives] == [1, 2]
    for child_id, native in zip(parent["child_job_ids"], theirs, strict=True):
        assert cluster.broker.api("GET", f"/jobs/{child_id}/artifacts/native") == native


def test_a_dry_run_is_compiled_by_the_broker_and_reaches_no_upstream(cluster: Cluster, qpu: Any) -> None:
    before = cluster.upstream.api("GET", "/jobs", params={"limit": 1})["jobs"][0]["id"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        job = qpu.run(mid_circuit(), shots=100, dry_run=True)
        job.wait_for_final_state(wait=0.05, timeout=60)
        native = job.compiled_circuit("native")
    assert {g["gate"] for g in native["circuit"]} >= {"ms", "measure", "reset"}
    assert cluster.provider_jobs(job.job_id()) == []  # a dry run only compiles: nothing to forward
    assert cluster.upstream.api("GET", "/jobs", params={"limit": 1})["jobs"][0]["id"] == before


PROGRAM = 'OPENQASM 3.0;\ninclude "stdgates.inc";\nbit[1] c;\nqubit[1] q;\nx q[0];\nc[0] = measure q[0];\n'


def test_a_program_for_a_driver_that_takes_none_is_a_400_naming_the_type(cluster: Cluster) -> None:
    """The toy driver forwards gate lists only (``Driver.job_types`` left at its default)."""
    body = {"type": "ionq.qasm3.v1", "backend": "lab.toy", "shots": 10, "input": {"data": PROGRAM}}
    refused = httpx.post(
        f"{cluster.broker.v04}/jobs", headers=headers(cluster.broker.key), json=body, timeout=30
    )
    assert refused.status_code == 400, refused.text
    assert refused.json()["message"].startswith("type: lab.toy takes ionq.circuit.v1")
    assert "'toy'" in refused.json()["message"]
