"""Helpers every engine adapter shares: thread count, sampling, and the gate matrices they use."""

from __future__ import annotations

import os

# The platform's one set of gate definitions (big-endian over each operation's own qubits).
from qumulus.circuits.gates import controlled_matrix, matrix
from qumulus.sim.sampling import sample_from_probabilities

__all__ = ["controlled_matrix", "default_threads", "matrix", "sample_from_probabilities"]


def default_threads() -> int:
    """Cores this process may use (affinity-aware), overridable with ``QUMULUS_SIM_THREADS``."""
    env = os.environ.get("QUMULUS_SIM_THREADS")
    if env:
        return max(1, int(env))
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)
