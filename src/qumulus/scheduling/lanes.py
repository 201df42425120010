"""Lanes: how much of a worker pool long work may hold, so short work always has somewhere to run.

Two size classes (issue 17.2). **Short**: an ideal simulation of at most
:data:`SMALL_CIRCUIT_QUBITS` qubits (milliseconds; a worker runs many in one call). **Long**:
anything wider, and every emulated-QPU run (0.1 s to minutes). Long work may hold at most
:func:`long_lanes` of a pool's slots; the rest is kept for short work, so two users' 25-qubit
emulations cannot make a one-gate ``simulator`` job wait for them. Pure arithmetic: the runtime
applies it when claiming (``runtime/worker.py``) and the queue figures when predicting
(``services/jobs/queue_view.py``).
"""

from __future__ import annotations

#: Circuits up to this many qubits take milliseconds on the ideal simulator: the short class.
SMALL_CIRCUIT_QUBITS = 16


def is_long(qubits: int, emulated: bool) -> bool:
    """Whether an execution is in the long class."""
    return emulated or qubits > SMALL_CIRCUIT_QUBITS


def long_lanes(slots: int) -> int:
    """Slots long work may hold at once in a pool of ``slots``: all but one (a pool of one slot
    cannot keep a lane, and runs its work in order)."""
    return max(1, slots - 1)


def short_lanes(slots: int, long_running: int) -> int:
    """Slots short work can use now, with ``long_running`` long executions in the pool."""
    return max(1, slots - min(long_running, long_lanes(slots)))
