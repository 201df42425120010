"""Fixtures for the framework integrations: the shared live server and an isolated SDK home."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import LiveServer

ENV_VARS = ("QUMULUS_API_KEY", "QUMULUS_URL", "IONQ_API_KEY", "IONQ_API_URL", "QUMULUS_PROFILE")


@pytest.fixture
def sdk_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty SDK config dir and no credentials in the environment; no account active after."""
    from qumulus import Qumulus

    home = tmp_path / "qumulus-home"
    monkeypatch.setenv("QUMULUS_CONFIG_DIR", str(home))
    monkeypatch.delenv("QUMULUS_CREDENTIALS_FILE", raising=False)
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    yield home
    Qumulus.disable_account()


@pytest.fixture
def provider(live_server: LiveServer, sdk_home: Path):  # type: ignore[no-untyped-def]
    from qumulus import Qumulus

    return Qumulus.enable_account(live_server.key, url=live_server.url)


def within(observed: float, expected: float, n: int, sigmas: float = 5.0) -> bool:
    """A binomial frequency ``observed`` over ``n`` shots is within ``sigmas`` standard errors."""
    p = min(max(expected, 1e-9), 1 - 1e-9)
    return abs(observed - expected) <= sigmas * (p * (1 - p) / n) ** 0.5 + 1e-12
