"""The project the user works in: usage and budget (charts, meter, CSV), API keys (scopes, expiry,
shown once, revoke after confirming), and its members and their roles (``routes_members``)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from qumulus.auth.permissions import SCOPES, Action, allowed
from qumulus.auth.principal import Principal
from qumulus.console import routes_members, usage_view, web
from qumulus.errors import InvalidRequest, NotFound, QumulusError
from qumulus.services.billing import budgets, usage
from qumulus.services.tenancy import key_admin, projects
from qumulus.timeutil import utcnow
from qumulus.wire import billing as wire_billing

#: Key lifetimes offered by the form (days; 0 = never expires).
EXPIRY_DAYS = (0, 7, 30, 90, 365)


def build() -> APIRouter:
    router = APIRouter(prefix=f"{web.PREFIX}/project", route_class=web.ConsoleRoute)

    @router.get("")
    async def overview(request: Request) -> Response:
        me = await web.member_of_project(request)
        context = await run_in_threadpool(_overview, web.platform_of(request), me.principal)
        return web.page(request, me, "project.html", {**context, "nav": "project", "tab": "usage"})

    @router.get("/usage.csv")
    async def usage_csv(request: Request) -> Response:
        """The project's usage and cost by day, backend and person, as CSV."""
        me = await web.member_of_project(request)
        report = await run_in_threadpool(
            usage.usage_report,
            web.platform_of(request),
            me.principal,
            usage.UsageQuery(
                group_by=("period", "backend", "user"), period="day", project_id=me.principal.project_id
            ),
        )
        return Response(
            wire_billing.usage_csv(report),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="project-usage.csv"'},
        )

    @router.post("/budget")
    async def set_budget(request: Request) -> Response:
        me = await web.member_of_project(request)
        form = await web.form_checked(request, me)
        back = f"{web.PREFIX}/project#budget"
        try:
            await run_in_threadpool(_set_budget, web.platform_of(request), me.principal, form.get("limit"))
        except QumulusError as exc:
            return web.refused(request, back, exc)
        return web.done(request, back, "Budget saved: it applies to the next job submitted.")

    @router.get("/keys")
    async def keys_page(request: Request) -> Response:
        me = await web.member_of_project(request)
        context = await run_in_threadpool(_keys, web.platform_of(request), me.principal)
        return web.page(request, me, "project_keys.html", {**context, "nav": "project", "tab": "keys"})

    @router.post("/keys")
    async def create_key(request: Request) -> Response:
        me = await web.member_of_project(request)
        form = await web.form_checked(request, me)
        back = f"{web.PREFIX}/project/keys"
        try:
            view, secret = await run_in_threadpool(_create_key, web.platform_of(request), me.principal, form)
        except QumulusError as exc:
            return web.refused(request, back, exc)
        return web.done(
            request,
            back,
            f"Key {view.name or view.prefix} created. Copy it now: it is shown only this once.",
            secret=secret,
            name=view.name or view.prefix,
        )

    @router.get("/keys/{key_ref}/revoke")
    async def confirm_revoke(request: Request, key_ref: str) -> Response:
        me = await web.member_of_project(request)
        keys, _ = await run_in_threadpool(
            lambda: key_admin.list_keys(
                web.platform_of(request), me.principal, me.principal.project_id, limit=100
            )
        )
        key = next((k for k in keys if key_ref in (k.key_id, k.id)), None)
        if key is None:
            raise NotFound(f"API key {key_ref} not found.")
        return web.page(request, me, "confirm_revoke.html", {"key": key, "nav": "project", "tab": "keys"})

    @router.post("/keys/{key_ref}/revoke")
    async def revoke_key(request: Request, key_ref: str) -> Response:
        me = await web.member_of_project(request)
        form = await web.form_checked(request, me)
        back = f"{web.PREFIX}/project/keys"
        if form.get("confirmed") != "yes":
            return web.redirect(request, f"{web.PREFIX}/project/keys/{key_ref}/revoke")
        try:
            view = await run_in_threadpool(
                key_admin.revoke_key, web.platform_of(request), me.principal, me.principal.project_id, key_ref
            )
        except QumulusError as exc:
            if exc.status_code == 404:
                raise
            return web.refused(request, back, exc)
        request.app.state.authenticator.invalidate()  # as the REST route does: the key stops now
        return web.done(request, back, f"Key {view.name or view.prefix} revoked: it no longer works.")

    routes_members.add_member_routes(router, routes_members.PROJECT)
    return router


def _overview(platform: Any, principal: Principal) -> dict[str, Any]:
    project = projects.get_project(platform, principal, principal.project_id)
    currency = usage_view.currency_of(platform, principal)
    return {
        "project": project,
        "budget": usage_view.budget_meter(platform, principal, project.id),
        "usage": usage_view.daily(
            platform, principal, by="backend", project_id=project.id, currency=currency
        ),
        "currency": currency,
        "can_manage_budget": allowed(principal.actor(), Action.BUDGET_MANAGE),
    }


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
        b for b in budgets.list_budgets(platform, principal, project_id) if wire_billing.budget(b)["in_force"]
    ]
    if current:
        budgets.update_budget(platform, principal, project_id, current[0].id, {"limit": limit})
    else:
        budgets.create_budget(
            platform, principal, project_id, budgets.BudgetSpec(limit=limit, period="month")
        )


def _keys(platform: Any, principal: Principal) -> dict[str, Any]:
    project = projects.get_project(platform, principal, principal.project_id)
    keys, _ = key_admin.list_keys(platform, principal, project.id, limit=100)
    now = utcnow()
    return {
        "project": project,
        "keys": keys,
        "now": now,
        "scopes": SCOPES,
        "expiry_days": EXPIRY_DAYS,
        "can_revoke_any": allowed(principal.actor(), Action.KEY_REVOKE),
        "sees_all_keys": allowed(principal.actor(), Action.KEY_READ),
    }


def _create_key(platform: Any, principal: Principal, form: dict[str, Any]) -> tuple[Any, str]:
    scopes = form.get("scopes") or []
    scopes = [scopes] if isinstance(scopes, str) else list(scopes)
    expires_at = None
    raw = str(form.get("expires") or "0")
    if raw == "date":
        day = str(form.get("expires_on") or "")
        try:
            chosen = datetime.strptime(day, "%Y-%m-%d").date()
        except ValueError:
            raise InvalidRequest(
                f"expires_on: a date like 2026-12-31, got {day!r}", field="expires_on"
            ) from None
        expires_at = datetime.combine(chosen, time.max, tzinfo=UTC)
    else:
        try:
            days = int(raw)
        except ValueError:
            raise InvalidRequest("expires: one of the offered lifetimes", field="expires") from None
        if days not in EXPIRY_DAYS:
            raise InvalidRequest("expires: one of the offered lifetimes", field="expires")
        if days:
            expires_at = utcnow() + timedelta(days=days)
    return key_admin.create_key(
        platform,
        principal,
        principal.project_id,
        name=str(form.get("name") or ""),
        scopes=scopes or None,
        expires_at=expires_at,
    )
