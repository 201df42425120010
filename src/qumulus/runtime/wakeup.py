"""Waking workers when work arrives: an in-process signal (embedded mode).

Workers clear the signal *before* they look at the queue and sleep on it only when they found
nothing, so a notification that arrives while they look is never lost. They also poll (``wait``
times out), so even a lost signal costs latency, never a job.
"""

from __future__ import annotations

import threading


class LocalWaker:
    def __init__(self) -> None:
        self._event = threading.Event()

    def notify(self, count: int = 1) -> None:
        """Wake sleeping workers (``count`` is a hint for wakers that can target fewer)."""
        self._event.set()

    def clear(self) -> None:
        self._event.clear()

    def wait(self, timeout: float) -> bool:
        return self._event.wait(timeout)
