"""Usage and money as charts: cost per day (stacked by backend or by project), per-user and
per-backend breakdowns, budget and allocation meters — from the same usage report the REST API
and the CSV export give."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from qumulus.auth.principal import Principal
from qumulus.console import charts, fmt
from qumulus.errors import QumulusError
from qumulus.services.backends import catalog
from qumulus.services.billing import budgets, contracts, usage
from qumulus.timeutil import utcnow
from qumulus.wire import billing as wire_billing

DAYS = 30


def daily(
    platform: Any, principal: Principal, *, by: str, project_id: str | None, currency: str, days: int = DAYS
) -> dict[str, Any]:
    """The last ``days`` UTC days, cost and usage per day split by ``by`` (``backend``/``project``),
    plus per-user and per-backend totals over the same days. Empty figures when the role may not
    read usage (the page then says so)."""
    start = (utcnow() - timedelta(days=days - 1)).replace(hour=0, minute=0, second=0, microsecond=0)
    try:
        per_day = usage.usage_report(
            platform,
            principal,
            usage.UsageQuery(group_by=("period", by), period="day", start=start, project_id=project_id),
        )
        per_user = usage.usage_report(
            platform, principal, usage.UsageQuery(group_by=("user",), start=start, project_id=project_id)
        )
        per_backend = usage.usage_report(
            platform, principal, usage.UsageQuery(group_by=("backend",), start=start, project_id=project_id)
        )
    except QumulusError:
        return {"allowed": False}
    day_list = [(start + timedelta(days=n)).date().isoformat() for n in range(days)]
    label_of = per_day.labels.get(by, {})
    names: dict[str, str] = {}
    cost: dict[str, list[float]] = {}
    seconds: dict[str, list[float]] = {}
    for row in per_day.rows:
        key = row.keys.get(by) or "—"
        name = label_of.get(key, key) if by != "backend" else key
        names[key] = name
        index = day_list.index(row.keys["period"]) if row.keys.get("period") in day_list else None
        if index is None:
            continue
        cost.setdefault(name, [0.0] * days)[index] += float(row.cost)
        seconds.setdefault(name, [0.0] * days)[index] += row.usage_seconds
    total = per_day.total
    users = [
        (per_user.labels.get("user", {}).get(r.keys.get("user") or "", "an API key without a user"), r)
        for r in per_user.rows
    ]
    backends = [(r.keys.get("backend") or "—", r) for r in per_backend.rows]
    table = [
        (day, sum(cost[n][i] for n in cost), sum(seconds[n][i] for n in seconds))
        for i, day in enumerate(day_list)
    ]
    return {
        "allowed": True,
        "days": day_list,
        "by": by,
        "cost_svg": charts.stacked_days_svg(
            day_list, cost, title=f"Cost per day by {by}, last {days} days", unit=currency,
            fmt=lambda v: fmt.money(Decimal(str(round(v, 6))), currency),
        ) if cost else "",
        "seconds_svg": charts.stacked_days_svg(
            day_list, seconds, title=f"Machine time per day by {by}, last {days} days", unit="seconds",
            fmt=fmt.duration,
        ) if seconds else "",
        "table": [row for row in reversed(table) if row[1] or row[2]],
        "users": users,
        "users_svg": charts.breakdown_svg(
            [(name, float(r.cost), fmt.money(r.cost, currency)) for name, r in users], title="Cost by person"
        ) if any(r.cost for _, r in users) else "",
        "backends": backends,
        "backends_svg": charts.breakdown_svg(
            [(name, r.usage_seconds, fmt.duration(r.usage_seconds)) for name, r in backends],
            title="Machine time by backend",
        ) if backends else "",
        "total": total,
        "currency": currency,
    }  # fmt: skip


def budget_meter(platform: Any, principal: Principal, project_id: str) -> dict[str, Any] | None:
    """The budget in force with its meter (spent / held / left of the limit); None without one,
    or when the role may not read budgets."""
    try:
        rows = budgets.list_budgets(platform, principal, project_id)
    except QumulusError:
        return None
    found = next((wire_billing.budget(b) for b in rows if wire_billing.budget(b)["in_force"]), None)
    if found is None:
        return None
    cur = found["currency"]
    limit, spent, held, left = (Decimal(found[k]) for k in ("limit", "spent", "held", "remaining"))
    parts = [
        ("Spent", float(spent), fmt.money(spent, cur), "m-spent"),
        ("Held for jobs waiting or running", float(held), fmt.money(held, cur), "m-held"),
        ("Left", float(left), fmt.money(left, cur), "m-left"),
    ]
    total = float(max(limit, spent + held + left)) or 1.0
    return {
        **found,
        "svg": charts.meter_svg(parts, total, title=f"Budget: {fmt.money(spent, cur)} spent, "
                                f"{fmt.money(held, cur)} held, {fmt.money(left, cur)} left of"
                                f" {fmt.money(limit, cur)}"),
        "parts": parts,
        "used_fraction": float((spent + held) / limit) if limit else 1.0,
    }  # fmt: skip


def allocation_meters(
    platform: Any, principal: Principal, organization_id: str
) -> list[dict[str, Any]] | None:
    """Each contract's allocation this period as a meter (used / left seconds); None when the role
    may not read contracts."""
    try:
        found = contracts.allocations(platform, principal, organization_id)
    except QumulusError:
        return None
    out = []
    for a in found:
        allocated = a.contract.allocation_seconds
        svg = ""
        if allocated:
            left = a.left_seconds or 0.0
            svg = charts.meter_svg(
                [
                    ("Used", a.used_seconds, fmt.duration(a.used_seconds), "m-spent"),
                    ("Left", left, fmt.duration(left), "m-left"),
                ],
                float(allocated),
                title=f"Allocation of {a.contract.backend}: {fmt.duration(a.used_seconds)} used "
                f"of {fmt.duration(allocated)}",
            )
        out.append({"allocation": a, "svg": svg})
    return out


def currency_of(platform: Any, principal: Principal) -> str:
    """The currency money is shown in: the project's budget's, else its contracts', else USD."""
    try:
        rows = budgets.list_budgets(platform, principal, principal.project_id)
        if rows:
            return rows[0].currency or "USD"
    except QumulusError:
        pass
    try:
        names = [b.name for b, _ in catalog.list_backends(platform)]
        prices = contracts.prices(platform, principal, names)
    except QumulusError:
        return "USD"
    return next((p.currency for p in prices.values()), "USD")
