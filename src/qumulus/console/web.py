"""What every console page shares: templates, the session cookie, CSRF checks, HTML errors.

The console acts as the logged-in user in the project they chose, through a
:class:`~qumulus.auth.principal.Principal` built from the session (services decide everything
else, exactly as for an API key).
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from qumulus.errors import Forbidden, QumulusError
from qumulus.platform import Platform
from qumulus.services.tenancy import console_sessions
from qumulus.services.tenancy.console_sessions import ConsoleUser

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
SESSION_COOKIE = "qumulus_session"
LOGIN_CSRF_COOKIE = "qumulus_login_csrf"
PREFIX = "/console"


class LoginRequired(Exception):
    """No valid session: the handler turns this into a redirect to the login page."""


def platform_of(request: Request) -> Platform:
    return request.app.state.platform


def secure(request: Request) -> bool:
    """Secure cookies when the browser reached us over https. Behind a TLS proxy, uvicorn's
    ``--proxy-headers`` (trusted ``--forwarded-allow-ips``) sets the scheme from X-Forwarded-Proto;
    the header itself is not trusted here, since any client can send it."""
    return request.url.scheme == "https"


def set_cookie(
    request: Request, response: Response, name: str, value: str, max_age: int | None = None
) -> None:
    response.set_cookie(
        name, value, max_age=max_age, path=PREFIX, httponly=True, samesite="lax", secure=secure(request)
    )


async def user_of(request: Request) -> ConsoleUser:
    """The session's user, or :class:`LoginRequired`."""
    me = await run_in_threadpool(
        console_sessions.current, platform_of(request), request.cookies.get(SESSION_COOKIE)
    )
    if me is None:
        raise LoginRequired
    return me


async def form_checked(request: Request, me: ConsoleUser) -> dict[str, Any]:
    """The posted form, after its CSRF token (form field or htmx header) matched the session's."""
    form = await request.form()
    sent = str(form.get("csrf_token") or request.headers.get("x-csrf-token") or "")
    if not secrets.compare_digest(sent, me.csrf_token):
        raise Forbidden("csrf_token: missing or wrong; reload the page and try again")
    return {k: form.getlist(k) if len(form.getlist(k)) > 1 else form.get(k) for k in form}


def render(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    return templates.TemplateResponse(request, name, context, status_code=status_code)


def login_redirect(request: Request) -> RedirectResponse:
    if request.headers.get("hx-request"):
        response = RedirectResponse(f"{PREFIX}/login", status_code=200)
        response.headers["HX-Redirect"] = f"{PREFIX}/login"
        return response
    return RedirectResponse(f"{PREFIX}/login", status_code=303)


class ConsoleRoute(APIRoute):
    """Console routes answer in HTML: no session → the login page; a service's refusal → an error
    page with the same status the REST API would give (so another tenant's job is a 404 here too)."""

    def get_route_handler(self):  # type: ignore[no-untyped-def]
        handler = super().get_route_handler()

        async def wrapped(request: Request) -> Response:
            try:
                return await handler(request)
            except LoginRequired:
                return login_redirect(request)
            except QumulusError as exc:
                return render(
                    request,
                    "error.html",
                    {"status": exc.status_code, "message": str(exc), "me": None},
                    status_code=exc.status_code,
                )

        return wrapped


def page(
    request: Request, me: ConsoleUser, name: str, context: dict[str, Any], status_code: int = 200
) -> HTMLResponse:
    """A full page: adds the user, the project switcher's choices and the CSRF token."""
    projects = console_sessions.visible_projects(platform_of(request), me.user_id)
    return render(
        request,
        name,
        {"me": me, "projects": projects, "csrf_token": me.csrf_token, **context},
        status_code=status_code,
    )
