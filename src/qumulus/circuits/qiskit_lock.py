"""One lock for qiskit in this process.

qiskit 2.x crashed the whole server process (a segmentation fault in ``QuantumCircuit.__init__``)
when several request threads compiled circuits at once — parallel QPU submissions, each planned in
the thread pool. Every entry point of this package into qiskit holds this lock, so qiskit runs in
one thread at a time per process. A compile or an OpenQASM import takes milliseconds; the
simulator processes, where long runs happen, are separate processes and are not serialised.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any, TypeVar

QISKIT = threading.RLock()

F = TypeVar("F", bound=Callable[..., Any])


def serialized(fn: F) -> F:
    """``fn`` runs holding :data:`QISKIT` (re-entrant: one entry point may call another)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with QISKIT:
            return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
