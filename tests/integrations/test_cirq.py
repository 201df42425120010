"""Cirq on a live server: Bell results, sweeps, run_batch as one job, the service API."""

from __future__ import annotations

import pytest

cirq = pytest.importorskip("cirq")
sympy = pytest.importorskip("sympy")

from qumulus.cirq import QumulusSampler, Service  # noqa: E402
from tests.integrations.conftest import within  # noqa: E402


@pytest.fixture
def service(live_server, sdk_home):  # type: ignore[no-untyped-def]
    return Service(remote_host=live_server.url, api_key=live_server.key)


def bell() -> cirq.Circuit:
    a, b = cirq.LineQubit.range(2)
    return cirq.Circuit(cirq.H(a), cirq.CNOT(a, b), cirq.measure(a, b, key="m"))


def test_bell_results_are_correlated(service) -> None:  # type: ignore[no-untyped-def]
    result = service.sampler(seed=11).run(bell(), repetitions=1000)
    histogram = result.histogram(key="m")  # Cirq's big-endian: first measured qubit is the high bit
    assert set(histogram) == {0b00, 0b11}
    assert within(histogram[0b11] / 1000, 0.5, 1000)
    assert result.measurements["m"].shape == (1000, 2)


def test_keys_and_qubit_order_survive_conversion(service) -> None:  # type: ignore[no-untyped-def]
    a, b, c = cirq.LineQubit.range(3)
    circuit = cirq.Circuit(
        cirq.X(a), cirq.ISWAP(a, c), cirq.measure(c, a, key="ca"), cirq.measure(b, key="b")
    )  # ISWAP is compiled by Cirq first
    result = service.sampler().run(circuit, repetitions=20)
    assert result.histogram(key="ca") == {0b10: 20} and result.histogram(key="b") == {0: 20}


def test_sweep_is_one_job_and_resolves_parameters(service) -> None:  # type: ignore[no-untyped-def]
    t = sympy.Symbol("t")
    (q,) = cirq.LineQubit.range(1)
    sampler = service.sampler()
    results = sampler.run_sweep(
        cirq.Circuit(cirq.X(q) ** t, cirq.measure(q, key="z")), cirq.Linspace(t, 0, 1, 3), 400
    )
    assert [r.params.value_of(t) for r in results] == [0.0, 0.5, 1.0]
    assert results[0].histogram(key="z") == {0: 400} and results[2].histogram(key="z") == {1: 400}
    assert within(results[1].histogram(key="z")[1] / 400, 0.5, 400)
    job = service.provider.retrieve_job(sampler.last_job.job_id())
    assert len(job.data["child_job_ids"]) == 3


def test_run_batch_is_one_multi_circuit_job(service) -> None:  # type: ignore[no-untyped-def]
    (q,) = cirq.LineQubit.range(1)
    flip = cirq.Circuit(cirq.X(q), cirq.measure(q, key="z"))
    sampler: QumulusSampler = service.sampler()
    before = len(service.list_jobs(limit=200))
    batches = sampler.run_batch([bell(), flip], repetitions=50)
    assert len(batches) == 2 and batches[1][0].histogram(key="z") == {1: 50}
    assert set(batches[0][0].histogram(key="m")) <= {0, 3}
    top_level = [j for j in service.list_jobs(limit=200) if not j.client_job.data.get("parent_job_id")]
    assert len(top_level) - before <= 1  # one new top-level job, not one per program
    assert len(service.provider.retrieve_job(sampler.last_job.job_id()).data["child_job_ids"]) == 2


def test_service_create_get_list_and_calibration(service) -> None:  # type: ignore[no-untyped-def]
    job = service.create_job(bell(), repetitions=30, name="cirq-bell")
    again = service.get_job(job.job_id())
    results = again.results(timeout=60)
    assert results[0].measurements["m"].shape == (30, 2)
    assert again.status() == "completed"
    assert job.job_id() in [j.job_id() for j in service.list_jobs(limit=10)]
    calibration = service.get_current_calibration("qpu.harmony")
    assert calibration["qubits"] == len(calibration["qubit"]) and calibration["pair"]
    assert service.get_current_calibration("simulator") is None


def test_a_circuit_without_measurement_is_refused_before_submission(service) -> None:  # type: ignore[no-untyped-def]
    (q,) = cirq.LineQubit.range(1)
    with pytest.raises(ValueError, match="no measurements"):
        service.sampler().run(cirq.Circuit(cirq.X(q)), repetitions=5)
