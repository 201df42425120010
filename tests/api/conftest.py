from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import Api, make_platform

BELL = {"qubits": 2, "circuit": [{"gate": "h", "target": 0}, {"gate": "cnot", "control": 0, "target": 1}]}


def bell_job(**extra: object) -> dict:
    return {"type": "ionq.circuit.v1", "backend": "simulator", "shots": 100, "input": BELL, **extra}


@pytest.fixture
def idle_api(settings) -> Iterator[Api]:  # type: ignore[no-untyped-def]
    """The API without its job runtime: jobs stay queued, so queue states can be observed."""
    from fastapi.testclient import TestClient

    from qumulus.api.app import create_app

    platform, key = make_platform(settings)
    with TestClient(create_app(platform, run_jobs=False), raise_server_exceptions=False) as client:
        yield Api(client=client, key=key, platform=platform)


@pytest.fixture
def two_apps(settings) -> Iterator[tuple[Api, Api]]:  # type: ignore[no-untyped-def]
    """Two independent app instances (own engines, own group committers) on one database, like two
    API processes behind a load balancer; no job runtime, so holds stay held."""
    from fastapi.testclient import TestClient

    from qumulus.api.app import create_app
    from qumulus.platform import Platform

    first, key = make_platform(settings)
    second = Platform(settings)
    with (
        TestClient(create_app(first, run_jobs=False), raise_server_exceptions=False) as one,
        TestClient(create_app(second, run_jobs=False), raise_server_exceptions=False) as two,
    ):
        yield Api(client=one, key=key, platform=first), Api(client=two, key=key, platform=second)
