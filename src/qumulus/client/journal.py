"""A local journal of submissions, so a crashed notebook never loses a job id.

Every ``run()`` writes its Idempotency-Key here *before* the request leaves, and the job id once the
server answers. After a crash, :meth:`Journal.recent` lists what was submitted; an entry still
without an id is resolved by asking the server for the job with that key (the submission may have
arrived), and can be re-sent safely with the same key.

SQLite from the standard library, one file per machine (``$QUMULUS_CONFIG_DIR/journal.sqlite``),
entries tagged by profile and server. Journal failures never fail a submission: the journal is a
safety net, not a dependency.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from qumulus.client.accounts import config_dir

_SCHEMA = """
CREATE TABLE IF NOT EXISTS submissions (
    idempotency_key TEXT PRIMARY KEY,
    profile TEXT NOT NULL,
    url TEXT NOT NULL,
    kind TEXT NOT NULL,
    job_id TEXT,
    backend TEXT,
    name TEXT,
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_submissions_profile ON submissions (profile, url, created_at);
"""


@dataclass(frozen=True)
class JournalEntry:
    idempotency_key: str
    profile: str
    url: str
    kind: str  # "job" or "job_set"
    job_id: str | None
    backend: str | None
    name: str | None
    created_at: float


class Journal:
    def __init__(self, path: Path | None = None) -> None:
        self.path = path or config_dir() / "journal.sqlite"

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        conn = sqlite3.connect(self.path, timeout=10)
        conn.executescript(_SCHEMA)
        return conn

    def pending(
        self, key: str, *, profile: str, url: str, kind: str, backend: str | None, name: str | None
    ) -> None:
        try:
            with self._connect() as conn:
                conn.execute(
                    "INSERT OR IGNORE INTO submissions VALUES (?, ?, ?, ?, NULL, ?, ?, ?)",
                    (key, profile, url, kind, backend, name, time.time()),
                )
        except sqlite3.Error:
            pass

    def submitted(self, key: str, job_id: str) -> None:
        try:
            with self._connect() as conn:
                conn.execute("UPDATE submissions SET job_id = ? WHERE idempotency_key = ?", (job_id, key))
        except sqlite3.Error:
            pass

    def recent(self, *, profile: str, url: str, limit: int = 20) -> list[JournalEntry]:
        """Newest first."""
        with self._connect() as conn:
            rows = conn.execute(
                "SELECT idempotency_key, profile, url, kind, job_id, backend, name, created_at"
                " FROM submissions WHERE profile = ? AND url = ? ORDER BY created_at DESC LIMIT ?",
                (profile, url, limit),
            ).fetchall()
        return [JournalEntry(*row) for row in rows]
