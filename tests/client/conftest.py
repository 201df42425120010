"""Fixtures for the SDK tests: real ``qumulus serve`` processes and an isolated SDK config dir.

``sdk_server`` runs one simulator process and one worker thread, so a long job holds the queue and
the jobs behind it stay observably queued. ``failing_server`` has no usable simulation engine, so
every job fails on the server with the server's own message.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import LiveServer, start_server, stop_server

QUIET = {"QUMULUS_WARM_ENGINES": "0"}


def bell(name: str | None = "bell") -> dict:
    circuit = {
        "qubits": 2,
        "circuit": [{"gate": "h", "targets": [0]}, {"gate": "cnot", "control": 0, "target": 1}],
    }
    return {**circuit, "name": name} if name else circuit


def long_circuit(qubits: int = 22, layers: int = 400) -> dict:
    """Minutes of simulation on any machine, so it holds the one-process queue for as long as a test
    needs; canceling it stops the simulation at once (the process is replaced). Random rotations and a
    CNOT brickwork keep it off the stabilizer and MPS shortcuts, which would run an H/CNOT/T circuit
    of this size in a second or two."""
    rng = random.Random(11)
    gates: list[dict] = []
    for layer in range(layers):
        gates += [
            {"gate": f"r{rng.choice('xyz')}", "target": q, "rotation": rng.uniform(0, 6.28)}
            for q in range(qubits)
        ]
        gates += [{"gate": "cnot", "control": q, "target": q + 1} for q in range(layer % 2, qubits - 1, 2)]
    return {"qubits": qubits, "circuit": gates, "name": "long"}


@pytest.fixture(scope="session")
def sdk_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    data_dir = tmp_path_factory.mktemp("sdk") / "data"
    server = start_server(
        data_dir, env={**QUIET, "QUMULUS_POOL_PROCESSES": "1", "QUMULUS_WORKER_THREADS": "1"}
    )
    yield server
    stop_server(server)


@pytest.fixture(scope="session")
def failing_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    data_dir = tmp_path_factory.mktemp("sdk-failing") / "data"
    server = start_server(
        data_dir, env={**QUIET, "QUMULUS_POOL_PROCESSES": "1", "QUMULUS_SIM_ENGINE": "nonexistent"}
    )
    yield server
    stop_server(server)


@pytest.fixture
def provider(sdk_server: LiveServer, sdk_home: Path):  # type: ignore[no-untyped-def]
    from qumulus import Qumulus

    return Qumulus.enable_account(sdk_server.key, url=sdk_server.url)


@pytest.fixture
def simulator(provider):  # type: ignore[no-untyped-def]
    return provider.get_backend("simulator")


@pytest.fixture
def blocker(simulator):  # type: ignore[no-untyped-def]
    """A long job holding the one simulator process (running before the test starts, so jobs
    submitted by the test queue behind it); canceled afterwards."""
    from qumulus import JobStatus

    job = simulator.run(long_circuit(), shots=10, name="blocker")
    deadline = time.monotonic() + 120  # a previous test's canceled blocker may still hold the process
    while job.status() is not JobStatus.RUNNING:
        assert time.monotonic() < deadline, "the blocker never started"
        time.sleep(0.05)
    yield job
    job.cancel()
