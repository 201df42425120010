"""Project budgets: create, read, change, delete (the hold/spend arithmetic is in charging.py).

A budget covers one period ``[period_start, period_end)``: a calendar ``day``, ``week`` or ``month``
(UTC), or ``custom`` dates. A *recurring* calendar budget starts its next period with the same limit
the first time a job is submitted after it ends (``charging.budget_in_force``). Budgets of a project
never overlap, so at most one is in force. Who: organization owners and platform administrators
manage budgets (``Action.BUDGET_MANAGE``); anyone in the project reads them (``BUDGET_READ``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from qumulus.accounting.budget import money
from qumulus.accounting.periods import BUDGET_PERIODS, overlaps, period_bounds
from qumulus.auth.permissions import Action
from qumulus.auth.principal import Principal
from qumulus.errors import Conflict, InvalidRequest, NotFound
from qumulus.services.billing.charging import changing_admission
from qumulus.services.context import Context
from qumulus.services.tenancy import access, audit
from qumulus.store.models import Budget, Project
from qumulus.timeutil import iso, utcnow
from qumulus.wire import billing as billing_json


@dataclass(frozen=True)
class BudgetSpec:
    limit: Decimal
    period: str = "month"
    period_start: datetime | None = None
    period_end: datetime | None = None
    recurring: bool | None = None
    currency: str = "USD"


def _bounds(spec: BudgetSpec, now: datetime) -> tuple[datetime, datetime]:
    if spec.period not in BUDGET_PERIODS:
        raise InvalidRequest(f"period: one of {', '.join(BUDGET_PERIODS)}", field="period")
    if spec.period == "custom":
        if spec.period_start is None or spec.period_end is None:
            field = "period_start" if spec.period_start is None else "period_end"
            raise InvalidRequest(f"{field}: required for a custom period", field=field)
        if spec.period_end <= spec.period_start:
            raise InvalidRequest("period_end: must be after period_start", field="period_end")
        return spec.period_start, spec.period_end
    if spec.period_end is not None:
        raise InvalidRequest(
            f"period_end: a {spec.period} budget ends with its {spec.period}; use period 'custom' for dates",
            field="period_end",
        )
    return period_bounds(spec.period, spec.period_start or now)


def add_budget(
    session: Session, project: Project, spec: BudgetSpec, principal: Principal | None = None
) -> Budget:
    """Insert a budget and its audit event (no permission check: the CLI uses it directly)."""
    if spec.limit < 0:
        raise InvalidRequest("limit: must not be negative", field="limit")
    start, end = _bounds(spec, utcnow())
    recurring = spec.period != "custom" if spec.recurring is None else spec.recurring
    if recurring and spec.period == "custom":
        raise InvalidRequest("recurring: only day, week and month budgets recur", field="recurring")
    for other in session.scalars(select(Budget).where(Budget.project_id == project.id)):
        if overlaps(start, end, other.period_start, other.period_end):
            raise Conflict(
                f"period_start: the project already has budget {other.id} for "
                f"{iso(other.period_start)} to {iso(other.period_end)}; change or delete it",
                field="period_start",
            )
    budget = Budget(
        project_id=project.id,
        period_start=start,
        period_end=end,
        limit_amount=money(spec.limit),
        spent=Decimal(0),
        held=Decimal(0),
        currency=spec.currency,
        period=spec.period,
        recurring=recurring,
    )
    session.add(budget)
    session.flush()
    audit.record(
        session,
        principal or access.CLI_ADMIN,
        "budget.create",
        target_type="budget",
        target_id=budget.id,
        organization_id=project.organization_id,
        project_id=project.id,
        details=billing_json.budget(budget),
    )
    return budget


def list_budgets(platform: Context, principal: Principal, project_id: str) -> list[Budget]:
    with platform.db.read() as session:
        target = access.project(session, principal, project_id)
        access.require(target.actor, Action.BUDGET_READ)
        return list(
            session.scalars(
                select(Budget).where(Budget.project_id == project_id).order_by(Budget.period_start.desc())
            )
        )


def create_budget(platform: Context, principal: Principal, project_id: str, spec: BudgetSpec) -> Budget:
    with changing_admission(platform) as session:
        target = access.project(session, principal, project_id)
        access.require(target.actor, Action.BUDGET_MANAGE)
        project = target.project
        return add_budget(session, project, spec, principal)


def _owned(session: Session, project_id: str, budget_id: str) -> Budget:
    budget = session.get(Budget, budget_id) if len(budget_id) <= 64 else None
    if budget is None or budget.project_id != project_id:
        raise NotFound(f"Budget {budget_id} not found.")
    return budget


def get_budget(platform: Context, principal: Principal, project_id: str, budget_id: str) -> Budget:
    with platform.db.read() as session:
        target = access.project(session, principal, project_id)
        access.require(target.actor, Action.BUDGET_READ)
        return _owned(session, project_id, budget_id)


def update_budget(
    platform: Context, principal: Principal, project_id: str, budget_id: str, changes: dict[str, Any]
) -> Budget:
    """Change the limit or whether it recurs. Lowering the limit below spent + held refuses new jobs
    until jobs finish; it never cancels any."""
    with changing_admission(platform) as session:
        target = access.project(session, principal, project_id)
        access.require(target.actor, Action.BUDGET_MANAGE)
        project = target.project
        budget = _owned(session, project_id, budget_id)
        before = billing_json.budget(budget)
        if changes.get("limit") is not None:
            if changes["limit"] < 0:
                raise InvalidRequest("limit: must not be negative", field="limit")
            # one UPDATE, not read-modify-write: spent and held move concurrently
            session.execute(
                update(Budget).where(Budget.id == budget.id).values(limit_amount=money(changes["limit"]))
            )
        if changes.get("recurring") is not None:
            if changes["recurring"] and budget.period == "custom":
                raise InvalidRequest("recurring: only day, week and month budgets recur", field="recurring")
            session.execute(
                update(Budget).where(Budget.id == budget.id).values(recurring=changes["recurring"])
            )
        session.refresh(budget)
        audit.record(
            session,
            principal,
            "budget.update",
            target_type="budget",
            target_id=budget.id,
            organization_id=project.organization_id,
            project_id=project.id,
            details={"before": before, "after": billing_json.budget(budget)},
        )
        return budget


def delete_budget(platform: Context, principal: Principal, project_id: str, budget_id: str) -> None:
    """Delete a budget: the project is no longer limited. Deleting a recurring budget ends its series
    (earlier periods stop recurring too, so none of them starts a new period). Jobs holding against it
    finish normally; their holds simply have nowhere to go."""
    with changing_admission(platform) as session:
        target = access.project(session, principal, project_id)
        access.require(target.actor, Action.BUDGET_MANAGE)
        project = target.project
        budget = _owned(session, project_id, budget_id)
        audit.record(
            session,
            principal,
            "budget.delete",
            target_type="budget",
            target_id=budget.id,
            organization_id=project.organization_id,
            project_id=project.id,
            details=billing_json.budget(budget),
        )
        session.execute(
            update(Budget)
            .where(Budget.project_id == project_id, Budget.period_start < budget.period_start)
            .values(recurring=False)
        )
        session.delete(budget)
