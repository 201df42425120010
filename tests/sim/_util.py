"""Helpers shared by the simulation tests: engines with their tolerances, reference probabilities."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from qumulus.circuits.gates import circuit_unitary
from qumulus.circuits.model import Circuit
from qumulus.sim.engine import Distribution, Engine

#: Exact-probability tolerance per engine: double-precision engines vs the float32 qsim.
TOLERANCE = {"aer": 1e-9, "qulacs": 1e-9, "qsim": 1e-5}
_MODULES = {"aer": "qiskit_aer", "qsim": "qsimcirq", "qulacs": "qulacs"}


def make_engine(name: str) -> Engine:
    if importlib.util.find_spec(_MODULES[name]) is None:
        pytest.skip(f"{_MODULES[name]} is not installed")
    if name == "aer":
        from qumulus.sim.aer import AerEngine

        return AerEngine()
    if name == "qsim":
        from qumulus.sim.qsim import QsimEngine

        return QsimEngine()
    from qumulus.sim.qulacs_engine import QulacsEngine

    return QulacsEngine()


def dense(dist: Distribution) -> np.ndarray:
    """The full probability vector of a distribution, dense or sparse."""
    if dist.indices is None:
        return np.asarray(dist.values, dtype=np.float64)
    out = np.zeros(1 << dist.qubits)
    out[dist.indices.astype(np.int64)] = dist.values
    return out


def reference_probabilities(circuit: Circuit) -> np.ndarray:
    """|U|0…0⟩|² from the dense little-endian circuit unitary (small circuits only)."""
    return np.abs(circuit_unitary(circuit)[:, 0]) ** 2


def big_endian_to_little(probs: np.ndarray, qubits: int) -> np.ndarray:
    """Reverse the bit order of every index (cirq's big-endian vector → our little-endian one)."""
    return probs.reshape((2,) * qubits).transpose(tuple(reversed(range(qubits)))).reshape(-1)
