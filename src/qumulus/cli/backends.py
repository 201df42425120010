"""Admin CLI for backends: ``qumulus backends status|set-status|maintenance|cancel-maintenance|recalibrate``.

``qumulus backends`` with no subcommand stays the user command that lists backends over the API.

Like :mod:`qumulus.cli.scheduling`: the platform administrator on the database of ``--data-dir``,
through the same services as the REST API (same rules, an audit event per change, ``via: cli``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer
from rich.table import Table

from qumulus.cli.common import DataDir, admin_platform, console
from qumulus.cli.user import Profile
from qumulus.cli.user import backends as list_backends

backends_app = typer.Typer(
    help="Backends: list them (no subcommand, any user), or administer status, maintenance, recalibration.",
    invoke_without_command=True,
)


@backends_app.callback()
def backends_main(ctx: typer.Context, profile: Profile = None) -> None:
    """``qumulus backends`` alone is the user's listing over the API (``cli/user.py``)."""
    if ctx.invoked_subcommand is None:
        list_backends(profile)


@backends_app.command("status")
def backends_status(data_dir: DataDir = None) -> None:
    """Every backend's status now (what GET /v0.4/status shows), with upcoming maintenance."""
    from qumulus.services.backends.status import status_page
    from qumulus.timeutil import iso

    table = Table("backend", "status", "message", "maintenance")
    with admin_platform(data_dir) as platform:
        for s in status_page(platform):
            windows = ", ".join(f"{iso(w.starts_at)} → {iso(w.ends_at)}" for w in s.upcoming)
            table.add_row(s.backend, s.current.status, s.current.message, windows)
    console.print(table)


@backends_app.command("set-status")
def backends_set_status(
    backend: str,
    status: Annotated[
        str,
        typer.Argument(help="operational, degraded, partial_outage, major_outage, maintenance or retired."),
    ],
    message: Annotated[str, typer.Option("--message", "-m", help="Shown on the status page.")] = "",
    data_dir: DataDir = None,
) -> None:
    """Set a backend's status now."""
    from qumulus.services.backends.status import set_status
    from qumulus.services.tenancy.access import CLI_ADMIN

    with admin_platform(data_dir) as platform:
        row = set_status(platform, CLI_ADMIN, backend, status, message)
    console.print(f"{row.name}: {row.status}" + (f" ({row.status_message})" if row.status_message else "."))


@backends_app.command("maintenance")
def backends_maintenance(
    backend: str,
    start: Annotated[datetime, typer.Option(help="Window start (ISO 8601, UTC if no offset).")],
    end: Annotated[datetime, typer.Option(help="Window end (ISO 8601, UTC if no offset).")],
    message: Annotated[str, typer.Option("--message", "-m", help="Shown on the status page.")] = "",
    data_dir: DataDir = None,
) -> None:
    """Schedule a maintenance window: no job starts on the backend inside it (it drains before)."""
    from qumulus.services.backends.status import schedule_maintenance
    from qumulus.services.tenancy.access import CLI_ADMIN

    with admin_platform(data_dir) as platform:
        row = schedule_maintenance(
            platform, CLI_ADMIN, backend, starts_at=start, ends_at=end, message=message
        )
    console.print(
        f"Maintenance {row.id} on {row.backend}: {row.starts_at.isoformat()} → {row.ends_at.isoformat()}."
    )


@backends_app.command("cancel-maintenance")
def backends_cancel_maintenance(backend: str, window_id: str, data_dir: DataDir = None) -> None:
    """Cancel a scheduled maintenance window."""
    from qumulus.services.backends.status import cancel_maintenance
    from qumulus.services.tenancy.access import CLI_ADMIN

    with admin_platform(data_dir) as platform:
        row = cancel_maintenance(platform, CLI_ADMIN, backend, window_id)
    console.print(f"Maintenance {row.id}: {row.status}.")


@backends_app.command("recalibrate")
def backends_recalibrate(
    backend: Annotated[list[str] | None, typer.Argument(help="QPUs to recalibrate (default: all).")] = None,
    data_dir: DataDir = None,
) -> None:
    """Write a new, drifted characterization snapshot for emulated QPUs (history is kept)."""
    from qumulus.services.backends.calibration import recalibrate
    from qumulus.services.tenancy.access import CLI_ADMIN

    with admin_platform(data_dir) as platform:
        made = recalibrate(platform, CLI_ADMIN, backends=backend or None)
    for row in made:
        fid = row.data["fidelity"]
        console.print(
            f"{row.backend}: {row.id} (1q {fid['1q']['median']}, 2q {fid['2q']['median']}, "
            f"spam {fid['spam']['median']}, T1 {row.data['timing']['t1']} s)"
        )


@backends_app.command("declare")
def backends_declare(
    file: Annotated[str, typer.Option("--file", "-f", help="A TOML file of [[backend]] declarations.")],
    data_dir: DataDir = None,
) -> None:
    """Declare (or change) driver-served backends from a TOML file (docs/drivers.md); running
    workers pick them up within seconds. The credential stays a reference (env or file)."""
    from qumulus.drivers import ConfigError
    from qumulus.drivers.config import load_backends
    from qumulus.services.backends.drivers import declare
    from qumulus.services.tenancy.access import CLI_ADMIN

    try:
        decls = load_backends(file)
    except ConfigError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
    with admin_platform(data_dir) as platform:
        for decl in decls:
            declare(platform, CLI_ADMIN, decl.model_dump(mode="json"))
            console.print(
                f"{decl.name}: served by the {decl.driver} driver (at most {decl.max_outstanding} at once)"
            )


@backends_app.command("declared")
def backends_declared(data_dir: DataDir = None) -> None:
    """The driver-served backends: driver, target, limit, billing, credential place, status."""
    from qumulus.services.backends.drivers import describe, list_declared
    from qumulus.services.tenancy.access import CLI_ADMIN

    table = Table("backend", "driver", "options", "outstanding", "billing", "credential", "source", "status")
    with admin_platform(data_dir) as platform:
        for row in list_declared(platform, CLI_ADMIN):
            d = describe(*row)
            options = ", ".join(f"{k}={v}" for k, v in d["options"].items())
            table.add_row(
                d["name"],
                d["driver"],
                options,
                str(d["max_outstanding"]),
                d["billing"],
                d["credential"] or "-",
                d["source"],
                d["status"],
            )
    console.print(table)


@backends_app.command("retire")
def backends_retire(backend: str, data_dir: DataDir = None) -> None:
    """Retire a driver-served backend: new jobs are refused, queued ones still drain."""
    from qumulus.services.backends.drivers import retire
    from qumulus.services.tenancy.access import CLI_ADMIN

    with admin_platform(data_dir) as platform:
        row = retire(platform, CLI_ADMIN, backend)
    console.print(f"{row.name}: retired.")
