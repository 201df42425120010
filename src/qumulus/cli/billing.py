"""``qumulus contracts``, ``qumulus budgets``, ``qumulus usage``: billing administration on the database.

These work directly on the database of ``--data-dir`` / ``QUMULUS_DATABASE_URL`` as the operator
(no API key), through the same service functions the REST API uses, and write the same audit events.
Server modules are imported inside the commands so the client-only install stays light.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from qumulus.cli.common import open_platform

contracts_app = typer.Typer(
    help="Contracts: rates and allocations per organization and backend.", no_args_is_help=True
)
budgets_app = typer.Typer(help="Project budgets.", no_args_is_help=True)
usage_app = typer.Typer(help="Usage and cost reports.", no_args_is_help=True)
console = Console(soft_wrap=True)

DataDir = Annotated[
    Path | None,
    typer.Option(
        "--data-dir", envvar="QUMULUS_DATA_DIR", help="Where the database, results and secrets live."
    ),
]
OrgOption = Annotated[
    str | None, typer.Option("--org", help="Organization id or slug (default: the first one).")
]
ProjectOption = Annotated[
    str | None, typer.Option("--project", help="Project id or name (default: the first one).")
]


def _fail(message: str) -> None:
    console.print(f"[red]{message}[/red]")
    raise typer.Exit(1)


def _amount(name: str, raw: str) -> Decimal:
    try:
        value = Decimal(raw)
    except InvalidOperation:
        _fail(f"{name}: not a number: {raw!r}")
    if not value.is_finite():
        _fail(f"{name}: not a number: {raw!r}")
    return value


def _when(name: str, raw: str | None) -> Any:
    from qumulus.errors import InvalidRequest
    from qumulus.values import parse_time

    if raw is None:
        return None
    try:
        return parse_time(raw, name)
    except InvalidRequest as exc:
        _fail(exc.message)


def _org(session: Any, org: str | None) -> Any:
    from sqlalchemy import or_, select

    from qumulus.store.models import Organization

    stmt = select(Organization).order_by(Organization.created_at)
    if org:
        stmt = stmt.where(or_(Organization.id == org, Organization.slug == org))
    row = session.scalars(stmt).first()
    if row is None:
        _fail(f"No organization {org or ''!r}. Start the server once to create the default one.")
    return row


def _project(session: Any, project: str | None) -> Any:
    from sqlalchemy import or_, select

    from qumulus.store.models import Project

    stmt = select(Project).order_by(Project.created_at)
    if project:
        stmt = stmt.where(or_(Project.id == project, Project.name == project))
    row = session.scalars(stmt).first()
    if row is None:
        _fail(f"No project {project or ''!r}. Start the server once to create the default one.")
    return row


def _run(fn: Any) -> Any:
    """Run a service call; its 4xx errors become a red message and exit status 1."""
    from qumulus.errors import QumulusError

    try:
        return fn()
    except QumulusError as exc:
        _fail(exc.message)


@contracts_app.command("create")
def contracts_create(
    backend: Annotated[str, typer.Option(help="Backend name, class pattern (qpu.*) or *.")],
    rate: Annotated[
        str | None,
        typer.Option(help="Price per second of usage (default: a driver-served backend's declared terms)."),
    ] = None,
    org: OrgOption = None,
    allocation: Annotated[
        float | None, typer.Option(help="Seconds granted per period (default: unlimited).")
    ] = None,
    period: Annotated[
        str | None, typer.Option(help="Allocation period: month, quarter, year or none.")
    ] = None,
    share: Annotated[float, typer.Option(help="Fair-share weight.")] = 1.0,
    currency: Annotated[str | None, typer.Option(help="Currency code.")] = None,
    starts: Annotated[str | None, typer.Option(help="Start (ISO 8601; default now).")] = None,
    ends: Annotated[str | None, typer.Option(help="End (ISO 8601; default open-ended).")] = None,
    data_dir: DataDir = None,
) -> None:
    """Create a contract for an organization."""
    from qumulus.services.billing.contracts import add_contract
    from qumulus.wire.billing import contract as describe

    values: dict[str, Any] = {"backend": backend, "share": share}
    # Unset options leave the declared terms of a driver-served backend in force (docs/drivers.md).
    if rate is not None:
        values["rate_per_second"] = _amount("rate", rate)
    if allocation is not None:
        values["allocation_seconds"] = allocation
    if period is not None:
        values["period"] = period
    if currency is not None:
        values["currency"] = currency
    if starts:
        values["starts_at"] = _when("starts", starts)
    if ends:
        values["ends_at"] = _when("ends", ends)
    platform = open_platform(data_dir)
    with platform.db.write() as session:
        organization = _org(session, org)
        contract = _run(lambda: add_contract(session, organization.id, values))
        shown = describe(contract)
    platform.db.dispose()
    console.print(
        f"Created contract {shown['id']} for '{organization.name}': "
        f"{shown['backend']} at {shown['rate_per_second']} {shown['currency']}/s"
    )


@contracts_app.command("list")
def contracts_list(org: OrgOption = None, data_dir: DataDir = None) -> None:
    """List an organization's contracts with their current allocation: used and left."""
    from rich.table import Table

    from qumulus.services.billing.contracts import allocation_report
    from qumulus.timeutil import iso

    platform = open_platform(data_dir)
    table = Table("id", "backend", "rate/s", "allocation s", "period", "used s", "left s", "starts", "ends")
    with platform.db.read() as session:
        organization = _org(session, org)
        for item in allocation_report(session, organization.id):
            c = item.contract
            table.add_row(
                c.id,
                c.backend,
                f"{Decimal(str(c.rate_per_second)):.6f} {c.currency}",
                "unlimited" if c.allocation_seconds is None else f"{c.allocation_seconds:g}",
                c.period,
                f"{item.used_seconds:.3f}",
                "" if item.left_seconds is None else f"{item.left_seconds:.3f}",
                iso(c.starts_at) or "",
                iso(c.ends_at) or "",
            )
    platform.db.dispose()
    console.print(f"Contracts of '{organization.name}' ({organization.id})")
    console.print(table)


@budgets_app.command("set")
def budgets_set(
    limit: Annotated[str, typer.Option(help="Spending limit for the period.")],
    project: ProjectOption = None,
    period: Annotated[str, typer.Option(help="day, week, month or custom.")] = "month",
    start: Annotated[
        str | None, typer.Option(help="Period start (custom), or a day inside the period.")
    ] = None,
    end: Annotated[str | None, typer.Option(help="Period end (custom only).")] = None,
    recurring: Annotated[
        bool | None,
        typer.Option(
            "--recurring/--no-recurring",
            help="Start the next period automatically (default for day/week/month).",
        ),
    ] = None,
    currency: Annotated[str | None, typer.Option(help="Currency code.")] = None,
    data_dir: DataDir = None,
) -> None:
    """Set a project's budget: change the limit of the budget for that period, or create one."""
    from sqlalchemy import select

    from qumulus.accounting.budget import money
    from qumulus.services.billing.budgets import BudgetSpec, add_budget
    from qumulus.services.tenancy import access, audit
    from qumulus.store.models import Budget
    from qumulus.timeutil import utcnow
    from qumulus.wire.billing import budget as describe

    amount = _amount("limit", limit)
    spec = BudgetSpec(amount, period, _when("start", start), _when("end", end), recurring, currency)
    platform = open_platform(data_dir)
    with platform.db.write() as session:
        row = _project(session, project)
        at = spec.period_start or utcnow()
        existing = None
        if period != "custom":
            existing = session.scalars(
                select(Budget).where(
                    Budget.project_id == row.id, Budget.period_start <= at, Budget.period_end > at
                )
            ).first()
        if existing is not None and existing.period == period:
            before = describe(existing)
            existing.limit_amount = money(amount)
            if recurring is not None:
                existing.recurring = recurring
            session.flush()
            audit.record(
                session, access.CLI_ADMIN, "budget.update", target_type="budget", target_id=existing.id,
                organization_id=row.organization_id, project_id=row.id,
                details={"before": before, "after": describe(existing)},
            )  # fmt: skip
            budget, verb = existing, "Updated"
        else:
            budget, verb = _run(lambda: add_budget(session, row, spec)), "Created"
        shown = describe(budget)
    platform.db.dispose()
    console.print(
        f"{verb} budget {shown['id']} for project '{row.name}': {shown['limit']} {shown['currency']} "
        f"from {shown['period_start']} to {shown['period_end']}"
        f"{' (recurring)' if shown['recurring'] else ''}; spent {shown['spent']}, held {shown['held']}"
    )


@budgets_app.command("list")
def budgets_list(project: ProjectOption = None, data_dir: DataDir = None) -> None:
    """List a project's budgets, newest period first."""
    from rich.table import Table
    from sqlalchemy import select

    from qumulus.store.models import Budget
    from qumulus.wire.billing import budget as describe

    platform = open_platform(data_dir)
    table = Table("id", "period", "from", "to", "limit", "spent", "held", "remaining", "in force")
    with platform.db.read() as session:
        row = _project(session, project)
        for budget in session.scalars(
            select(Budget).where(Budget.project_id == row.id).order_by(Budget.period_start.desc())
        ):
            b = describe(budget)
            table.add_row(
                b["id"], b["period"] + (" ↻" if b["recurring"] else ""), b["period_start"], b["period_end"],
                f"{b['limit']} {b['currency']}", b["spent"], b["held"], b["remaining"],
                "yes" if b["in_force"] else "",
            )  # fmt: skip
    platform.db.dispose()
    console.print(f"Budgets of project '{row.name}' ({row.id})")
    console.print(table)


@usage_app.command("report")
def usage_report(
    org: OrgOption = None,
    group_by: Annotated[
        str, typer.Option("--group-by", help="Comma-separated: project, organization, backend, user, period.")
    ] = "project",
    period: Annotated[
        str, typer.Option(help="Period buckets when grouping by period: day, week, month.")
    ] = "month",
    since: Annotated[str | None, typer.Option("--from", help="From (ISO 8601, inclusive).")] = None,
    until: Annotated[str | None, typer.Option("--to", help="To (ISO 8601, exclusive).")] = None,
    project: Annotated[str | None, typer.Option(help="Only this project (id).")] = None,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print CSV instead of a table.")] = False,
    data_dir: DataDir = None,
) -> None:
    """Usage and cost from the ledger, aggregated."""
    from rich.table import Table

    from qumulus.services.billing.usage import UsageQuery, aggregate
    from qumulus.wire.billing import usage as usage_json
    from qumulus.wire.billing import usage_csv

    query = UsageQuery(
        group_by=[g.strip() for g in group_by.split(",") if g.strip()],
        period=period,
        start=_when("from", since),
        end=_when("to", until),
    )
    platform = open_platform(data_dir)
    with platform.db.read() as session:
        organization = _org(session, org)
        report = _run(lambda: aggregate(session, query, organization_id=organization.id, project_id=project))
    platform.db.dispose()
    if as_csv:
        typer.echo(usage_csv(report), nl=False)
        return
    data = usage_json(report)
    columns = list(data["rows"][0]) if data["rows"] else ["jobs", "usage_seconds", "cost"]
    table = Table(*columns)
    for r in data["rows"]:
        table.add_row(*("" if r[c] is None else str(r[c]) for c in columns))
    total = data["total"]
    console.print(f"Usage of '{organization.name}'")
    console.print(table)
    console.print(f"Total: {total['jobs']} jobs, {total['usage_seconds']:.3f} s, {total['cost']}")
