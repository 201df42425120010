"""Qiskit on a live server: BackendV2 counts/endianness/memory, calibrated Target, native and generic
primitives, jobs retrievable by id."""

from __future__ import annotations

from collections import Counter

import pytest

pytest.importorskip("qiskit")

from qiskit import QuantumCircuit, transpile
from qiskit.primitives import BackendSamplerV2
from qiskit.providers import JobStatus
from qiskit.quantum_info import SparsePauliOp

from qumulus.qiskit import QumulusBackend, QumulusEstimatorV2, QumulusSamplerV2
from tests.integrations.conftest import within


@pytest.fixture
def backend(provider):  # type: ignore[no-untyped-def]
    return QumulusBackend(provider.get_backend("simulator"))


def bell() -> QuantumCircuit:
    qc = QuantumCircuit(2, 2, name="bell")
    qc.h(0)
    qc.cx(0, 1)
    qc.measure([0, 1], [0, 1])
    return qc


def test_bell_counts_are_correlated_and_balanced(backend) -> None:  # type: ignore[no-untyped-def]
    counts = backend.run(bell(), shots=2000, seed_simulator=7).result().get_counts()
    assert set(counts) == {"00", "11"} and sum(counts.values()) == 2000
    assert within(counts["00"] / 2000, 0.5, 2000)


def test_asymmetric_circuit_keeps_qiskit_bit_order(backend) -> None:  # type: ignore[no-untyped-def]
    qc = QuantumCircuit(3, 3)
    qc.x(0)  # qubit 0 → clbit 2: "100" (clbit 0 rightmost)
    qc.measure([0, 1, 2], [2, 1, 0])
    assert backend.run(qc, shots=50).result().get_counts() == {"100": 50}
    two_regs = QuantumCircuit(2)
    two_regs.x(1)
    two_regs.measure_all()
    assert backend.run(two_regs, shots=20).result().get_counts() == {"10": 20}


def test_memory_lists_every_shot_matching_counts(backend) -> None:  # type: ignore[no-untyped-def]
    result = backend.run(bell(), shots=300, memory=True).result()
    memory = result.get_memory()
    assert len(memory) == 300 and Counter(memory) == result.get_counts()


def test_several_circuits_are_one_server_job(backend, provider) -> None:  # type: ignore[no-untyped-def]
    flip = QuantumCircuit(1, 1, name="flip")
    flip.x(0)
    flip.measure(0, 0)
    job = backend.run([bell(), flip], shots=100)
    result = job.result()
    assert result.get_counts(1) == {"1": 100} and set(result.get_counts(0)) <= {"00", "11"}
    assert len(provider.retrieve_job(job.job_id()).data["child_job_ids"]) == 2


def test_job_is_retrievable_by_id(backend) -> None:  # type: ignore[no-untyped-def]
    job = backend.run(bell(), shots=100)
    counts = job.result().get_counts()
    again = backend.retrieve_job(job.job_id())
    assert again.status() is JobStatus.DONE and again.result().get_counts() == counts


def test_target_carries_calibration(provider) -> None:  # type: ignore[no-untyped-def]
    qpu = QumulusBackend(provider.get_backend("qpu.harmony"))
    props = qpu.client_backend.properties()
    target = qpu.target
    assert target.num_qubits == props.n_qubits
    assert target.qubit_properties[3].t1 == props.t1(3) and target.qubit_properties[3].t2 == props.t2(3)
    assert target["measure"][(2,)].error == props.readout_error(2)
    assert target["sx"][(1,)].error == props.gate_error("sx", 1)
    assert target["cx"][(0, 4)].error == props.gate_error("cx", [0, 4]) > 0
    assert target["cx"][(0, 4)].duration == props.gate_length("cx", [0, 4])
    # the transpiler uses it: a circuit transpiled for the Target runs on it
    isa = transpile(bell(), qpu, seed_transpiler=1)
    assert isa.num_qubits == props.n_qubits
    assert set(
        QumulusBackend(provider.get_backend("simulator")).run(isa, shots=50).result().get_counts()
    ) <= {
        "00",
        "11",
    }


def test_native_sampler_is_a_server_job_with_bitarrays(backend) -> None:  # type: ignore[no-untyped-def]
    from qiskit.circuit import Parameter

    theta = Parameter("θ")
    qc = QuantumCircuit(1, 1)
    qc.ry(theta, 0)
    qc.measure(0, 0)
    sampler = QumulusSamplerV2(backend)
    job = sampler.run([(bell(),), (qc, [[0.0], [3.141592653589793], [1.5707963267948966]])], shots=1000)
    result = job.result()
    assert result[0].data.c.get_counts().keys() <= {"00", "11"}
    ones = result[1].data.c.get_counts
    assert result[1].data.c.shape == (3,)
    assert ones(0) == {"0": 1000} and ones(1) == {"1": 1000}
    assert within(ones(2).get("1", 0) / 1000, 0.5, 1000)
    again = sampler.job(job.job_id()).result()  # the id is the server's: rebuilt from the server
    assert again[1].data.c.get_counts(2) == ones(2)
    assert backend.client_backend.retrieve_job(job.job_id()).status().name == "DONE"


def test_native_estimator_values_are_close_to_exact(backend) -> None:  # type: ignore[no-untyped-def]
    bell_state = QuantumCircuit(2)
    bell_state.h(0)
    bell_state.cx(0, 1)
    observables = [
        SparsePauliOp("ZZ"),
        SparsePauliOp("XX"),
        SparsePauliOp.from_list([("YY", 1.0), ("II", 0.5)]),
        SparsePauliOp("ZI"),
    ]
    estimator = QumulusEstimatorV2(backend)
    job = estimator.run([(bell_state, observables)], precision=0.02)
    data = job.result()[0].data
    exact = [1.0, 1.0, -0.5, 0.0]
    assert data.evs.shape == (4,)
    for value, std, expected in zip(data.evs, data.stds, exact, strict=True):
        assert abs(value - expected) <= 5 * max(std, 0.02 / 2) + 1e-9
    assert estimator.job(job.job_id()).result()[0].data.evs.tolist() == data.evs.tolist()


def test_generic_backend_sampler_honours_memory(backend) -> None:  # type: ignore[no-untyped-def]
    result = BackendSamplerV2(backend=backend).run([bell()], shots=400).result()
    bits = result[0].data.c
    assert bits.num_shots == 400 and set(bits.get_counts()) == {"00", "11"}
    assert within(bits.get_counts()["11"] / 400, 0.5, 400)


def test_estimator_broadcasts_parameters_against_observables(backend) -> None:  # type: ignore[no-untyped-def]
    import numpy as np
    from qiskit.circuit import Parameter

    theta = Parameter("θ")
    qc = QuantumCircuit(1, 1)  # a classical register the estimator must ignore
    qc.ry(theta, 0)
    angles = np.array([0.0, np.pi / 3, np.pi / 2]).reshape(3, 1, 1)  # bindings of shape (3, 1)
    pub = (qc, [[SparsePauliOp("Z"), SparsePauliOp("X")]], angles)  # observables (1, 2) → (3, 2)
    data = QumulusEstimatorV2(backend).run([pub], precision=0.02).result()[0].data
    exact = np.stack([np.cos(angles[:, 0, 0]), np.sin(angles[:, 0, 0])], axis=1)
    assert data.evs.shape == (3, 2)
    assert np.all(np.abs(data.evs - exact) <= 5 * 0.02 + 1e-9)
    assert data.evs[0, 0] == 1.0  # |0⟩ measured in Z: no spread at all


def test_mid_circuit_measurement_is_refused_before_submission(backend, provider) -> None:  # type: ignore[no-untyped-def]
    qc = QuantumCircuit(1, 2)
    qc.measure(0, 0)
    qc.x(0)
    qc.measure(0, 1)
    before = [j.job_id() for j in provider.jobs(limit=1)]
    with pytest.raises(ValueError, match="after a measurement"):
        backend.run(qc)
    assert [j.job_id() for j in provider.jobs(limit=1)] == before


def test_estimator_measures_commuting_terms_together(backend, provider) -> None:  # type: ignore[no-untyped-def]
    state = QuantumCircuit(2)
    state.h(0)
    state.cx(0, 1)
    hamiltonian = SparsePauliOp.from_list([("ZZ", 1.0), ("ZI", 0.5), ("IZ", 0.5), ("XX", -2.0), ("II", 3.0)])
    job = QumulusEstimatorV2(backend).run([(state, hamiltonian)], precision=0.02)
    data = job.result()[0].data
    assert abs(float(data.evs) - (1.0 + 0 + 0 - 2.0 + 3.0)) <= 5 * max(float(data.stds), 0.02)
    children = provider.retrieve_job(job.job_id()).data["child_job_ids"]
    assert len(children) == 2  # {ZZ, ZI, IZ} share the Z basis; XX has its own
