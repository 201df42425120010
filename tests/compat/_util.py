"""Helpers shared by the client compatibility tests (not fixtures: those are in conftest.py)."""

from __future__ import annotations

import math
import random
import time
from typing import Any

import httpx
import numpy as np

#: A circuit the simulator needs a minute or more for on any machine, so that it is still queued or
#: running when a test cancels it a few milliseconds after submitting it (a cancel stops its
#: simulation at once). 20 layers were too few: a fast CI machine finished them inside the submit wait.
BIG_QUBITS = 22
BIG_DEPTH = 300
TERMINAL = ("completed", "failed", "canceled")


def headers(key: str) -> dict[str, str]:
    return {"Authorization": f"apiKey {key}"}


def wait_terminal(v04: str, key: str, job_id: str, timeout: float = 60.0) -> dict[str, Any]:
    """Poll ``GET /jobs/{id}`` quickly until the job is final; returns the job body."""
    deadline = time.monotonic() + timeout
    while True:
        body = httpx.get(f"{v04}/jobs/{job_id}", headers=headers(key), timeout=10).json()
        if body.get("status") in TERMINAL:
            return body
        if time.monotonic() > deadline:
            raise AssertionError(f"job {job_id} not final after {timeout} s: {body}")
        time.sleep(0.02)


def binomial_ok(count: int, n: int, p: float, z: float = 5.0) -> bool:
    """``count`` is within ``z`` standard deviations of Binomial(n, p)'s mean."""
    return abs(count - n * p) <= z * math.sqrt(n * p * (1 - p))


def random_layers(qubits: int, depth: int, seed: int = 7) -> list[tuple[str, tuple[int, ...], float]]:
    """A brickwork of random single-qubit rotations and CNOTs: ``(name, qubits, angle)`` tuples."""
    rng = random.Random(seed)
    ops: list[tuple[str, tuple[int, ...], float]] = []
    for layer in range(depth):
        for q in range(qubits):
            ops.append((rng.choice(["rx", "ry", "rz"]), (q,), rng.uniform(0, 2 * math.pi)))
        for q in range(layer % 2, qubits - 1, 2):
            ops.append(("cnot", (q, q + 1), 0.0))
    return ops


# Native gates as the wire spec defines them (§10.3): phases and angles in turns.


def sigma(phi: float) -> np.ndarray:
    return np.array([[0, np.exp(-2j * np.pi * phi)], [np.exp(2j * np.pi * phi), 0]])


def gpi(phi: float) -> np.ndarray:
    return sigma(phi)


def gpi2(phi: float) -> np.ndarray:
    return (np.eye(2) - 1j * sigma(phi)) / np.sqrt(2)


def ms(phi0: float, phi1: float, theta: float = 0.25) -> np.ndarray:
    """MS on (a, b) as a 4x4 matrix with ``a`` the more significant index."""
    return np.cos(np.pi * theta) * np.eye(4) - 1j * np.sin(np.pi * theta) * np.kron(sigma(phi0), sigma(phi1))


def apply_big_endian(state: np.ndarray, matrix: np.ndarray, wires: list[int], n: int) -> np.ndarray:
    """Apply ``matrix`` (first wire most significant) to ``wires`` of an n-qubit state, wire 0 = MSB."""
    tensor = state.reshape([2] * n)
    k = len(wires)
    gate = matrix.reshape([2] * (2 * k))
    tensor = np.tensordot(gate, tensor, axes=(list(range(k, 2 * k)), wires))
    tensor = np.moveaxis(tensor, list(range(k)), wires)
    return tensor.reshape(-1)
