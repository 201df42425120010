"""PostgreSQL LISTEN/NOTIFY between processes: "work arrived" for workers, "job finished" for APIs.

In embedded mode one process holds the API, the workers and the :class:`CompletionHub`, so an
in-process signal is enough. In distributed mode they are separate processes, possibly on separate
machines, and the database is the one thing they share. Two channels:

* ``qumulus_work`` — sent after a submission (or a reap) commits; every worker's listener sets its
  local waker, so an idle worker claims within milliseconds instead of at its next poll.
* ``qumulus_done`` — sent by a worker after a completion commits, payload ``"<job id> <status>"``
  lines; every API process's listener publishes them into its hub, so ``POST /jobs`` with
  ``submit_wait_ms`` and ``GET /jobs/{id}?wait=`` answer as soon as a job finishes elsewhere.
* ``qumulus_cancel`` — sent after a cancel commits; workers check their leases at once and stop
  simulations of canceled jobs (instead of at their next heartbeat).

Notifications are hints, never the record: NOTIFY is not delivered to a listener that is
disconnected, so workers keep polling and waiters keep their timeout. A lost notification costs
latency, never a job. Sending happens on a background thread with its own autocommit connection,
coalescing bursts, so a submission never waits for a NOTIFY round trip.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable

import psycopg

log = logging.getLogger("qumulus.pgnotify")

WORK_CHANNEL = "qumulus_work"
DONE_CHANNEL = "qumulus_done"
CANCEL_CHANNEL = "qumulus_cancel"
#: PostgreSQL refuses payloads of 8000 bytes or more; completion lines are split below that.
MAX_PAYLOAD = 7000


def libpq_url(url: str) -> str:
    """The URL psycopg accepts (SQLAlchemy's ``postgresql+psycopg://`` names a driver too)."""
    for prefix in ("postgresql+psycopg://", "postgresql+psycopg2://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql://" + url[len(prefix) :]
    return url


def done_payloads(finished: Iterable[tuple[str, str]]) -> list[str]:
    """``(job id, status)`` pairs as NOTIFY payloads, each under :data:`MAX_PAYLOAD` bytes."""
    payloads: list[str] = []
    lines: list[str] = []
    size = 0
    for job_id, status in finished:
        line = f"{job_id} {status}"
        if lines and size + len(line) + 1 > MAX_PAYLOAD:
            payloads.append("\n".join(lines))
            lines, size = [], 0
        lines.append(line)
        size += len(line) + 1
    if lines:
        payloads.append("\n".join(lines))
    return payloads


def parse_done(payload: str) -> list[tuple[str, str]]:
    pairs = []
    for line in payload.splitlines():
        job_id, _, status = line.partition(" ")
        if job_id and status:
            pairs.append((job_id, status))
    return pairs


class PgNotifier:
    """Sends notifications from a background thread; ``work()`` and ``done()`` never block on I/O."""

    def __init__(self, url: str) -> None:
        self.url = libpq_url(url)
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._work_pending = False
        self._cancel_pending = False
        self._done_pending: list[tuple[str, str]] = []
        self._conn: psycopg.Connection | None = None
        self._thread = threading.Thread(target=self._run, name="qumulus-notify", daemon=True)
        self._thread.start()

    def work(self) -> None:
        """Tell every worker that something was queued (bursts collapse into one NOTIFY)."""
        with self._lock:
            self._work_pending = True
        self._wake.set()

    def cancel(self) -> None:
        """Tell every worker that jobs were canceled (they re-check their leases)."""
        with self._lock:
            self._cancel_pending = True
        self._wake.set()

    def done(self, finished: Iterable[tuple[str, str]]) -> None:
        """Tell every API process that these jobs reached a final state (after the commit)."""
        with self._lock:
            self._done_pending.extend(finished)
        self._wake.set()

    def close(self, timeout: float = 2.0) -> None:
        """Send what is pending, then stop."""
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout)
        if self._conn is not None:
            self._conn.close()

    def _run(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            with self._lock:
                work, self._work_pending = self._work_pending, False
                cancel, self._cancel_pending = self._cancel_pending, False
                done, self._done_pending = self._done_pending, []
            if work or cancel or done:
                self._send(work, cancel, done)
            if self._stop.is_set():
                return

    def _send(self, work: bool, cancel: bool, done: list[tuple[str, str]]) -> None:
        """Send in one transaction; on a failure, reconnect and send once more.

        A connection the database dropped (a restart, a failover, an idle timeout) is only found
        dead when used: without the second try every process lost the first notification after each
        reconnection. A failed transaction delivered nothing (NOTIFY is sent at commit), so the retry
        cannot duplicate; the second failure is logged and left to polling and timeouts.
        """
        for attempt in (1, 2):
            try:
                if self._conn is None or self._conn.closed:
                    self._conn = psycopg.connect(self.url, autocommit=True)
                with self._conn.transaction():  # one commit delivers them all
                    if work:
                        self._conn.execute("SELECT pg_notify(%s, '')", (WORK_CHANNEL,))
                    if cancel:
                        self._conn.execute("SELECT pg_notify(%s, '')", (CANCEL_CHANNEL,))
                    for payload in done_payloads(done):
                        self._conn.execute("SELECT pg_notify(%s, %s)", (DONE_CHANNEL, payload))
                return
            except psycopg.Error as exc:
                if self._conn is not None:
                    self._conn.close()
                self._conn = None
                if attempt == 2:  # a hint was lost: pollers and timeouts cover it
                    log.warning("NOTIFY failed (%s); workers fall back to polling", exc)
                else:
                    log.info("NOTIFY connection lost (%s); reconnecting to send again", exc)


class PgListener:
    """A thread holding one LISTEN connection and calling a handler per channel.

    After every (re)connection ``on_connect`` runs: notifications sent while this process was
    disconnected are gone, so it should assume there is work (wake the workers).
    """

    def __init__(
        self,
        url: str,
        handlers: dict[str, Callable[[str], None]],
        *,
        on_connect: Callable[[], None] | None = None,
        check_seconds: float = 0.5,
    ) -> None:
        self.url = libpq_url(url)
        self.handlers = handlers
        self.on_connect = on_connect
        self.check_seconds = check_seconds
        self.connected = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="qumulus-listen", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 3.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._listen()
            except Exception as exc:  # the database restarted or the network blinked
                self.connected.clear()
                log.warning("LISTEN connection lost (%s); reconnecting", exc)
                self._stop.wait(1.0)

    def _listen(self) -> None:
        with psycopg.connect(self.url, autocommit=True) as conn:
            for channel in self.handlers:
                conn.execute(f"LISTEN {channel}")
            self.connected.set()
            if self.on_connect is not None:
                self.on_connect()
            while not self._stop.is_set():
                # notifies() ends after ``timeout`` so the stop flag is checked regularly
                for note in conn.notifies(timeout=self.check_seconds):
                    handler = self.handlers.get(note.channel)
                    if handler is not None:
                        try:
                            handler(note.payload)
                        except Exception:
                            log.exception("notification handler failed")
