"""The current characterization of each backend, as workers hand it to emulated runs.

Emulated QPUs take their noise and timing from the backend's *current* stored snapshot (so a
recalibration changes the emulator within ``ttl`` seconds), not from the catalog. Workers read it
here, cached, and ship it with the task: the simulating process never opens the database.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from qumulus.store.db import Database
from qumulus.store.models import Backend, Characterization


@dataclass(frozen=True)
class Snapshot:
    id: str
    qubits: int
    data: dict[str, Any]


class CharacterizationCache:
    """``get(backend)`` → the current :class:`Snapshot` (or None), re-read at most every ``ttl`` s."""

    def __init__(self, db: Database, ttl: float = 5.0) -> None:
        self.db = db
        self.ttl = ttl
        self._cache: dict[str, tuple[float, Snapshot | None]] = {}
        self._lock = threading.Lock()

    def get(self, backend: str) -> Snapshot | None:
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(backend)
        if hit is not None and now - hit[0] < self.ttl:
            return hit[1]
        with self.db.connect() as conn:
            row = conn.execute(
                select(Characterization.id, Characterization.qubits, Characterization.data)
                .join(Backend, Backend.characterization_id == Characterization.id)
                .where(Backend.name == backend)
            ).first()
        snapshot = Snapshot(row.id, int(row.qubits), dict(row.data)) if row is not None else None
        with self._lock:
            self._cache[backend] = (now, snapshot)
        return snapshot
