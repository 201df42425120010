"""Login, logout and the project switcher."""

from __future__ import annotations

import secrets

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from qumulus.console import web
from qumulus.services.tenancy import console_sessions, users


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
        return RedirectResponse(f"{web.PREFIX}/jobs", status_code=303)

    @router.get("")
    async def home(request: Request) -> Response:
        return RedirectResponse(f"{web.PREFIX}/jobs", status_code=303)

    return router


def _login_form(request: Request, error: str = "", *, status_code: int = 200, email: str = "") -> Response:
    token = secrets.token_urlsafe(24)
    response = web.render(
        request, "login.html", {"me": None, "csrf_token": token, "error": error, "email": email}, status_code
    )
    web.set_cookie(request, response, web.LOGIN_CSRF_COOKIE, token, 3600)
    return response
