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
