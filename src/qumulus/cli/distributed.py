"""Distributed mode: ``qumulus api``, ``qumulus scheduler`` and ``qumulus worker``.

Each is one role of ``qumulus serve``, run as its own process so that any number of each can run on
any machines against one PostgreSQL database (docs/distributed.md). They share the code of the
embedded server; only the wake-up mechanism (LISTEN/NOTIFY) and the executor are chosen here.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

console = Console(soft_wrap=True)

DataDir = Annotated[
    Path | None,
    typer.Option(
        "--data-dir", envvar="QUMULUS_DATA_DIR", help="Where results (and, on SQLite, the database) live."
    ),
]


def _open(data_dir: Path | None, *, check_secret: bool = False, **overrides: object):  # type: ignore[no-untyped-def]
    """The platform for one role. ``check_secret`` (the API): refuse, naming ``QUMULUS_SECRET_KEY``,
    where each process would otherwise make its own secret and reject the others' keys."""
    from qumulus.cli.common import checked_settings
    from qumulus.platform.distributed import open_platform

    return open_platform(checked_settings(data_dir, check_secret=check_secret, **overrides))


def _wait_for_signal() -> None:
    """Block until SIGTERM or SIGINT (Ctrl-C)."""
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    while not stop.wait(3600):
        pass


def api(
    host: Annotated[str, typer.Option(envvar="QUMULUS_HOST", help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(envvar="QUMULUS_PORT", help="TCP port.")] = 8000,
    data_dir: DataDir = None,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "warning",
) -> None:
    """Run the API only (no workers); run any number behind a load balancer."""
    from qumulus.api import server
    from qumulus.api.app import create_app
    from qumulus.platform.bootstrap import bootstrap_tenancy, write_bootstrap_key
    from qumulus.platform.distributed import enable_notifications, startup_lock

    sys.setswitchinterval(float(os.environ.get("QUMULUS_SWITCH_INTERVAL", "0.0005")))
    platform = _open(data_dir, check_secret=True, host=host, port=port)
    if platform.settings.bootstrap:
        with startup_lock(platform.settings.database_url), platform.db.write() as session:
            key = bootstrap_tenancy(session, secret=platform.secret)
        if key is not None:
            path = write_bootstrap_key(platform.data_dir, key)
            console.print(f"  First start: created the default organization; API key saved to {path}")
    if platform.db.is_postgres:
        enable_notifications(platform, work=False, done=True)
    else:
        console.print("[yellow]SQLite: workers elsewhere are not woken; use `qumulus serve`[/yellow]")
    console.print(f"[bold]Qumulus API[/bold] at http://{host}:{port}/v0.4 (no workers in this process)")
    app = create_app(platform, run_jobs=False)
    server.run(app, host=host, port=port, log_level=log_level)


def scheduler(
    data_dir: DataDir = None,
    interval: Annotated[float, typer.Option(help="Seconds between maintenance rounds.")] = 5.0,
) -> None:
    """Run periodic maintenance (reaping expired leases); several may run, one acts at a time."""
    from qumulus.runtime.maintenance import Scheduler

    platform = _open(data_dir, bootstrap=False)
    if platform.db.is_postgres:
        from qumulus.platform.distributed import enable_notifications

        enable_notifications(platform, work=False, done=False)  # to wake workers after a reap
    job = Scheduler(
        platform.db,
        interval=interval,
        on_queued=platform.waker.notify,
        max_attempts=platform.settings.max_attempts,  # QUMULUS_MAX_ATTEMPTS, as in `qumulus serve`
        outbox=platform.outbox,
    )
    job.start()
    # Schedulers also deliver the notification outbox (webhooks, e-mail) that API and worker
    # processes fill; several notifiers are safe (each claims a row before sending it).
    platform.start_notifier()
    console.print(f"[bold]Qumulus scheduler[/bold] running every {interval} s (pid {os.getpid()})")
    try:
        _wait_for_signal()
    finally:
        job.stop()
        platform.stop()


def worker(
    backend: Annotated[
        list[str] | None,
        typer.Option("--backend", help="Backend to serve (repeat for several; default: all)."),
    ] = None,
    slots: Annotated[int, typer.Option(help="Executions run at once (processes, or Ray tasks).")] = 1,
    executor: Annotated[str, typer.Option(help="local (process pool) or ray.")] = "local",
    ray_address: Annotated[
        str | None,
        typer.Option(envvar="QUMULUS_RAY_ADDRESS", help="Ray cluster to join (auto, ray://host:10001)."),
    ] = None,
    lease_seconds: Annotated[
        float, typer.Option(envvar="QUMULUS_LEASE_SECONDS", help="Lease length; heartbeats every third.")
    ] = 30.0,
    poll_seconds: Annotated[float, typer.Option(help="Polling fallback when no notification comes.")] = 1.0,
    data_dir: DataDir = None,
) -> None:
    """Claim and run executions (no HTTP); run any number, on any machines."""
    from qumulus.platform.distributed import release_leases, start_worker

    if executor not in ("local", "ray"):
        console.print(f"[red]--executor must be local or ray, not {executor!r}[/red]")
        raise typer.Exit(2)
    # A worker frozen (SIGSTOP, a VM pause) inside a transaction would hold its row locks forever;
    # PostgreSQL ends such a session once it has been idle in a transaction as long as a lease.
    timeout_ms = max(1000, int(lease_seconds * 1000))
    os.environ["PGOPTIONS"] = (
        os.environ.get("PGOPTIONS", "") + f" -c idle_in_transaction_session_timeout={timeout_ms}"
    ).strip()
    platform = _open(data_dir, bootstrap=False)
    start_worker(
        platform,
        backends=backend,
        slots=slots,
        executor=executor,
        ray_address=ray_address,
        lease_seconds=lease_seconds,
        poll_seconds=poll_seconds,
    )
    served = ", ".join(backend) if backend else "all backends"
    console.print(
        f"[bold]Qumulus worker[/bold] ready: {served}, {slots} slot(s), executor {executor}"
        f" (pid {os.getpid()})"
    )
    try:
        _wait_for_signal()
    finally:
        if platform.workers is not None:
            platform.workers.stop()
            release_leases(platform)
        platform.stop()


def register(app: typer.Typer) -> None:
    """Add the three commands to the ``qumulus`` CLI."""
    app.command()(api)
    app.command()(scheduler)
    app.command()(worker)
