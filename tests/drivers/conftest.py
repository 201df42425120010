"""Fixtures for the driver tests: a driver pointed at a real Qumulus server, and a fault proxy."""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from qumulus.drivers import DriverConfig, ProviderJob, Transient
from qumulus.drivers.backoff import Backoff, PollSchedule
from qumulus.drivers.forward import Retry
from qumulus.drivers.ionq import IonQDriver
from tests.drivers.faults import FaultProxy

BELL = {"qubits": 2, "circuit": [{"gate": "h", "targets": [0]}, {"gate": "cnot", "control": 0, "target": 1}]}


def ionq_driver(url: str, key: str, target: str = "qpu.aria-1", **options: Any) -> IonQDriver:
    return IonQDriver(
        DriverConfig(
            backend="upstream.test", options={"url": url, "target": target, **options}, credential=key
        )
    )


def job(
    input: dict[str, Any] | None = None, *, shots: int = 100, kind: str = "ionq.circuit.v1"
) -> ProviderJob:
    """A job with a fresh token (one per test: the shared upstream keeps every key)."""
    return ProviderJob(token=f"test-{uuid.uuid4()}", type=kind, input=input or BELL, shots=shots, name="drv")


class Observed(Retry):
    """A retry policy with short waits that remembers every transient failure it waited out."""

    def __init__(self, **kw: Any) -> None:
        super().__init__(stop=threading.Event(), backoff=Backoff(initial=0.05, cap=0.2), **kw)
        self.seen: list[tuple[str, float | None, float]] = []
        self.on_transient = self._note

    def _note(self, exc: Transient, failures: int, wait: float) -> None:
        self.seen.append((str(exc), exc.retry_after, wait))


FAST = PollSchedule(first=0.05, factor=1.5, cap=0.5)


def upstream_jobs(server: Any, token: str) -> list[dict[str, Any]]:
    """The upstream's own record: its jobs submitted with this idempotency token."""
    body = httpx.get(
        f"{server.v04}/jobs",
        params={"idempotency_key": token},
        headers={"Authorization": f"apiKey {server.key}"},
        timeout=30,
    ).json()
    return body["jobs"]


@pytest.fixture(scope="session")
def upstream(cluster: Any) -> Any:
    """The cluster's upstream Qumulus (plays the provider), also the driver tests' provider."""
    return cluster.upstream


@pytest.fixture
def proxy(upstream: Any) -> Iterator[FaultProxy]:
    fp = FaultProxy(upstream=upstream.url)
    yield fp
    fp.close()


TOY_SOURCE = Path(__file__).parent / "toy_driver"


@pytest.fixture(scope="session")
def toy_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The third-party driver package ``tests/drivers/toy_driver`` installed by pip into a directory
    of its own (put it on ``PYTHONPATH`` to have it "installed"): a real wheel build and a real
    ``entry_points.txt``, the way a site installs a driver package next to Qumulus."""
    work = tmp_path_factory.mktemp("toy")
    source = work / "src"
    shutil.copytree(TOY_SOURCE, source, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    target = work / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "--target",
            str(target),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return target


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory, toy_site: Path) -> Iterator[Any]:
    """An upstream Qumulus and a broker Qumulus in front of it (tests/drivers/broker.py)."""
    from tests.drivers.broker import start_cluster, stop_cluster

    made = start_cluster(tmp_path_factory.mktemp("cluster"), toy_site)
    yield made
    stop_cluster(made)
