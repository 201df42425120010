"""The unmodified qiskit-ionq and cirq-ionq clients against a broker whose ``upstream.aria-1`` is
another Qumulus's ``qpu.aria-1``: results, statuses and costs are the upstream's own.

qiskit builds QPU backends only for names it knows, so the broker's backend is used through qiskit's
public ``IonQQPUBackend`` class with the name ``ionq_upstream.aria-1`` (qiskit strips ``ionq_`` and
sends ``upstream.aria-1``); its unauthenticated qubit probe asks for ``qpu.upstream.aria-1`` and
falls back to 4 qubits, enough for these circuits.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

pytest.importorskip("qiskit_ionq")
pytest.importorskip("cirq_ionq")

import cirq
import cirq_ionq
from qiskit import QuantumCircuit
from qiskit.providers import JobStatus
from qiskit_ionq import IonQProvider
from qiskit_ionq.ionq_backend import IonQQPUBackend

from tests.drivers.broker import Cluster

pytestmark = [pytest.mark.compat, pytest.mark.slow]

TARGET = "upstream.aria-1"


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


def bell(name: str = "bell") -> QuantumCircuit:
    qc = QuantumCircuit(2, 2, name=name)
    qc.h(0)
    qc.cx(0, 1)
    qc.measure([0, 1], [0, 1])
    return qc


def flip(name: str = "flip") -> QuantumCircuit:
    qc = QuantumCircuit(2, 2, name=name)
    qc.x(1)
    qc.measure([0, 1], [0, 1])
    return qc


def same_as_upstream(cluster: Cluster, local_id: str) -> Decimal:
    """Every executable job of ``local_id`` went to the upstream exactly once and came back as the
    upstream recorded it (status, distribution, usage, cost, ledger); returns the total cost."""
    broker, total = cluster.broker, Decimal(0)
    for execution_id, provider_id in cluster.provider_jobs(local_id):
        (only,) = cluster.upstream_jobs_for(execution_id)
        assert only["id"] == provider_id
        up = cluster.upstream_job(provider_id)
        (child_id,) = broker.sql("SELECT job_id FROM executions WHERE id = ?", execution_id)[0]
        mine = broker.api("GET", f"/jobs/{child_id}")
        assert (mine["status"], up["status"]) == ("completed", "completed")
        assert mine["usage_seconds"] == up["usage_seconds"] > 0
        assert Decimal(str(mine["cost"])) == Decimal(str(up["cost"])) > 0
        ours = broker.api("GET", f"/jobs/{child_id}/results/probabilities")
        theirs = cluster.upstream.api("GET", f"/jobs/{provider_id}/results/probabilities")
        assert {int(k): v for k, v in ours.items()} == {int(k): v for k, v in theirs.items()}
        ((usage, cost),) = cluster.ledger(child_id)  # one ledger row per executed job
        assert usage == up["usage_seconds"] and Decimal(str(cost)) == Decimal(str(up["cost"]))
        total += Decimal(str(up["cost"]))
    return total


def result(job: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return job.result(wait=0.05, timeout=120)


def test_qiskit_bell_runs_at_the_upstream_and_comes_back_as_it_recorded(cluster: Cluster, qpu: Any) -> None:
    job = qpu.run(bell(), shots=200)
    counts = result(job).get_counts()
    assert sum(counts.values()) == 200 and counts.get("00", 0) + counts.get("11", 0) >= 160
    assert job.status() is JobStatus.DONE
    same_as_upstream(cluster, job.job_id())


def test_qiskit_multi_circuit_children_each_match_their_upstream_job(cluster: Cluster, qpu: Any) -> None:
    job = qpu.run([bell("b"), flip("f")], shots=100)
    out = result(job)
    assert out.get_counts(1).get("10", 0) >= 80  # x on qubit 1 (clbit 1 is the left bit)
    parent = cluster.broker.api("GET", f"/jobs/{job.job_id()}")
    assert parent["status"] == "completed" and len(parent["child_job_ids"]) == 2
    assert Decimal(str(parent["cost"])) == same_as_upstream(cluster, job.job_id())


def _at_upstream(cluster: Cluster, local_id: str, timeout: float = 60.0) -> str:
    """Wait until the broker has released ``local_id`` and the upstream holds it; its id there."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = cluster.provider_jobs(local_id)
        if rows and rows[0][1] is not None:
            return str(rows[0][1])
        time.sleep(0.05)
    raise AssertionError(f"{local_id} never reached the upstream")


def test_qiskit_cancel_is_forwarded_to_the_upstream(cluster: Cluster, qpu: Any) -> None:
    parked = cluster.park()  # the upstream holds the job (another customer's reserved time)
    try:
        job = qpu.run(bell(), shots=100)
        provider_id = _at_upstream(cluster, job.job_id())
        assert cluster.upstream_job(provider_id)["status"] in ("submitted", "ready")
        job.cancel()
        assert cluster.broker.wait_job(job.job_id())["status"] == "canceled"
        deadline = time.monotonic() + 30
        while cluster.upstream_job(provider_id)["status"] != "canceled":
            assert time.monotonic() < deadline, "the cancel never reached the upstream"
            time.sleep(0.1)
        assert cluster.ledger(job.job_id()) == []  # nothing ran, nothing charged
    finally:
        cluster.unpark(parked)


@pytest.fixture(scope="module")
def service(cluster: Cluster) -> cirq_ionq.Service:
    # cirq allows only "qpu" or "simulator" as a *default* target; a per-call target is passed as is
    return cirq_ionq.Service(remote_host=cluster.broker.url, api_key=cluster.broker.key)


def test_cirq_bell_and_batch_match_the_upstream(cluster: Cluster, service: cirq_ionq.Service) -> None:
    q0, q1 = cirq.LineQubit.range(2)
    circuit = cirq.Circuit(cirq.H(q0), cirq.CNOT(q0, q1), cirq.measure(q0, q1, key="m"))
    job = service.create_job(circuit, repetitions=100, target=TARGET)
    histogram = job.results().to_cirq_result(seed=7).histogram(key="m")
    assert sum(histogram.values()) == 100 and histogram[0] + histogram[3] >= 75
    assert job.status() == "completed"
    same_as_upstream(cluster, job.job_id())

    flipped = cirq.Circuit(cirq.X(q1), cirq.measure(q0, q1, key="m"))
    batch = service.create_batch_job([circuit, flipped], repetitions=100, target=TARGET)
    results = batch.results()
    assert len(results) == 2
    assert same_as_upstream(cluster, batch.job_id()) > 0


def test_cirq_cancel_is_forwarded_to_the_upstream(cluster: Cluster, service: cirq_ionq.Service) -> None:
    q0 = cirq.LineQubit(0)
    parked = cluster.park()
    try:
        job = service.create_job(
            cirq.Circuit(cirq.X(q0), cirq.measure(q0, key="m")), repetitions=50, target=TARGET
        )
        provider_id = _at_upstream(cluster, job.job_id())
        job.cancel()
        assert job.status() == "canceled"
        deadline = time.monotonic() + 30
        while cluster.upstream_job(provider_id)["status"] != "canceled":
            assert time.monotonic() < deadline, "the cancel never reached the upstream"
            time.sleep(0.1)
    finally:
        cluster.unpark(parked)
