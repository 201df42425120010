"""LISTEN/NOTIFY between processes (runtime/pgnotify.py) against a real PostgreSQL."""

from __future__ import annotations

import threading

from tests.conftest import fresh_postgres_url


def test_the_first_notification_after_the_database_dropped_the_sender_is_still_sent(
    postgres_server: str,
) -> None:
    """Issue 16.12: after a lost connection each process's sender dropped its first notification
    (it found the connection dead only by using it). It now reconnects and sends it again."""
    import psycopg

    from qumulus.runtime.pgnotify import DONE_CHANNEL, PgListener, PgNotifier, parse_done

    url = fresh_postgres_url(postgres_server)
    heard: list[tuple[str, str]] = []
    arrived = threading.Event()

    def on_done(payload: str) -> None:
        heard.extend(parse_done(payload))
        arrived.set()

    listener = PgListener(url, {DONE_CHANNEL: on_done}, check_seconds=0.1)
    listener.start()
    notifier = PgNotifier(url)
    try:
        assert listener.connected.wait(10)
        notifier.done([("job-1", "completed")])
        assert arrived.wait(10) and heard == [("job-1", "completed")]
        assert notifier._conn is not None
        sender = notifier._conn.info.backend_pid
        with psycopg.connect(url, autocommit=True) as admin:  # a restart, failover or idle timeout
            admin.execute("SELECT pg_terminate_backend(%s)", (sender,))
        arrived.clear()
        notifier.done([("job-2", "completed")])
        assert arrived.wait(10), "the notification after the lost connection was dropped"
        assert heard == [("job-1", "completed"), ("job-2", "completed")]
    finally:
        notifier.close()
        listener.stop()
