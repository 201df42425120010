"""Jobs through the SDK against a live server: results, waiting, callbacks, timeout, cancel, failure."""

from __future__ import annotations

import itertools
from collections import Counter

import pytest

from qumulus import Circuit, JobStatus, Qumulus
from qumulus.client import JobCancelledError, JobFailureError, JobTimeoutError
from tests.client.conftest import bell
from tests.conftest import LiveServer


def test_run_returns_counts_probabilities_and_real_memory(simulator) -> None:  # type: ignore[no-untyped-def]
    job = simulator.run(Circuit(2, name="bell").h(0).cnot(0, 1), shots=200, tags=["t1"])
    result = job.result(timeout=60)
    assert job.status() is JobStatus.DONE
    assert result.get_probabilities() == {"00": 0.5, "11": 0.5}
    counts = result.get_counts()
    assert set(counts) == {"00", "11"} and sum(counts.values()) == 200
    memory = result.get_memory()
    assert len(memory) == 200 and Counter(memory) == counts  # counts are these very shots
    assert job.result() is result  # cached: no second download
    assert job.name() == "bell" and job.tags() == ["t1"]


def test_bit_order_is_qubit_zero_rightmost(simulator) -> None:  # type: ignore[no-untyped-def]
    result = simulator.run({"qubits": 3, "circuit": [{"gate": "x", "target": 0}]}, shots=10).result(
        timeout=60
    )
    assert result.get_counts() == {"001": 10}
    assert result.results[0].counts_int == {1: 10}


def test_native_gate_builder(simulator) -> None:  # type: ignore[no-untyped-def]
    flip = Circuit(1, name="gpi2x2", gateset="native").gpi2(0, 0).gpi2(0, 0)  # GPI2(0)² = -iX
    entangle = Circuit(2, name="ms", gateset="native").ms(0, 1)
    result = simulator.run([flip, entangle], shots=20).result(timeout=60)
    assert result.get_counts("gpi2x2") == {"1": 20}
    assert result.get_probabilities("ms") == {"00": 0.5, "11": 0.5}
    with pytest.raises(ValueError, match="native gate in a 'qis' circuit"):
        Circuit(1).gpi(0.25, 0)
    with pytest.raises(ValueError, match="QIS gate in a 'native' circuit"):
        Circuit(1, gateset="native").h(0)


def test_multi_circuit_job_results_by_index_and_name(simulator) -> None:  # type: ignore[no-untyped-def]
    job = simulator.run([bell("b"), Circuit(1, name="one").x(0)], shots=30)
    result = job.result(timeout=60)
    assert len(result) == 2
    assert result.get_counts("one") == {"1": 30}
    assert result.get_counts(1) == {"1": 30}
    assert result.get_probabilities("b") == {"00": 0.5, "11": 0.5}
    assert [len(m) for m in result.get_memory()] == [30, 30]


def test_job_details_timings_rename_and_retag(simulator) -> None:  # type: ignore[no-untyped-def]
    job = simulator.run(bell(), shots=10, name="first", tags=["a", "b"])
    job.wait_for_final_state(timeout=60)
    steps = job.time_per_step()
    assert list(steps) == ["INITIALIZING", "QUEUED", "RUNNING", "DONE"]
    assert steps["INITIALIZING"] <= steps["QUEUED"] <= steps["RUNNING"] <= steps["DONE"]
    assert job.creation_date() == steps["INITIALIZING"]
    assert job.queue_info() is None and job.error_message() is None
    assert job.update_name("renamed") == "renamed"
    assert job.update_tags(additional_tags=["c"], removal_tags=["a"]) == ["b", "c"]
    again = simulator.provider.retrieve_job(job.job_id())  # as another session sees it
    assert again.name() == "renamed" and again.tags() == ["b", "c"]


def test_callback_sees_each_change_once(simulator, blocker) -> None:  # type: ignore[no-untyped-def]
    queued = simulator.run(bell(), shots=10)
    seen: list[JobStatus] = []

    def record(job_id: str, status: JobStatus, job: object) -> None:
        seen.append(status)
        if len(seen) == 1:  # seen waiting: now let the queue move
            blocker.cancel()

    queued.wait_for_final_state(timeout=120, callback=record)
    assert seen[0] is JobStatus.QUEUED and seen[-1] is JobStatus.DONE
    assert all(a is not b for a, b in itertools.pairwise(seen))  # on change only


def test_queue_info_behind_a_long_job(simulator, blocker) -> None:  # type: ignore[no-untyped-def]
    queued = simulator.run(bell(), shots=10)
    info = queued.queue_info()
    assert info is not None and info.position >= 1 and info.status is JobStatus.QUEUED
    if info.estimated_start_time is not None:
        assert info.estimated_complete_time >= info.estimated_start_time
    queued.cancel()


def test_timeout_raises_and_the_job_keeps_running(simulator, blocker) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(JobTimeoutError) as caught:
        blocker.result(timeout=0.3)
    assert isinstance(caught.value, TimeoutError) and caught.value.job_id == blocker.job_id()
    assert blocker.status() in (JobStatus.RUNNING, JobStatus.QUEUED)


def test_cancel_then_result_raises_cancelled(simulator, blocker) -> None:  # type: ignore[no-untyped-def]
    queued = simulator.run(bell(), shots=10)
    assert queued.cancel() is True
    assert queued.status() is JobStatus.CANCELLED
    with pytest.raises(JobCancelledError):
        queued.result(timeout=10)
    done = simulator.run(bell(), shots=10, name="done")
    done.result(timeout=120)
    assert done.cancel() is False  # finished jobs stay finished


def test_failure_carries_the_servers_reason(failing_server: LiveServer, sdk_home) -> None:  # type: ignore[no-untyped-def]
    provider = Qumulus.enable_account(failing_server.key, url=failing_server.url)
    job = provider.get_backend("simulator").run(bell(), shots=10)
    with pytest.raises(JobFailureError) as caught:
        job.result(timeout=60)
    assert caught.value.code == "SimulationError"
    assert "nonexistent" in str(caught.value)  # the server's message, not a generic one
    assert job.status() is JobStatus.ERROR
    assert "SimulationError" in job.error_message()


def test_invalid_circuit_is_an_api_error_naming_the_field(simulator) -> None:  # type: ignore[no-untyped-def]
    from qumulus.client import ApiError

    with pytest.raises(ApiError) as caught:
        simulator.run({"qubits": 2, "circuit": [{"gate": "nope", "target": 0}]})
    assert caught.value.status_code == 422 and caught.value.field == "input.circuit[0].gate"
    with pytest.raises(TypeError, match="IonQ circuit dict"):
        simulator.run("H 0; CNOT 0 1")  # neither IonQ JSON nor OpenQASM
    # OpenQASM text goes to the server as is, and its errors come back naming input.data.
    with pytest.raises(ApiError) as program:
        simulator.run("OPENQASM 3;\nqubit[1] q;\nfoo q[0];")
    assert program.value.status_code == 422 and program.value.field == "input.data"
    assert "line 3" in str(program.value)
