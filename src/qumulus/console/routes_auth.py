"""Login, logout, the project switcher, the first project of a new organization, and the account
page (password change)."""

from __future__ import annotations

import secrets
from urllib.parse import urlparse

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from qumulus.console import web
from qumulus.errors import QumulusError
from qumulus.services.tenancy import console_sessions, key_admin, projects, users


def build() -> APIRouter:
    router = APIRouter(prefix=web.PREFIX, route_class=web.ConsoleRoute)

    @router.get("/login")
    async def login_page(request: Request) -> Response:
        return _login_form(request)

    @router.post("/login")
    async def login(request: Request) -> Response:
        form = await request.form()
        # Login CSRF: the form's token must match the cookie set with the form (double submit),
        # so another site cannot log a browser into an attacker's account.
        sent = str(form.get("csrf_token") or "")
        expected = request.cookies.get(web.LOGIN_CSRF_COOKIE) or ""
        if not expected or not secrets.compare_digest(sent, expected):
            return _login_form(request, "Your login form expired; please try again.", status_code=403)
        email, password = str(form.get("email") or ""), str(form.get("password") or "")
        platform = web.platform_of(request)
        user = await run_in_threadpool(users.check_login, platform, email, password)
        if user is None:
            return _login_form(request, "Wrong email or password.", status_code=401, email=email)
        token = await run_in_threadpool(console_sessions.start, platform, user.id)
        response = RedirectResponse(f"{web.PREFIX}/jobs", status_code=303)
        web.set_cookie(
            request,
            response,
            web.SESSION_COOKIE,
            token,
            int(console_sessions.SESSION_LIFETIME.total_seconds()),
        )
        response.delete_cookie(web.LOGIN_CSRF_COOKIE, path=web.PREFIX)
        return response

    @router.post("/logout")
    async def logout(request: Request) -> Response:
        me = await web.user_of(request)
        await web.form_checked(request, me)
        await run_in_threadpool(
            console_sessions.end, web.platform_of(request), request.cookies[web.SESSION_COOKIE]
        )
        response = RedirectResponse(f"{web.PREFIX}/login", status_code=303)
        response.delete_cookie(web.SESSION_COOKIE, path=web.PREFIX)
        return response

    @router.post("/project")
    async def switch_project(request: Request) -> Response:
        me = await web.user_of(request)
        form = await web.form_checked(request, me)
        token = request.cookies[web.SESSION_COOKIE]
        await run_in_threadpool(
            console_sessions.switch_project,
            web.platform_of(request),
            token,
            str(form.get("project_id") or ""),
        )
        return web.redirect(request, _back_to(form.get("back")))

    @router.get("")
    async def home(request: Request) -> Response:
        return RedirectResponse(f"{web.PREFIX}/jobs", status_code=303)

    @router.get("/welcome")
    async def welcome(request: Request) -> Response:
        """Where a user who works in no project lands: an owner creates the organization's first
        project here; a member learns whom to ask."""
        me = await web.user_of(request)
        platform = web.platform_of(request)
        visible = await run_in_threadpool(console_sessions.visible_projects, platform, me.user_id)
        if me.principal.project_id or visible:
            if not me.principal.project_id:
                token = request.cookies[web.SESSION_COOKIE]
                await run_in_threadpool(console_sessions.switch_project, platform, token, visible[0][0].id)
            return web.redirect(request, f"{web.PREFIX}/jobs")
        orgs = await run_in_threadpool(console_sessions.organizations_of, platform, me.user_id)
        return web.page(request, me, "welcome.html", {"organizations": orgs})

    @router.post("/welcome")
    async def create_first_project(request: Request) -> Response:
        me = await web.user_of(request)
        form = await web.form_checked(request, me)
        platform = web.platform_of(request)
        org_id = str(form.get("organization_id") or "")
        try:
            who = await run_in_threadpool(console_sessions.principal_in_organization, platform, me, org_id)
            made = await run_in_threadpool(
                lambda: projects.create_project(platform, who, org_id, name=str(form.get("name") or ""))
            )
        except QumulusError as exc:
            return web.refused(request, f"{web.PREFIX}/welcome", exc)
        token = request.cookies[web.SESSION_COOKIE]
        await run_in_threadpool(console_sessions.switch_project, platform, token, made.id)
        return web.done(
            request,
            f"{web.PREFIX}/jobs",
            f"Project {made.name} created. Submit a first job, or make an API key for your code.",
        )

    @router.get("/account")
    async def account(request: Request) -> Response:
        me = await web.user_of(request)
        platform = web.platform_of(request)
        user = await run_in_threadpool(users.me, platform, me.principal)
        orgs = await run_in_threadpool(console_sessions.organizations_of, platform, me.user_id)
        mine = []
        if me.principal.project_id:
            keys, _ = await run_in_threadpool(
                lambda: key_admin.list_keys(platform, me.principal, me.principal.project_id, limit=100)
            )
            mine = [k for k in keys if k.user_id == me.user_id]
        return web.page(
            request,
            me,
            "account.html",
            {"user": user, "organizations": orgs, "my_keys": mine, "nav": "account"},
        )

    @router.post("/account/password")
    async def change_password(request: Request) -> Response:
        me = await web.user_of(request)
        form = await web.form_checked(request, me)
        new, again = str(form.get("new_password") or ""), str(form.get("confirm_password") or "")
        back = f"{web.PREFIX}/account"
        if new != again:
            return web.done(request, back, "The two new passwords differ; nothing changed.", kind="error")
        try:
            await run_in_threadpool(
                lambda: users.change_own_password(
                    web.platform_of(request),
                    me.principal,
                    current_password=str(form.get("current_password") or ""),
                    new_password=new,
                )
            )
        except QumulusError as exc:
            return web.refused(request, back, exc)
        return web.done(request, back, "Password changed. Use it the next time you log in.")

    return router


#: Pages that make sense in any project: switching project stays on the same one.
_SECTIONS = ("jobs", "job-sets", "sessions", "backends", "project", "organization", "account")


def _back_to(value: object) -> str:
    """The section page the switch was made from (a job of the previous project would be a 404 in
    the new one, so never deeper than the section), and never another site."""
    parts = urlparse(str(value or "")).path.split("/")
    if len(parts) > 2 and parts[1] == web.PREFIX.strip("/") and parts[2] in _SECTIONS:
        deeper = parts[3] if len(parts) > 3 and parts[2] in ("project", "organization") else ""
        section = (
            f"{parts[2]}/{deeper}" if deeper in ("keys", "members", "projects", "reservations") else parts[2]
        )
        return f"{web.PREFIX}/{section}"
    return f"{web.PREFIX}/jobs"


def _login_form(request: Request, error: str = "", *, status_code: int = 200, email: str = "") -> Response:
    token = secrets.token_urlsafe(24)
    response = web.render(
        request, "login.html", {"me": None, "csrf_token": token, "error": error, "email": email}, status_code
    )
    web.set_cookie(request, response, web.LOGIN_CSRF_COOKIE, token, 3600)
    return response
