"""Fixtures for the framework integrations: the shared live server and an isolated SDK home."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import LiveServer


@pytest.fixture
def provider(live_server: LiveServer, sdk_home: Path):  # type: ignore[no-untyped-def]
    from qumulus import Qumulus

    return Qumulus.enable_account(live_server.key, url=live_server.url)


def within(observed: float, expected: float, n: int, sigmas: float = 5.0) -> bool:
    """A binomial frequency ``observed`` over ``n`` shots is within ``sigmas`` standard errors."""
    p = min(max(expected, 1e-9), 1 - 1e-9)
    return abs(observed - expected) <= sigmas * (p * (1 - p) / n) ** 0.5 + 1e-12
