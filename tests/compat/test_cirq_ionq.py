"""cirq-ionq, unmodified, against a live ``qumulus serve`` (wire spec §12.2).

``Service.run``/``run_batch`` poll every second (not configurable), and a job is rarely final at the
very first GET, so those calls cost about a second each; the other tests use ``create_job`` and
``job.results(polling_seconds=...)`` to stay fast.
"""

from __future__ import annotations

import datetime
import math

import httpx
import numpy as np
import pytest

pytest.importorskip("cirq_ionq")

import cirq
import cirq_ionq
from cirq_ionq.ionq_exceptions import IonQNotFoundException

from ._util import BIG_DEPTH, BIG_QUBITS, binomial_ok, headers, random_layers

pytestmark = pytest.mark.compat

POLL = 0.02


@pytest.fixture(scope="module")
def service(live_server) -> cirq_ionq.Service:  # type: ignore[no-untyped-def]
    # Any path in remote_host is dropped by cirq: pass the host only, cirq appends /v0.4.
    return cirq_ionq.Service(
        remote_host=live_server.url, api_key=live_server.key, default_target="simulator", max_retry_seconds=20
    )


def bell_circuit() -> cirq.Circuit:
    q0, q1 = cirq.LineQubit.range(2)
    return cirq.Circuit(cirq.H(q0), cirq.CNOT(q0, q1), cirq.measure(q0, q1, key="m"))


def test_bell_run_histogram(service: cirq_ionq.Service) -> None:
    result = service.run(bell_circuit(), repetitions=100, seed=1)
    hist = result.histogram(key="m")
    assert set(hist) <= {0, 3}, hist
    assert sum(hist.values()) == 100
    for value in (0, 3):
        assert binomial_ok(hist.get(value, 0), 100, 0.5), hist
    # Client-side sampling from the exact distribution: the same seed, the same histogram.
    assert service.run(bell_circuit(), repetitions=100, seed=1).histogram(key="m") == hist


def test_endianness_x_on_qubit_0_of_3(service: cirq_ionq.Service) -> None:
    q = cirq.LineQubit.range(3)
    circuit = cirq.Circuit(cirq.X(q[0]), cirq.measure(*q, key="m"))
    job = service.create_job(circuit, repetitions=10)
    result = job.results(polling_seconds=POLL)
    assert result.probabilities() == {4: pytest.approx(1.0, abs=1e-12)}  # cirq is big-endian: q0 = MSB
    assert result.to_cirq_result(seed=1).histogram(key="m") == {4: 10}
    # Two measurement keys: each gets its own bits.
    circuit = cirq.Circuit(cirq.X(q[0]), cirq.measure(q[0], key="a"), cirq.measure(q[1], q[2], key="b"))
    sampled = service.create_job(circuit, repetitions=5).results(polling_seconds=POLL).to_cirq_result(seed=2)
    assert sampled.histogram(key="a") == {1: 5}
    assert sampled.histogram(key="b") == {0: 5}


def test_create_job_and_results(service: cirq_ionq.Service) -> None:
    job = service.create_job(bell_circuit(), repetitions=100, name="cirq-bell")
    result = job.results(polling_seconds=POLL)
    assert job.status() == "completed"
    assert job.name() == "cirq-bell"
    assert job.target() == "simulator"
    assert job.num_qubits() == 2
    assert job.repetitions() == 100
    assert job.measurement_dict() == {"m": [0, 1]}
    assert isinstance(result, cirq_ionq.SimulatorResult)
    probabilities = result.probabilities()
    assert set(probabilities) == {0, 3}
    assert probabilities[0] == pytest.approx(0.5, abs=1e-12)
    assert probabilities[3] == pytest.approx(0.5, abs=1e-12)
    # get_job on the id returns the same job.
    again = service.get_job(job.job_id())
    assert again.status() == "completed" and again.name() == "cirq-bell"


def test_run_batch_uses_aggregated_results(service: cirq_ionq.Service) -> None:
    q0, q1 = cirq.LineQubit.range(2)
    first = cirq.Circuit(cirq.X(q0), cirq.measure(q0, q1, key="m"))
    second = cirq.Circuit(cirq.X(q1), cirq.measure(q0, q1, key="m"))
    third = cirq.Circuit(cirq.X(q0), cirq.X(q1), cirq.measure(q0, q1, key="m"))
    results = service.run_batch([first, second, bell_circuit(), third], repetitions=10, seed=3)
    assert len(results) == 4
    assert results[0].histogram(key="m") == {2: 10}  # q0 set: big-endian 0b10
    assert results[1].histogram(key="m") == {1: 10}
    assert set(results[2].histogram(key="m")) <= {0, 3}
    assert results[3].histogram(key="m") == {3: 10}


def test_native_gates_match_cirq_simulator(service: cirq_ionq.Service) -> None:
    q = cirq.LineQubit.range(3)
    gates = cirq.Circuit(
        cirq_ionq.GPI2Gate(phi=0.1).on(q[0]),
        cirq_ionq.GPIGate(phi=0.3).on(q[1]),
        cirq_ionq.GPI2Gate(phi=0.85).on(q[2]),
        cirq_ionq.MSGate(phi0=0.2, phi1=0.4).on(q[0], q[1]),
        cirq_ionq.GPI2Gate(phi=0.7).on(q[1]),
        cirq_ionq.MSGate(phi0=0.05, phi1=0.6, theta=0.1).on(q[1], q[2]),
        cirq_ionq.GPIGate(phi=0.15).on(q[0]),
    )
    state = cirq.Simulator(dtype=np.complex128).simulate(gates, qubit_order=q).final_state_vector
    expected = np.abs(state) ** 2  # big-endian, q0 = MSB, like cirq_ionq's result keys
    job = service.create_job(gates + cirq.Circuit(cirq.measure(*q, key="m")), repetitions=100)
    got = job.results(polling_seconds=POLL).probabilities()
    for value in range(8):
        assert got.get(value, 0.0) == pytest.approx(expected[value], abs=1e-9), (value, got, expected)


def big_circuit() -> cirq.Circuit:
    q = cirq.LineQubit.range(BIG_QUBITS)
    ops = []
    for name, qubits, angle in random_layers(BIG_QUBITS, BIG_DEPTH):
        if name == "cnot":
            ops.append(cirq.CNOT(q[qubits[0]], q[qubits[1]]))
        else:
            gate = {"rx": cirq.rx, "ry": cirq.ry, "rz": cirq.rz}[name](angle)
            ops.append(gate.on(q[qubits[0]]))
    return cirq.Circuit(*ops, cirq.measure(*q, key="m"))


def test_cancel_a_long_job(service: cirq_ionq.Service, live_server) -> None:  # type: ignore[no-untyped-def]
    job = service.create_job(big_circuit(), repetitions=100)
    job.cancel()  # milliseconds after submission: the job takes seconds to simulate
    assert job.status() == "canceled"
    with pytest.raises(RuntimeError, match="canceled"):
        job.results(polling_seconds=POLL)
    fresh = service.get_job(job.job_id())
    assert fresh.status() == "canceled"
    body = httpx.get(f"{live_server.v04}/jobs/{job.job_id()}", headers=headers(live_server.key)).json()
    assert "failure" not in body  # cirq: 'error' in job['failure'] would raise on null


def test_cancel_a_completed_job_keeps_it_completed(service: cirq_ionq.Service) -> None:
    """cirq-ionq's own code notes that IonQ "can cancel a completed job": ``cancel()`` must not raise,
    and the job keeps its status and results."""
    job = service.create_job(bell_circuit(), repetitions=10)
    job.results(polling_seconds=POLL)
    job.cancel()
    assert job.status() == "completed"
    assert service.get_job(job.job_id()).results(polling_seconds=POLL)


def test_delete(service: cirq_ionq.Service) -> None:
    job = service.create_job(bell_circuit(), repetitions=10)
    job.results(polling_seconds=POLL)
    job.delete()
    assert job.status() == "deleted"
    with pytest.raises(IonQNotFoundException):
        service.get_job(job.job_id())


@pytest.mark.timeout(60)
def test_list_jobs_terminates_and_pages(service: cirq_ionq.Service) -> None:
    created = [service.create_job(bell_circuit(), repetitions=10, name=f"listed-{i}") for i in range(3)]
    for job in created:
        job.results(polling_seconds=POLL)
    ids = [job.job_id() for job in created]

    everything = service.list_jobs()  # GET /jobs with a JSON body {"limit": 1000}; must stop
    listed_ids = [job.job_id() for job in everything]
    assert len(listed_ids) == len(set(listed_ids))
    assert set(ids) <= set(listed_ids)
    assert listed_ids[:3] == ids[::-1]  # newest first

    # Small pages: cirq follows `next` until the key is absent.
    paged = service.list_jobs(limit=5, batch_size=2)
    assert [job.job_id() for job in paged] == listed_ids[:5]

    completed = service.list_jobs(status="completed")
    assert completed and all(job.status() == "completed" for job in completed)


def test_current_calibration(service: cirq_ionq.Service) -> None:
    calibration = service.get_current_calibration()
    assert calibration.num_qubits() == 25
    assert calibration.target() == "qpu.aria-1"
    when = calibration.calibration_time(tz=datetime.timezone.utc)
    assert isinstance(when, datetime.datetime)
    assert when <= datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=5)
    fidelities = calibration.fidelities()
    assert 0.9 < fidelities["spam"]["median"] <= 1
    assert {"1q", "2q", "readout", "reset", "t1", "t2"} <= set(calibration.timings())
    connectivity = calibration.connectivity()
    assert len(connectivity) == 25 * 24  # all-to-all, both directions
    assert (cirq.LineQubit(0), cirq.LineQubit(24)) in connectivity


@pytest.mark.timeout(60)
def test_list_calibrations(service: cirq_ionq.Service) -> None:
    calibrations = service.list_calibrations()
    assert len(calibrations) >= 1
    current = service.get_current_calibration()
    assert calibrations[0].calibration_time() == current.calibration_time()
    assert all(c.num_qubits() == 25 for c in calibrations)
    start = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=3650)
    end = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=1)
    assert len(service.list_calibrations(start=start, end=end, limit=10)) >= 1


def test_sampled_results_follow_a_non_uniform_distribution(service: cirq_ionq.Service) -> None:
    q = cirq.LineQubit(0)
    theta = 2 * math.asin(math.sqrt(0.2))  # P(1) = 0.2
    circuit = cirq.Circuit(cirq.ry(theta).on(q), cirq.measure(q, key="m"))
    job = service.create_job(circuit, repetitions=2000)
    result = job.results(polling_seconds=POLL)
    assert result.probabilities()[1] == pytest.approx(0.2, abs=1e-9)
    hist = result.to_cirq_result(seed=5).histogram(key="m")
    assert binomial_ok(hist.get(1, 0), 2000, 0.2), hist
