"""Helpers shared by the circuits tests."""

from __future__ import annotations

from typing import Any

import numpy as np

from qumulus.circuits import CircuitBatch, Operation, parse_input
from qumulus.circuits.model import Circuit

BELL_OPS = (Operation("h", (0,)), Operation("x", (1,), (0,)))


def parse_single(payload: Any, **kwargs: Any) -> Circuit:
    """Parse an ``ionq.circuit.v1`` input and return its only circuit."""
    batch = parse_input("ionq.circuit.v1", payload, **kwargs)
    assert isinstance(batch, CircuitBatch)
    assert not batch.multi
    assert len(batch.circuits) == 1
    return batch.circuits[0]


def assert_unitary(m: np.ndarray, atol: float = 1e-12) -> None:
    assert m.dtype == np.complex128
    assert m.shape[0] == m.shape[1]
    np.testing.assert_allclose(m @ m.conj().T, np.eye(m.shape[0]), atol=atol)


def assert_equal_up_to_phase(a: np.ndarray, b: np.ndarray, atol: float = 1e-9) -> None:
    """``a == e^{iφ}·b`` for some global phase φ."""
    assert a.shape == b.shape
    k = np.unravel_index(np.argmax(np.abs(b)), b.shape)
    phase = a[k] / b[k]
    assert abs(abs(phase) - 1) < atol, f"not equal up to phase: |ratio| = {abs(phase)}"
    np.testing.assert_allclose(a, phase * b, atol=atol)


def big_to_little(m: np.ndarray) -> np.ndarray:
    """Reorder a matrix from big-endian to little-endian over the same qubits (or back)."""
    n = int(np.log2(m.shape[0]))
    perm = [int(format(i, f"0{n}b")[::-1], 2) if n else 0 for i in range(m.shape[0])]
    return m[np.ix_(perm, perm)]
