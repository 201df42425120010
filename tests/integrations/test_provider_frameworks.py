"""A provider's own backends take Qiskit circuits, Cirq circuits and OpenQASM straight, with no
wrapper object, and answer as Qiskit does: ``transpile(qc, backend=b)`` on its calibrated Target,
counts and memory keyed by the circuit's clbits, experiments found by index, circuit or name."""

from __future__ import annotations

import uuid
from collections import Counter

import pytest

pytest.importorskip("qiskit")
cirq = pytest.importorskip("cirq")

from qiskit import ClassicalRegister, QuantumCircuit, QuantumRegister, transpile  # noqa: E402
from qiskit.providers import JobStatus as QiskitJobStatus  # noqa: E402
from qiskit.providers.basic_provider import BasicSimulator  # noqa: E402

from qumulus import JobManager  # noqa: E402
from qumulus.client import ApiError, QumulusClientError  # noqa: E402


def two_registers() -> QuantumCircuit:
    """Deterministic, two registers, clbits not in qubit order, one clbit never measured."""
    q = QuantumRegister(3, "q")
    low, high = ClassicalRegister(2, "low"), ClassicalRegister(3, "high")
    qc = QuantumCircuit(q, low, high, name="regs")
    qc.x(0)
    qc.x(2)
    qc.measure(q[0], high[2])
    qc.measure(q[1], low[0])
    qc.measure(q[2], low[1])  # high[0], high[1] never written
    return qc


def flip(name: str) -> QuantumCircuit:
    qc = QuantumCircuit(2, 2, name=name)
    qc.x(1)
    qc.measure([0, 1], [0, 1])
    return qc


def test_qiskit_circuits_run_on_a_provider_backend_keyed_as_qiskit_keys_them(provider) -> None:  # type: ignore[no-untyped-def]
    backend = provider.get_backend("simulator")
    qc = two_registers()
    expected = BasicSimulator().run(qc, shots=30).result().get_counts()  # Qiskit's own keys
    result = backend.run(qc, shots=30, memory=True).result()
    assert result.get_counts() == expected == {"100 10": 30}
    assert result.get_counts(qc) == result.get_counts("regs") == result.get_counts(0) == expected
    assert result.get_memory() == ["100 10"] * 30 and Counter(result.get_memory()) == result.get_counts()
    assert result.data(0)["counts"] == {hex(0b10010): 30}  # Qiskit's raw form: hex over the clbits
    # a list is one multi-circuit job; experiments by index, by circuit, by name
    job = backend.run([qc, flip("f")], shots=20)
    both = job.result()
    assert len(provider.retrieve_job(job.job_id()).data["child_job_ids"]) == 2
    assert both.get_counts() == [{"100 10": 20}, {"10": 20}]
    assert both.get_counts(1) == both.get_counts("f") == {"10": 20}
    with pytest.raises(QumulusClientError, match="not a statevector"):
        both.get_statevector(0)
    # read from the server in any process: the clbit layout is stored with the job
    again = provider.retrieve_job(job.job_id()).result()
    assert again.get_counts(0) == {"100 10": 20} and again.get_counts(1) == {"10": 20}


def test_transpile_uses_the_provider_backends_calibrated_target(provider) -> None:  # type: ignore[no-untyped-def]
    qpu = provider.get_backend("qpu.harmony")
    props = qpu.properties()
    target = qpu.target  # built from the calibration, no wrapper
    assert target.num_qubits == props.n_qubits == qpu.num_qubits
    assert target.qubit_properties[2].t1 == props.t1(2)
    assert target["measure"][(1,)].error == props.readout_error(1)
    assert target["cx"][(3, 0)].error == props.gate_error("cx", [0, 3]) > 0
    assert len(qpu.coupling_map.get_edges()) == props.n_qubits * (props.n_qubits - 1)  # all-to-all
    ccx = QuantumCircuit(3, 3)
    ccx.x([0, 1])
    ccx.ccx(0, 1, 2)
    ccx.measure([0, 1, 2], [0, 1, 2])
    mapped = transpile(ccx, backend=qpu, seed_transpiler=3)
    assert set(mapped.count_ops()) <= set(qpu.operation_names)
    assert "ccx" not in mapped.count_ops() and mapped.num_qubits == props.n_qubits
    # the transpiled circuit runs on the simulator: 25-odd idle qubits are not simulated
    assert provider.get_backend("simulator").run(mapped, shots=40).result().get_counts() == {"111": 40}


def test_cirq_circuits_and_openqasm_run_straight(provider) -> None:  # type: ignore[no-untyped-def]
    from qumulus.cirq import CirqJob

    backend = provider.get_backend("simulator")
    a, b = cirq.LineQubit.range(2)
    job = backend.run(cirq.Circuit(cirq.X(a), cirq.measure(a, b, key="m")), shots=25)
    assert job.result().get_counts() == {"01": 25}  # qubits in Cirq's order, qubit 0 rightmost
    assert CirqJob(job).results()[0].histogram(key="m") == {0b10: 25}  # Cirq's keys, big-endian

    qasm2 = 'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[2];\ncreg c[2];\nx q[1];\nmeasure q -> c;\n'
    qasm3 = 'OPENQASM 3.0;\ninclude "stdgates.inc";\nqubit[2] q;\nbit[2] c;\nx q[0];\nc = measure q;\n'
    assert backend.run(qasm2, shots=10).result().get_counts() == {"10": 10}
    assert backend.run([qasm2, qasm3], shots=10).result().get_counts() == [{"10": 10}, {"01": 10}]
    with pytest.raises(ApiError, match=r"input.data: line 3, column 1: 'foo' is not defined"):
        backend.run("OPENQASM 2.0;\nqreg q[1];\nfoo q[0];\n")  # the server parses it, and says where
    with pytest.raises(TypeError, match="one run takes circuits of one kind"):
        backend.run([qasm2, cirq.Circuit(cirq.measure(a))])


def test_ibmq_keywords_are_aliases_and_share_levels_are_checked(provider) -> None:  # type: ignore[no-untyped-def]
    backend = provider.get_backend("simulator")
    tag = uuid.uuid4().hex[:8]
    for level in ("global", "hub", "group", "none"):
        with pytest.raises(ValueError, match=f"job_share_level='{level}'.*project"):
            backend.run(flip("f"), job_share_level=level, job_tags=[tag])
        with pytest.raises(ValueError, match="project"):
            JobManager().run([flip("f")], backend=backend, job_share_level=level, job_tags=[tag])
    assert provider.jobs(limit=None, tags=[tag]) == []  # refused before anything was sent
    with pytest.raises(TypeError, match="name= or job_name="):
        backend.run(flip("f"), name="a", job_name="b")
    job = backend.run(flip("f"), shots=5, job_name="x", job_tags=[tag], job_share_level="project")
    assert job.name() == "x" and job.tags() == [tag]
    assert [j.job_id() for j in provider.jobs(job_name="x", job_tags=[tag])] == [job.job_id()]
    assert job.result().get_counts() == {"10": 5}
    assert job.status() == QiskitJobStatus.DONE and job.status() != QiskitJobStatus.ERROR


def test_a_job_set_of_qiskit_circuits_reads_each_members_clbits(provider) -> None:  # type: ignore[no-untyped-def]
    circuits = [two_registers(), flip("f0"), flip("f1"), two_registers(), flip("f2")]
    simulator = provider.get_backend("simulator")
    job_set = JobManager().run(circuits, backend=simulator, name="mixed", max_experiments_per_job=2, shots=10)
    results = job_set.results(timeout=120)
    assert [results.get_counts(i) for i in range(5)] == [
        {"100 10": 10}, {"10": 10}, {"10": 10}, {"100 10": 10}, {"10": 10},
    ]  # fmt: skip
    assert results.get_counts("f2") == results.get_counts(circuits[4]) == {"10": 10}
    assert results.get_memory(3) == ["100 10"] * 10
    job, index = job_set.job(3)  # experiment 3 is the second of the second member
    assert index == 1 and job.result().get_counts(1) == {"100 10": 10}
    fresh = JobManager(provider).retrieve_job_set(job_set_id=job_set.job_set_id(), provider=provider)
    assert fresh.results(timeout=60).get_counts(3) == {"100 10": 10}  # layout from the server


def test_a_job_set_takes_cirq_circuits_and_openqasm_strings_as_run_does(provider) -> None:  # type: ignore[no-untyped-def]
    """Issue 19.1: ``JobManager().run()`` converts what provider ``run()`` converts. Three Cirq
    circuits and three OpenQASM 2/3 programs, two per job, each experiment's counts in its place."""
    simulator = provider.get_backend("simulator")
    a, b = cirq.LineQubit.range(2)
    cirq_circuits = [
        cirq.Circuit(cirq.X(a), cirq.measure(a, b, key="m")),
        cirq.Circuit(cirq.X(b), cirq.measure(a, b, key="m")),
        cirq.Circuit(cirq.X(a), cirq.X(b), cirq.measure(a, b, key="m")),
    ]
    job_set = JobManager().run(
        cirq_circuits, backend=simulator, name="cirq-set", max_experiments_per_job=2, shots=12
    )
    assert len(job_set.jobs()) == 2
    results = job_set.results(timeout=120)
    # the same keys provider run() gives (qubit 0 rightmost): see test_cirq_circuits_and_openqasm_run_straight
    assert [results.get_counts(i) for i in range(3)] == [{"01": 12}, {"10": 12}, {"11": 12}]
    assert simulator.run(cirq_circuits[1], shots=12).result().get_counts() == results.get_counts(1)

    header = 'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[2];\ncreg c[2];\n'
    programs = [
        header + "x q[1];\nmeasure q -> c;\n",
        'OPENQASM 3.0;\ninclude "stdgates.inc";\nqubit[2] q;\nbit[2] c;\nx q[0];\nc = measure q;\n',
        header + "measure q -> c;\n",
    ]
    qasm_set = JobManager().run(
        programs, backend=simulator, name="qasm-set", max_experiments_per_job=2, shots=9
    )
    assert len(qasm_set.jobs()) == 2
    counts = [qasm_set.results(timeout=120).get_counts(i) for i in range(3)]
    assert counts == [{"10": 9}, {"01": 9}, {"00": 9}]
    with pytest.raises(TypeError, match="one run takes circuits of one kind"):
        JobManager().run([programs[0], cirq_circuits[0]], backend=simulator)
