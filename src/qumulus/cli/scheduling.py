"""Admin CLI for scheduling: ``qumulus reservations ...`` and ``qumulus priority set``.

Like :mod:`qumulus.cli.tenancy`: the platform administrator on the database of ``--data-dir``,
through the same services as the REST API (so the same rules, and an audit event per change).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer
from rich.table import Table

from qumulus.cli.common import DataDir, admin_platform, console

reservations_app = typer.Typer(
    help="Reservations: one organization alone on a backend.", no_args_is_help=True
)
priority_app = typer.Typer(help="Priority tiers (expedite a job ahead of fair share).", no_args_is_help=True)

OrgRef = Annotated[str, typer.Option("--org", help="Organization id or slug.")]


def _org(platform: object, ref: str) -> str:
    from qumulus.cli.tenancy import _org_id

    with platform.db.read() as session:  # type: ignore[attr-defined]
        return _org_id(session, ref)


@reservations_app.command("list")
def reservations_list(org: OrgRef, data_dir: DataDir = None) -> None:
    """An organization's reservations that have not ended."""
    from qumulus.services.backends.reservations import list_reservations
    from qumulus.services.tenancy.access import CLI_ADMIN
    from qumulus.timeutil import iso

    table = Table("id", "backend", "starts", "ends", "status")
    with admin_platform(data_dir) as platform:
        for r in list_reservations(platform, CLI_ADMIN, _org(platform, org)):
            table.add_row(r.id, r.backend, iso(r.starts_at), iso(r.ends_at), r.status)
    console.print(table)


@reservations_app.command("create")
def reservations_create(
    org: OrgRef,
    backend: Annotated[str, typer.Option(help="Backend name, e.g. qpu.aria-1.")],
    start: Annotated[datetime, typer.Option(help="Window start (ISO 8601, UTC if no offset).")],
    end: Annotated[datetime, typer.Option(help="Window end (ISO 8601, UTC if no offset).")],
    data_dir: DataDir = None,
) -> None:
    """Create an approved window (the backend drains before it)."""
    from qumulus.services.backends.reservations import create_reservation
    from qumulus.services.tenancy.access import CLI_ADMIN

    with admin_platform(data_dir) as platform:
        row = create_reservation(
            platform, CLI_ADMIN, _org(platform, org), backend=backend, starts_at=start, ends_at=end
        )
    console.print(f"Reservation {row.id} on {row.backend}: {row.status}.")


@reservations_app.command("approve")
def reservations_approve(reservation_id: str, data_dir: DataDir = None) -> None:
    """Approve an owner's request."""
    from qumulus.services.backends.reservations import approve_reservation
    from qumulus.services.tenancy.access import CLI_ADMIN

    with admin_platform(data_dir) as platform:
        row = approve_reservation(platform, CLI_ADMIN, reservation_id)
    console.print(f"Reservation {row.id}: {row.status}.")


@reservations_app.command("cancel")
def reservations_cancel(reservation_id: str, data_dir: DataDir = None) -> None:
    """Cancel a requested or approved window."""
    from qumulus.services.backends.reservations import cancel_reservation
    from qumulus.services.tenancy.access import CLI_ADMIN

    with admin_platform(data_dir) as platform:
        row = cancel_reservation(platform, CLI_ADMIN, reservation_id)
    console.print(f"Reservation {row.id}: {row.status}.")


@priority_app.command("set")
def priority_set(
    job_id: str,
    tier: Annotated[int, typer.Argument(help="0 (normal) to 9; higher starts first.")],
    data_dir: DataDir = None,
) -> None:
    """Set a job's priority tier (its queued executions)."""
    from qumulus.services.jobs.priority import set_tier
    from qumulus.services.tenancy.access import CLI_ADMIN

    with admin_platform(data_dir) as platform:
        changed = set_tier(platform, CLI_ADMIN, job_id, tier)
    console.print(f"Job {job_id}: tier {tier} on {changed} queued execution(s).")
