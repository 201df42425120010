"""The organization: usage and money over time (by project, by person, by backend; CSV), contract
allocations as meters, its members (owners manage them; the pages are ``routes_members``), its
projects and its reservations."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from qumulus.auth.permissions import Action, allowed
from qumulus.auth.principal import Principal
from qumulus.console import routes_members, usage_view, web
from qumulus.errors import InvalidRequest, QumulusError
from qumulus.services.backends import catalog as backends
from qumulus.services.backends import reservations
from qumulus.services.billing import usage
from qumulus.services.tenancy import console_sessions, organizations, projects
from qumulus.values import check_time
from qumulus.wire import billing as wire_billing

USAGE_GROUPS = ("project", "backend")


def build() -> APIRouter:
    router = APIRouter(prefix=f"{web.PREFIX}/organization", route_class=web.ConsoleRoute)

    @router.get("")
    async def overview(request: Request) -> Response:
        me = await web.member_of_project(request)
        context = await run_in_threadpool(_overview, web.platform_of(request), me.principal)
        return web.page(request, me, "organization.html", {**context, "nav": "organization", "tab": "usage"})

    @router.get("/usage.csv")
    async def usage_csv(request: Request) -> Response:
        """The usage and cost report by project and backend, as the REST ``format=csv`` gives it."""
        me = await web.member_of_project(request)
        report = await run_in_threadpool(
            usage.usage_report,
            web.platform_of(request),
            me.principal,
            usage.UsageQuery(group_by=USAGE_GROUPS),
        )
        return Response(
            wire_billing.usage_csv(report),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="usage.csv"'},
        )

    routes_members.add_member_routes(router, routes_members.ORGANIZATION)

    @router.get("/projects")
    async def projects_page(request: Request) -> Response:
        me = await web.member_of_project(request)
        context = await run_in_threadpool(_projects, web.platform_of(request), me.principal)
        return web.page(
            request, me, "org_projects.html", {**context, "nav": "organization", "tab": "projects"}
        )

    @router.post("/projects")
    async def create_project(request: Request) -> Response:
        return await _org_change(
            request, "/projects",
            lambda platform, who, form: projects.create_project(
                platform, who, who.organization_id, name=str(form.get("name") or "")
            ),
            lambda form: f"Project {str(form.get('name') or '').strip()} created. Switch to it above.",
        )  # fmt: skip

    @router.get("/reservations")
    async def reservations_page(request: Request) -> Response:
        me = await web.member_of_project(request)
        context = await run_in_threadpool(_reservations, web.platform_of(request), me.principal)
        return web.page(
            request, me, "org_reservations.html", {**context, "nav": "organization", "tab": "reservations"}
        )

    @router.post("/reservations")
    async def request_reservation(request: Request) -> Response:
        return await _org_change(
            request, "/reservations",
            lambda platform, who, form: reservations.create_reservation(
                platform, who, who.organization_id,
                backend=str(form.get("backend") or ""),
                starts_at=_when(form.get("starts_at"), "starts_at"),
                ends_at=_when(form.get("ends_at"), "ends_at"),
            ),
            lambda form: "Reservation requested: a platform administrator approves it.",
        )  # fmt: skip

    return router


async def _org_change(request: Request, path: str, change: Any, said: Any) -> Response:
    """Run an organization change through its service, then back to its page (post/redirect/get),
    saying what happened or why the service refused."""
    me = await web.member_of_project(request)
    form = await web.form_checked(request, me)
    back = f"{web.PREFIX}/organization{path}"
    try:
        await run_in_threadpool(change, web.platform_of(request), me.principal, form)
    except QumulusError as exc:
        return web.refused(request, back, exc)
    request.app.state.authenticator.invalidate()  # roles changed: keys act with them at once
    return web.done(request, back, said(form))


def _when(value: Any, field: str) -> datetime:
    """A ``datetime-local`` form value, read as UTC (the page says so)."""
    try:
        when = datetime.fromisoformat(str(value or "")).replace(tzinfo=UTC)
    except ValueError:
        raise InvalidRequest(f"{field}: a date and time like 2026-01-31T14:00", field=field) from None
    return check_time(when, field)


def _base(platform: Any, principal: Principal) -> dict[str, Any]:
    org = organizations.get_organization(platform, principal, principal.organization_id)
    return {"organization": org, "is_owner": principal.org_role == "owner" or principal.is_admin}


def _overview(platform: Any, principal: Principal) -> dict[str, Any]:
    base = _base(platform, principal)
    currency = usage_view.currency_of(platform, principal)
    daily = usage_view.daily(platform, principal, by="project", project_id=None, currency=currency)
    return {
        **base,
        "usage": daily,
        # without ORG_USAGE_READ the report covers the caller's own project only: the page says so
        "whole_org": allowed(principal.actor(), Action.ORG_USAGE_READ),
        "allocations": usage_view.allocation_meters(platform, principal, principal.organization_id),
        "currency": currency,
    }


def _projects(platform: Any, principal: Principal) -> dict[str, Any]:
    base = _base(platform, principal)
    rows, _ = projects.list_projects(platform, principal, principal.organization_id, limit=100)
    switchable = {p.id for p, _ in console_sessions.visible_projects(platform, principal.user_id or "")}
    return {**base, "org_projects": rows, "switchable": switchable}


def _reservations(platform: Any, principal: Principal) -> dict[str, Any]:
    base = _base(platform, principal)
    upcoming = reservations.list_reservations(platform, principal, principal.organization_id)
    names = [b.name for b, _ in backends.list_backends(platform) if b.kind != "simulator"]
    return {**base, "reservations": upcoming, "backend_names": names}
