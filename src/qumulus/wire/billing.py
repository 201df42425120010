"""JSON shapes of contracts, allocations, budgets and usage reports (and the usage report's CSV).

The API, the console, the CLI and the audit trail's details all render billing through here, so a
budget reads the same in a REST answer, an audit event and ``qumulus budget list``. Reports and
allocations are built in ``services.billing`` (above this package), so they are typed here by the
attributes read (:class:`UsageReportLike`, :class:`AllocationLike`), not imported.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from qumulus.accounting.budget import BudgetState, money
from qumulus.store.models import Budget, Contract
from qumulus.timeutil import iso, utcnow

_LABEL = {"project": "project_name", "organization": "organization_name", "user": "user_email"}


class UsageRowLike(Protocol):
    @property
    def keys(self) -> Mapping[str, str | None]: ...
    @property
    def jobs(self) -> int: ...
    @property
    def usage_seconds(self) -> float: ...
    @property
    def cost(self) -> Decimal: ...


class UsageQueryLike(Protocol):
    @property
    def group_by(self) -> Sequence[str]: ...
    @property
    def period(self) -> str: ...
    @property
    def start(self) -> datetime | None: ...
    @property
    def end(self) -> datetime | None: ...


class UsageReportLike(Protocol):
    @property
    def query(self) -> UsageQueryLike: ...
    @property
    def labels(self) -> Mapping[str, Mapping[str, str]]: ...
    @property
    def rows(self) -> Sequence[UsageRowLike]: ...
    @property
    def total(self) -> UsageRowLike: ...


class AllocationLike(Protocol):
    @property
    def contract(self) -> Contract: ...
    @property
    def period_start(self) -> datetime: ...
    @property
    def period_end(self) -> datetime: ...
    @property
    def used_seconds(self) -> float: ...
    @property
    def left_seconds(self) -> float | None: ...
    @property
    def in_force(self) -> bool: ...


def contract(row: Contract) -> dict[str, Any]:
    """A contract as plain JSON values (for the API, the CLI and audit details)."""
    return {
        "id": row.id,
        "organization_id": row.organization_id,
        "backend": row.backend,
        "rate_per_second": str(Decimal(str(row.rate_per_second)).quantize(Decimal("0.000001"))),
        "currency": row.currency,
        "allocation_seconds": row.allocation_seconds,
        "period": row.period,
        "share": row.share,
        "starts_at": iso(row.starts_at),
        "ends_at": iso(row.ends_at),
    }


def allocation(item: AllocationLike) -> dict[str, Any]:
    """A contract's allocation in its current period: used and left seconds."""
    c = item.contract
    return {
        "contract_id": c.id,
        "backend": c.backend,
        "period": c.period,
        "period_start": iso(item.period_start),
        "period_end": iso(item.period_end),
        "allocation_seconds": c.allocation_seconds,
        "used_seconds": item.used_seconds,
        "left_seconds": None if item.left_seconds is None else round(item.left_seconds, 6),
        "share": c.share,
        "in_force": item.in_force,
    }


def budget(row: Budget, now: datetime | None = None) -> dict[str, Any]:
    """A budget with its spent, held and remaining money; ``in_force`` at ``now`` (default: now)."""
    now = now or utcnow()
    state = BudgetState(money(row.limit_amount), money(row.spent), money(row.held))
    return {
        "id": row.id,
        "project_id": row.project_id,
        "period": row.period,
        "recurring": row.recurring,
        "period_start": iso(row.period_start),
        "period_end": iso(row.period_end),
        "limit": str(state.limit),
        "spent": str(state.spent),
        "held": str(max(Decimal(0), state.held).quantize(Decimal("0.000001"))),
        "remaining": str(state.remaining),
        "currency": row.currency,
        "in_force": row.period_start <= now < row.period_end,
    }


def usage(report: UsageReportLike) -> dict[str, Any]:
    """A usage report: its grouping, its window, one row per group and the total."""
    query = report.query
    return {
        "group_by": list(query.group_by),
        "period": query.period if "period" in query.group_by else None,
        "from": iso(query.start),
        "to": iso(query.end),
        "rows": [_usage_row(query.group_by, report.labels, r) for r in report.rows],
        "total": _numbers(report.total),
    }


def usage_csv(report: UsageReportLike) -> str:
    """The report's rows as CSV, the columns of :func:`usage`'s rows (a header even when empty)."""
    group_by, labels = report.query.group_by, report.labels
    rows = [_usage_row(group_by, labels, r) for r in report.rows]
    header = list(rows[0]) if rows else list(_usage_columns(group_by))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=header, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def _usage_row(
    group_by: Sequence[str], labels: Mapping[str, Mapping[str, str]], row: UsageRowLike
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for dim in group_by:
        value = row.keys[dim]
        if dim == "period":
            out["period_start"] = value
        elif dim == "backend":
            out["backend"] = value
        else:
            out[f"{dim}_id"] = value
            out[_LABEL[dim]] = labels.get(dim, {}).get(value or "", None)
    out.update(_numbers(row))
    return out


def _usage_columns(group_by: Sequence[str]) -> list[str]:
    columns: list[str] = []
    for dim in group_by:
        if dim in ("period", "backend"):
            columns.append("period_start" if dim == "period" else "backend")
        else:
            columns += [f"{dim}_id", _LABEL[dim]]
    return list(dict.fromkeys([*columns, "jobs", "usage_seconds", "cost"]))


def _numbers(row: UsageRowLike) -> dict[str, Any]:
    return {"jobs": row.jobs, "usage_seconds": round(row.usage_seconds, 6), "cost": str(money(row.cost))}
