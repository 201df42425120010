"""What a provider's final word becomes locally: results, seconds, charge, failure."""

from __future__ import annotations

from decimal import Decimal

import pytest

from qumulus.drivers import CircuitResult, Failure, JobState, Rejected
from qumulus.drivers.outcome import rejected, settle

DONE = JobState(
    "completed",
    results=[CircuitResult(qubits=2, probabilities={3: 0.52, 0: 0.48}, shots=[0, 3, 3])],
    usage_seconds=0.62,
    cost=Decimal("0.31"),
)


def test_a_completed_job_keeps_the_providers_results_usage_and_cost() -> None:
    out = settle(DONE, "upstream")
    assert out.ok and out.qubits == 2 and out.indices == [0, 3] and out.values == [0.48, 0.52]
    assert out.shots == [0, 3, 3] and out.seconds == 0.62 and out.cost == Decimal("0.31")
    assert settle(DONE, "contract").cost is None  # the local contract prices the reported usage
    native = {"qubits": 2, "circuit": [{"gate": "ms", "targets": [0, 1]}]}
    kept = settle(
        JobState("completed", results=DONE.results, artifacts={"ionq.native.v1": native}), "upstream"
    )
    assert kept.artifacts == {"ionq.native.v1": native}  # the local job keeps and serves them
    assert settle(JobState("completed", results=DONE.results, usage_seconds=1.0), "upstream").cost is None


def test_failures_cancels_and_refusals() -> None:
    failed = settle(
        JobState(
            "failed",
            failure=Failure("QuantumComputerError", "provider: ion lost"),
            usage_seconds=0.1,
            cost=Decimal("0.05"),
        ),
        "upstream",
    )
    assert not failed.ok and failed.failure == {
        "code": "QuantumComputerError",
        "message": "provider: ion lost",
    }
    assert failed.cost == Decimal("0.05")  # what the provider charged the site is passed on
    canceled = settle(JobState("canceled"), "upstream")
    assert canceled.failure is not None and canceled.failure["code"] == "SystemCancel"
    refused = rejected(Rejected(Failure("InvalidInput", "provider: too wide")), "upstream")
    assert not refused.ok and refused.cost == Decimal(0) and refused.seconds == 0.0
    no_results = settle(JobState("completed", results=[]), "upstream")
    assert not no_results.ok
    with pytest.raises(ValueError):
        settle(JobState("running"), "upstream")
