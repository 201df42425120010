"""When to retry a notification that could not be delivered: exponential back-off, then give up.

1 s, 2 s, 4 s … capped at an hour; after :data:`MAX_ATTEMPTS` attempts (about 14 hours in all)
the row is marked ``dead`` and kept, so an operator can see what was never delivered and why.
"""

from __future__ import annotations

MAX_ATTEMPTS = 20
BASE_SECONDS = 1.0
CAP_SECONDS = 3600.0


def next_delay(attempts: int, *, max_attempts: int = MAX_ATTEMPTS) -> float | None:
    """Seconds to wait after ``attempts`` failed attempts, or None to give up."""
    if attempts >= max_attempts:
        return None
    return min(CAP_SECONDS, BASE_SECONDS * 2 ** max(0, attempts - 1))
