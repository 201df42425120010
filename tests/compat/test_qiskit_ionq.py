"""qiskit-ionq, unmodified, against a live ``qumulus serve`` (wire spec §12.1).

qiskit reads the API URL for its unauthenticated backend probe only from the environment, so the
module sets ``IONQ_API_URL``/``IONQ_API_KEY`` (and the ``QISKIT_`` spellings, which take precedence).
qiskit's ``result()`` sleeps 5 s between polls; the tests pass ``wait=`` so that a job that is not yet
final on the first GET costs milliseconds, not seconds.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import httpx
import numpy as np
import pytest

pytest.importorskip("qiskit_ionq")

from qiskit import QuantumCircuit
from qiskit.exceptions import QiskitError
from qiskit.providers import JobStatus
from qiskit.quantum_info import Statevector
from qiskit_ionq import GPI2Gate, GPIGate, IonQProvider, MSGate
from qiskit_ionq.exceptions import IonQAPIError, IonQJobStateError

from ._util import BIG_DEPTH, BIG_QUBITS, binomial_ok, headers, random_layers

pytestmark = pytest.mark.compat

WAIT = 0.02  # seconds between qiskit's status polls (its default is 5)


def get_backend(provider: IonQProvider, name: str, **kwargs: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # IonQTranspileLevelWarning, about transpile() defaults
        return provider.get_backend(name, **kwargs)


@pytest.fixture(scope="module")
def provider(live_server) -> Iterator[IonQProvider]:  # type: ignore[no-untyped-def]
    with pytest.MonkeyPatch.context() as mp:
        for name in ("IONQ_API_URL", "QISKIT_IONQ_API_URL"):
            mp.setenv(name, live_server.v04)
        for name in ("IONQ_API_KEY", "IONQ_API_TOKEN", "QISKIT_IONQ_API_TOKEN"):
            mp.setenv(name, live_server.key)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            provider = IonQProvider(token=live_server.key, url=live_server.v04)
        yield provider


@pytest.fixture(scope="module")
def backend(provider: IonQProvider, live_server):  # type: ignore[no-untyped-def]
    backend = get_backend(provider, "simulator")
    # The unauthenticated probe reached this server (else qiskit falls back to 4 qubits).
    assert backend.num_qubits == 29
    assert backend.client._url == live_server.v04
    return backend


def result(job: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return job.result(wait=WAIT, timeout=120)


def bell(name: str = "bell") -> QuantumCircuit:
    qc = QuantumCircuit(2, 2, name=name)
    qc.h(0)
    qc.cx(0, 1)
    qc.measure([0, 1], [0, 1])
    return qc


def test_bell_counts(backend) -> None:  # type: ignore[no-untyped-def]
    job = backend.run(bell(), shots=1000, sampler_seed=1234)
    counts = result(job).get_counts()
    assert set(counts) <= {"00", "11"}, counts
    assert sum(counts.values()) == 1000
    for key in ("00", "11"):
        assert binomial_ok(counts.get(key, 0), 1000, 0.5), counts
    # The same seed gives the same counts (sampling is client-side from exact probabilities).
    again = result(backend.run(bell(), shots=1000, sampler_seed=1234)).get_counts()
    assert again == counts


def test_bell_probabilities_are_exact(backend) -> None:  # type: ignore[no-untyped-def]
    job = backend.run(bell(), shots=1000)
    result(job)
    probabilities = job.get_probabilities()
    assert set(probabilities) == {"00", "11"}
    assert probabilities["00"] == pytest.approx(0.5, abs=1e-12)
    assert probabilities["11"] == pytest.approx(0.5, abs=1e-12)


def test_endianness_x_on_qubit_0_of_3(backend) -> None:  # type: ignore[no-untyped-def]
    qc = QuantumCircuit(3, 3, name="x-q0")
    qc.x(0)
    qc.measure([0, 1, 2], [0, 1, 2])
    job = backend.run(qc, shots=200)
    assert result(job).get_counts() == {"001": 200}  # clbit 0 is the rightmost character
    assert job.get_probabilities() == {"001": pytest.approx(1.0, abs=1e-12)}


def test_permuted_classical_bits_use_meas_mapped_echo(backend) -> None:  # type: ignore[no-untyped-def]
    # Qubit 0 → clbit 2, qubit 1 → clbit 0, qubit 2 → clbit 1; only qubit 0 is 1, so only clbit 2 is.
    # qiskit rebuilds this from metadata.qiskit_header.meas_mapped, which the server must echo.
    qc = QuantumCircuit(3, 3, name="permuted")
    qc.x(0)
    qc.measure(0, 2)
    qc.measure(1, 0)
    qc.measure(2, 1)
    assert result(backend.run(qc, shots=100)).get_counts() == {"100": 100}

    # Fewer clbits than qubits: only qubit 1 is measured, into the single clbit.
    partial = QuantumCircuit(2, 1, name="partial")
    partial.x(1)
    partial.measure(1, 0)
    assert result(backend.run(partial, shots=50)).get_counts() == {"1": 50}


def test_multi_circuit_job_has_distinct_results_per_circuit(backend, live_server) -> None:  # type: ignore[no-untyped-def]
    first = QuantumCircuit(2, 2, name="first")
    first.x(0)
    first.measure([0, 1], [0, 1])
    second = QuantumCircuit(2, 2, name="second")
    second.x(1)
    second.measure([0, 1], [0, 1])
    job = backend.run([first, second, bell("third")], shots=300, sampler_seed=7)
    res = result(job)
    assert res.get_counts(0) == {"01": 300}
    assert res.get_counts(1) == {"10": 300}
    assert res.get_counts("second") == {"10": 300}
    third = res.get_counts(2)
    assert set(third) <= {"00", "11"} and sum(third.values()) == 300
    assert binomial_ok(third.get("00", 0), 300, 0.5)

    body = httpx.get(f"{live_server.v04}/jobs/{job.job_id()}", headers=headers(live_server.key)).json()
    assert body["type"] == "ionq.multi-circuit.v1"
    assert len(body["child_job_ids"]) == 3
    assert body["stats"]["circuits"] == 3


def test_native_gates_match_qiskit_statevector(provider) -> None:  # type: ignore[no-untyped-def]
    native = get_backend(provider, "simulator", gateset="native")
    qc = QuantumCircuit(3, name="native")
    qc.append(GPI2Gate(0.1), [0])
    qc.append(GPIGate(0.3), [1])
    qc.append(GPI2Gate(0.85), [2])
    qc.append(MSGate(0.2, 0.4), [0, 1])
    qc.append(GPI2Gate(0.7), [1])
    qc.append(MSGate(0.05, 0.6, 0.1), [1, 2])
    qc.append(GPIGate(0.15), [0])
    expected = Statevector(qc).probabilities_dict()
    measured = qc.copy()
    measured.measure_all()
    job = native.run(measured, shots=1000)
    result(job)
    got = job.get_probabilities()
    keys = {k for k, v in expected.items() if v > 1e-12} | set(got)
    for key in keys:
        assert got.get(key, 0.0) == pytest.approx(expected.get(key, 0.0), abs=1e-9), (key, got, expected)
    body = native.client.retrieve_job(job.job_id())
    assert body["status"] == "completed"


def big_circuit() -> QuantumCircuit:
    qc = QuantumCircuit(BIG_QUBITS, name="big")
    for name, qubits, angle in random_layers(BIG_QUBITS, BIG_DEPTH):
        if name == "cnot":
            qc.cx(*qubits)
        else:
            getattr(qc, name)(angle, *qubits)
    qc.measure_all()
    return qc


def test_cancel_a_long_job(backend, live_server) -> None:  # type: ignore[no-untyped-def]
    job = backend.run(big_circuit(), shots=100)
    job.cancel()  # milliseconds after submission: the job takes seconds to simulate
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # qiskit warns "Job was cancelled"
        assert job.status() is JobStatus.CANCELLED
        with pytest.raises(IonQJobStateError):
            job.result(wait=WAIT)
    body = httpx.get(f"{live_server.v04}/jobs/{job.job_id()}", headers=headers(live_server.key)).json()
    assert body["status"] == "canceled"
    assert body["results"] is None


def test_cancel_a_completed_job_keeps_it_completed(backend) -> None:  # type: ignore[no-untyped-def]
    """IonQ answers a cancel of a finished job with the job as it is (issue 16.9): ``cancel()`` does
    not raise, and the job keeps its status and results."""
    job = backend.run(bell(), shots=10)
    result(job)
    job.cancel()
    body = backend.client.retrieve_job(job.job_id())
    assert body["status"] == "completed"
    assert result(backend.retrieve_job(job.job_id())).get_counts()  # still readable, still completed


def test_delete_then_retrieve_is_404(backend) -> None:  # type: ignore[no-untyped-def]
    job = backend.run(bell(), shots=10)
    result(job)
    answer = backend.client.delete_job(job.job_id())
    assert answer == {"id": job.job_id(), "status": "deleted"}
    with pytest.raises(IonQAPIError) as info:
        backend.retrieve_job(job.job_id())
    assert info.value.status_code == 404


def test_list_jobs_shows_submitted_jobs(backend, live_server) -> None:  # type: ignore[no-untyped-def]
    # qiskit-ionq's client has no list call (only Session.cancel lists): use the wire directly.
    job = backend.run(bell("listed"), shots=10)
    result(job)
    reply = httpx.get(f"{live_server.v04}/jobs", params={"limit": 5}, headers=headers(live_server.key))
    assert reply.status_code == 200
    listed = reply.json()["jobs"]
    assert listed[0]["id"] == job.job_id()  # newest first
    assert listed[0]["name"] == "listed"
    assert listed[0]["status"] == "completed"
    # qiskit's Session.cancel() filters with status=queued; that must be accepted.
    queued = httpx.get(
        f"{live_server.v04}/jobs", params={"status": "queued"}, headers=headers(live_server.key)
    )
    assert queued.status_code == 200
    assert all(j["status"] in ("submitted", "ready") for j in queued.json()["jobs"])


def test_qpu_backend_calibration_and_status(provider) -> None:  # type: ignore[no-untyped-def]
    qpu = get_backend(provider, "qpu.aria-1")
    assert qpu.num_qubits == 25
    calibration = qpu.calibration()
    assert calibration is not None
    assert calibration.backend == "qpu.aria-1"
    assert calibration.qubits == 25
    assert calibration.date.tzinfo is not None
    assert calibration.median_spam_fidelity is not None and 0.9 < calibration.median_spam_fidelity <= 1
    assert {"t1", "t2", "readout", "reset"} <= set(calibration.timing)
    assert len(calibration.connectivity) == 25 * 24 // 2  # Aria is all-to-all
    # The QPUs are emulated and available.
    assert calibration.status == "available"
    assert qpu.status() is True
    forte = get_backend(provider, "qpu.forte-1")
    assert forte.num_qubits == 36
    assert forte.calibration().qubits == 36


def test_qpu_job_runs_on_the_emulator_with_per_shot_memory(provider) -> None:  # type: ignore[no-untyped-def]
    # An emulated QPU: noisy counts mostly on 00/11, and qiskit's memory=True reads the stored shots.
    qpu = get_backend(provider, "qpu.aria-1")
    res = result(qpu.run(bell("qpu-bell"), shots=200, memory=True))
    counts = res.get_counts()
    assert sum(counts.values()) == 200
    assert counts.get("00", 0) + counts.get("11", 0) >= 180  # Aria's Bell fidelity is ~0.97
    memory = res.get_memory()
    assert len(memory) == 200 and {m: memory.count(m) for m in set(memory)} == counts


def test_memory_true_on_ideal_simulator(backend) -> None:  # type: ignore[no-untyped-def]
    job = backend.run(bell("memory"), shots=100, memory=True, sampler_seed=3)
    res = result(job)
    counts = res.get_counts()
    assert set(counts) <= {"00", "11"} and sum(counts.values()) == 100
    # qiskit-ionq has no per-shot memory for ideal simulations (it samples client-side).
    with pytest.raises(QiskitError):
        res.get_memory()


def test_sampled_counts_follow_a_non_uniform_distribution(backend) -> None:  # type: ignore[no-untyped-def]
    qc = QuantumCircuit(1, 1, name="ry")
    theta = 2 * np.arcsin(np.sqrt(0.2))  # P(1) = 0.2
    qc.ry(theta, 0)
    qc.measure(0, 0)
    job = backend.run(qc, shots=2000, sampler_seed=99)
    res = result(job)
    assert job.get_probabilities()["1"] == pytest.approx(0.2, abs=1e-9)
    assert binomial_ok(res.get_counts().get("1", 0), 2000, 0.2)
