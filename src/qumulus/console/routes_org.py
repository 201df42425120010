"""Backends (with their characterization), the public status page, and a project's members and
API keys, and the organization's members for its owners."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from qumulus.auth.permissions import Action, allowed
from qumulus.auth.principal import Principal
from qumulus.console import charts, web
from qumulus.errors import InvalidRequest, QumulusError
from qumulus.services.backends import catalog as backends
from qumulus.services.backends import reservations
from qumulus.services.backends import status as backend_status
from qumulus.services.billing import budgets, contracts, usage
from qumulus.services.tenancy import console_sessions, key_admin, members, organizations, projects
from qumulus.values import check_time

MAX_TABLE_QUBITS = 64
USAGE_GROUPS = ("project", "backend")


def _status_and_changes(platform: Any) -> tuple[list[Any], dict[str, list[Any]]]:
    """Every backend's status now (maintenance windows applied) and its last five changes."""
    states = backend_status.status_page(platform)
    return states, {s.backend: backend_status.history(platform, s.backend, limit=5)[0] for s in states}


def build() -> APIRouter:
    router = APIRouter(prefix=web.PREFIX, route_class=web.ConsoleRoute)

    @router.get("/status")
    async def status_page(request: Request) -> Response:
        """Public: no login, no tenant data; what a person checks when jobs seem slow."""
        states, changes = await run_in_threadpool(_status_and_changes, web.platform_of(request))
        return web.render(request, "status.html", {"me": None, "states": states, "changes": changes})

    @router.get("/backends")
    async def backends_page(request: Request) -> Response:
        me = await web.user_of(request)
        rows = await run_in_threadpool(backends.list_backends, web.platform_of(request))
        return web.page(request, me, "backends.html", {"rows": rows})

    @router.get("/backends/{name}")
    async def backend_page(request: Request, name: str) -> Response:
        me = await web.user_of(request)
        context = await run_in_threadpool(_backend, web.platform_of(request), name)
        return web.page(request, me, "backend.html", context)

    @router.get("/project")
    async def project_page(request: Request) -> Response:
        me = await web.user_of(request)
        context = await run_in_threadpool(_project, web.platform_of(request), me.principal)
        return web.page(request, me, "project.html", {**context, "new_key": None, "error": ""})

    @router.post("/project/keys")
    async def create_key(request: Request) -> Response:
        me = await web.user_of(request)
        form = await web.form_checked(request, me)
        platform = web.platform_of(request)
        new_key, error, status = None, "", 200
        try:
            view, secret = await run_in_threadpool(
                lambda: key_admin.create_key(
                    platform, me.principal, me.principal.project_id, name=str(form.get("name") or "")
                )
            )
            new_key = {"name": view.name, "secret": secret}
        except QumulusError as exc:
            error, status = str(exc), exc.status_code
        context = await run_in_threadpool(_project, platform, me.principal)
        return web.page(
            request, me, "project.html", {**context, "new_key": new_key, "error": error}, status_code=status
        )

    @router.post("/project/budget")
    async def set_budget(request: Request) -> Response:
        me = await web.user_of(request)
        form = await web.form_checked(request, me)
        platform = web.platform_of(request)
        error, status = "", 200
        try:
            await run_in_threadpool(_set_budget, platform, me.principal, form.get("limit"))
        except QumulusError as exc:
            error, status = str(exc), exc.status_code
        context = await run_in_threadpool(_project, platform, me.principal)
        return web.page(
            request, me, "project.html", {**context, "new_key": None, "error": error}, status_code=status
        )

    @router.post("/project/keys/{key_ref}/revoke")
    async def revoke_key(request: Request, key_ref: str) -> Response:
        me = await web.user_of(request)
        await web.form_checked(request, me)
        platform = web.platform_of(request)
        await run_in_threadpool(
            key_admin.revoke_key, platform, me.principal, me.principal.project_id, key_ref
        )
        request.app.state.authenticator.invalidate()  # as the REST route does: the key stops now
        context = await run_in_threadpool(_project, platform, me.principal)
        return web.page(request, me, "project.html", {**context, "new_key": None, "error": ""})

    @router.get("/organization")
    async def organization_page(request: Request) -> Response:
        me = await web.user_of(request)
        context = await run_in_threadpool(_organization, web.platform_of(request), me.principal)
        return web.page(request, me, "organization.html", {**context, "error": ""})

    @router.get("/organization/usage.csv")
    async def usage_csv(request: Request) -> Response:
        """The usage and cost report by project and backend, as the REST ``format=csv`` gives it."""
        me = await web.user_of(request)
        report = await run_in_threadpool(
            usage.usage_report,
            web.platform_of(request),
            me.principal,
            usage.UsageQuery(group_by=USAGE_GROUPS),
        )
        return Response(
            report.as_csv(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="usage.csv"'},
        )

    @router.post("/organization/members")
    async def add_member(request: Request) -> Response:
        return await _org_change(
            request,
            lambda platform, who, form: members.add_member(
                platform,
                who,
                members.ORGANIZATION,
                who.organization_id,
                email=str(form.get("email") or ""),
                role=str(form.get("role")),
            ),
        )

    @router.post("/organization/members/{user_id}/role")
    async def change_role(request: Request, user_id: str) -> Response:
        return await _org_change(
            request,
            lambda platform, who, form: members.update_member(
                platform, who, members.ORGANIZATION, who.organization_id, user_id, role=str(form.get("role"))
            ),
        )

    @router.post("/organization/reservations")
    async def request_reservation(request: Request) -> Response:
        return await _org_change(
            request,
            lambda platform, who, form: reservations.create_reservation(
                platform,
                who,
                who.organization_id,
                backend=str(form.get("backend") or ""),
                starts_at=_when(form.get("starts_at"), "starts_at"),
                ends_at=_when(form.get("ends_at"), "ends_at"),
            ),
        )

    @router.post("/organization/projects")
    async def create_project(request: Request) -> Response:
        return await _org_change(
            request,
            lambda platform, who, form: projects.create_project(
                platform, who, who.organization_id, name=str(form.get("name") or "")
            ),
        )

    return router


async def _org_change(request: Request, change: Any) -> Response:
    """Run an organization change through its service, then show the page again (with the refusal,
    and its status code, when the service refused)."""
    me = await web.user_of(request)
    form = await web.form_checked(request, me)
    platform = web.platform_of(request)
    error, status = "", 200
    try:
        await run_in_threadpool(change, platform, me.principal, form)
        request.app.state.authenticator.invalidate()  # roles changed: keys act with them at once
    except QumulusError as exc:
        error, status = str(exc), exc.status_code
    context = await run_in_threadpool(_organization, platform, me.principal)
    return web.page(request, me, "organization.html", {**context, "error": error}, status_code=status)


def _set_budget(platform: Any, principal: Principal, value: Any) -> None:
    """Change the budget in force, or start a monthly one (the budget service checks the role)."""
    try:
        limit = Decimal(str(value or "").strip())
    except InvalidOperation:
        raise InvalidRequest(f"limit: a number like 25.00, got {value!r}", field="limit") from None
    if not limit.is_finite():
        raise InvalidRequest("limit: a number like 25.00", field="limit")
    project_id = principal.project_id
    current = [
        b for b in budgets.list_budgets(platform, principal, project_id) if budgets.describe(b)["in_force"]
    ]
    if current:
        budgets.update_budget(platform, principal, project_id, current[0].id, {"limit": limit})
    else:
        budgets.create_budget(
            platform, principal, project_id, budgets.BudgetSpec(limit=limit, period="month")
        )


def _when(value: Any, field: str) -> datetime:
    """A ``datetime-local`` form value, read as UTC (the page says so)."""
    try:
        when = datetime.fromisoformat(str(value or "")).replace(tzinfo=UTC)
    except ValueError:
        raise InvalidRequest(f"{field}: a date and time like 2026-01-31T14:00", field=field) from None
    return check_time(when, field)


def _backend(platform: Any, name: str) -> dict[str, Any]:
    backend = backends.get_backend(platform, name)
    snapshots, _ = backends.characterizations(platform, backend.name, limit=30)
    snap = snapshots[0] if snapshots else None
    history = [
        (
            s.date.strftime("%Y-%m-%d %H:%M"),
            {
                f"{k} median": float(v["median"])
                for k, v in (s.data.get("fidelity") or {}).items()
                if "median" in v
            },
        )
        for s in reversed(snapshots)
    ]
    data: dict[str, Any] = snap.data if snap else {}
    qubit = data.get("qubit") or {}
    n = min(backend.qubits, MAX_TABLE_QUBITS)
    qubit_rows = (
        [
            {k: (qubit[k][q] if q < len(qubit.get(k) or []) else None) for k in ("t1", "t2", "spam", "1q")}
            | {"q": q}
            for q in range(n)
        ]
        if qubit
        else []
    )
    pair_rows = sorted((data.get("pair") or {}).get("2q", {}).items(), key=lambda kv: kv[1])[:50]
    pairs = [(int(a), int(b)) for a, b in (data.get("connectivity") or []) if a < n and b < n]
    return {
        "backend": backend,
        "snapshot": snap,
        "fidelity": data.get("fidelity") or {},
        "timing": data.get("timing") or {},
        "qubit_rows": qubit_rows,
        "pair_rows": pair_rows,
        "connectivity": charts.connectivity_svg(n, pairs) if pairs else "",
        "history": history,
        "history_svg": charts.history_svg(history, title=f"Fidelity medians of {backend.name} over time"),
    }


def _project(platform: Any, principal: Principal) -> dict[str, Any]:
    project = projects.get_project(platform, principal, principal.project_id)
    try:
        people, _ = members.list_members(platform, principal, members.PROJECT, project.id, limit=100)
    except QumulusError:
        people = []
    keys, _ = key_admin.list_keys(platform, principal, project.id, limit=100)
    return {
        **_money(platform, principal, project.id),
        "project": project,
        "members": people,
        "keys": keys,
        "can_revoke_any": allowed(principal.actor(), Action.KEY_REVOKE),
        "can_manage_budget": allowed(principal.actor(), Action.BUDGET_MANAGE),
    }


def _money(platform: Any, principal: Principal, project_id: str) -> dict[str, Any]:
    """The budget in force (spent / held / remaining) and daily usage, when the role may read them."""
    try:
        rows = budgets.list_budgets(platform, principal, project_id)
        report = usage.usage_report(
            platform, principal, usage.UsageQuery(group_by=("period",), period="day", project_id=project_id)
        )
    except QumulusError:
        return {"budget": None, "usage_rows": []}
    described = [budgets.describe(b) for b in rows]
    in_force = next((b for b in described if b["in_force"]), None)
    days = sorted(((r.keys.get("period") or "", r) for r in report.rows), key=lambda kv: kv[0], reverse=True)
    return {"budget": in_force, "usage_rows": days[:31]}


def _organization(platform: Any, principal: Principal) -> dict[str, Any]:
    org = organizations.get_organization(platform, principal, principal.organization_id)
    try:
        people, _ = members.list_members(platform, principal, members.ORGANIZATION, org.id, limit=100)
    except QumulusError:  # the role may not list the organization's users: the page shows the rest
        people = None
    rows, _ = projects.list_projects(platform, principal, org.id, limit=100)
    try:
        allocations = contracts.allocations(platform, principal, org.id)
    except QumulusError:
        allocations = None
    try:
        report = usage.usage_report(platform, principal, usage.UsageQuery(group_by=USAGE_GROUPS))
        usage_rows = report.as_json()["rows"]
    except QumulusError:
        usage_rows = None
    upcoming = reservations.list_reservations(platform, principal, org.id)
    return {
        "reservations": upcoming,
        "backend_names": [b.name for b, _ in backends.list_backends(platform) if b.kind != "simulator"],
        "allocations": allocations,
        "usage_rows": usage_rows,
        "organization": org,
        "org_members": people,
        "org_projects": rows,
        "is_owner": principal.org_role == "owner" or principal.is_admin,
        "switchable": {p.id for p, _ in console_sessions.visible_projects(platform, principal.user_id or "")},
    }
