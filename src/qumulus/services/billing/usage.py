"""Usage and cost reports: the usage ledger aggregated per project, organization, backend, user and
period, within what the caller may see.

Scope: a caller with ``ORG_USAGE_READ`` (organization owner, platform administrator) sees the whole
organization of its key; one with ``USAGE_READ`` (any project role) sees its own project. The
database groups by the chosen dimensions and by UTC day; days are folded into weeks or months here
(:func:`qumulus.accounting.periods.period_start`), so the work grows with days × groups, not jobs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from qumulus.accounting.budget import money
from qumulus.accounting.periods import period_start
from qumulus.auth.permissions import Action, allowed
from qumulus.auth.principal import Principal
from qumulus.errors import InvalidRequest, NotFound
from qumulus.services.context import Context
from qumulus.services.tenancy import access
from qumulus.store.models import Organization, Project, UsageLedger, User

DIMENSIONS = ("project", "organization", "backend", "user", "period")
PERIODS = ("day", "week", "month")
_COLUMNS = {
    "project": UsageLedger.project_id,
    "organization": UsageLedger.organization_id,
    "backend": UsageLedger.backend,
    "user": UsageLedger.user_id,
}


@dataclass
class UsageQuery:
    group_by: Sequence[str] = ("project",)
    period: str = "month"
    start: datetime | None = None
    end: datetime | None = None
    project_id: str | None = None
    backend: str | None = None


@dataclass
class UsageRow:
    keys: dict[str, str | None]
    jobs: int = 0
    usage_seconds: float = 0.0
    cost: Decimal = field(default_factory=lambda: Decimal(0))


@dataclass
class UsageReport:
    """What :func:`usage_report` found; ``qumulus.wire.billing.usage`` / ``usage_csv`` render it."""

    query: UsageQuery
    rows: list[UsageRow]
    labels: dict[str, dict[str, str]]

    @property
    def total(self) -> UsageRow:
        total = UsageRow(keys={})
        for row in self.rows:
            total.jobs += row.jobs
            total.usage_seconds += row.usage_seconds
            total.cost += row.cost
        return total


def check_query(query: UsageQuery) -> UsageQuery:
    """400 naming the parameter for anything unknown (pure)."""
    if not query.group_by:
        raise InvalidRequest("group_by: name at least one of " + ", ".join(DIMENSIONS), field="group_by")
    for dim in query.group_by:
        if dim not in DIMENSIONS:
            raise InvalidRequest(
                f"group_by: unknown {dim!r}; one of {', '.join(DIMENSIONS)}", field="group_by"
            )
    if query.period not in PERIODS:
        raise InvalidRequest(f"period: one of {', '.join(PERIODS)}", field="period")
    if query.start is not None and query.end is not None and query.end <= query.start:
        raise InvalidRequest("to: must be after from", field="to")
    return query


def _day(session: Session) -> Any:
    """The UTC day of ``recorded_at`` as ``YYYY-MM-DD`` text, in the database's own dialect."""
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", UsageLedger.recorded_at), "YYYY-MM-DD")
    return func.substr(UsageLedger.recorded_at, 1, 10)  # SQLite stores UTC as 'YYYY-MM-DD HH:MM:SS'


def aggregate(
    session: Session, query: UsageQuery, *, organization_id: str, project_id: str | None
) -> UsageReport:
    """The report over one organization (and one project when ``project_id``); no permission check."""
    check_query(query)
    dims = [d for d in query.group_by if d != "period"]
    columns = [_COLUMNS[d].label(d) for d in dims]
    if "period" in query.group_by:
        columns.append(_day(session).label("day"))
    stmt = select(
        *columns,
        func.count().label("jobs"),
        func.sum(UsageLedger.usage_seconds).label("seconds"),
        func.sum(UsageLedger.cost).label("cost"),
    ).where(UsageLedger.organization_id == organization_id)
    if project_id is not None:
        stmt = stmt.where(UsageLedger.project_id == project_id)
    if query.backend is not None:
        stmt = stmt.where(UsageLedger.backend == query.backend)
    if query.start is not None:
        stmt = stmt.where(UsageLedger.recorded_at >= query.start)
    if query.end is not None:
        stmt = stmt.where(UsageLedger.recorded_at < query.end)
    if columns:
        stmt = stmt.group_by(*columns)
    merged: dict[tuple[Any, ...], UsageRow] = {}
    for record in session.execute(stmt):
        keys: dict[str, str | None] = {d: getattr(record, d) for d in dims}
        if "period" in query.group_by:
            day = datetime.fromisoformat(record.day).replace(tzinfo=timezone.utc)
            keys["period"] = period_start(query.period, day).date().isoformat()
        ordered = {d: keys[d] for d in query.group_by}
        row = merged.setdefault(tuple(ordered.values()), UsageRow(keys=ordered))
        row.jobs += int(record.jobs or 0)
        row.usage_seconds += float(record.seconds or 0.0)
        row.cost += money(record.cost)
    rows = sorted(merged.values(), key=lambda r: tuple("" if v is None else v for v in r.keys.values()))
    return UsageReport(query=query, rows=rows, labels=_labels(session, rows))


def _labels(session: Session, rows: list[UsageRow]) -> dict[str, dict[str, str]]:
    """Readable names for ids: project and organization names, user emails."""
    wanted: dict[str, set[str]] = {"project": set(), "organization": set(), "user": set()}
    for row in rows:
        for dim in wanted:
            if row.keys.get(dim):
                wanted[dim].add(row.keys[dim])  # type: ignore[arg-type]
    labels: dict[str, dict[str, str]] = {}
    for dim, model, column in (
        ("project", Project, Project.name),
        ("organization", Organization, Organization.name),
        ("user", User, User.email),
    ):
        if wanted[dim]:
            labels[dim] = dict(
                session.execute(select(model.id, column).where(model.id.in_(wanted[dim]))).all()
            )
    return labels


def usage_report(platform: Context, principal: Principal, query: UsageQuery) -> UsageReport:
    """The caller's report: the whole organization of its key when it may read that (optionally one
    ``project_id`` of it), else one project it belongs to (its key's, or ``project_id``).

    Roles are read fresh (``services.access``), so a demoted owner loses the organization view at once.
    """
    check_query(query)
    with platform.db.read() as session:
        org = access.organization(session, principal, principal.organization_id)
        if allowed(org.actor, Action.ORG_USAGE_READ):
            project_id = query.project_id
            if project_id is not None:
                project = session.get(Project, project_id) if len(project_id) <= 64 else None
                if project is None or project.organization_id != principal.organization_id:
                    raise NotFound(f"project_id: project {project_id} not found", field="project_id")
            return aggregate(session, query, organization_id=principal.organization_id, project_id=project_id)
        wanted = query.project_id or principal.project_id
        try:
            target = access.project(session, principal, wanted)
        except NotFound:
            raise NotFound(f"project_id: project {wanted} not found", field="project_id") from None
        if target.project.organization_id != principal.organization_id:
            raise NotFound(f"project_id: project {wanted} not found", field="project_id")
        access.require(target.actor, Action.USAGE_READ)
        return aggregate(
            session, query, organization_id=principal.organization_id, project_id=target.project.id
        )
