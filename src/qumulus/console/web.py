"""What every console page shares: templates, the session cookie, CSRF checks, post/redirect/get
with one-time messages, and HTML error pages that keep the signed-in header.

The console acts as the logged-in user in the project they chose, through a
:class:`~qumulus.auth.principal.Principal` built from the session (services decide everything
else, exactly as for an API key).
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from qumulus.console import flash, fmt
from qumulus.errors import Forbidden, QumulusError
from qumulus.platform import Platform
from qumulus.services.tenancy import console_sessions
from qumulus.services.tenancy.console_sessions import ConsoleUser

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
templates.env.filters.update(fmt.FILTERS)
SESSION_COOKIE = "qumulus_session"
LOGIN_CSRF_COOKIE = "qumulus_login_csrf"
PREFIX = "/console"


class LoginRequired(Exception):
    """No valid session: the handler turns this into a redirect to the login page."""


class NoProject(Exception):
    """The user works in no project yet (a new organization's owner): lead them to create one."""


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


async def member_of_project(request: Request) -> ConsoleUser:
    """The session's user, who must be working in a project (else :class:`NoProject`)."""
    me = await user_of(request)
    if not me.principal.project_id:
        raise NoProject
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


def redirect(request: Request, url: str) -> Response:
    """303 to ``url`` (htmx requests get ``HX-Redirect``, which htmx follows as a page load)."""
    if request.headers.get("hx-request"):
        response: Response = Response(status_code=200)
        response.headers["HX-Redirect"] = url
        return response
    return RedirectResponse(url, status_code=303)


def done(request: Request, url: str, text: str, *, kind: str = "ok", **extra: Any) -> Response:
    """Post/redirect/get: 303 to ``url`` with a one-time message (and e.g. a new key's ``secret``)
    for the next page to show once. ``kind``: ``ok`` or ``error``."""
    response = redirect(request, url)
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        sealed = flash.seal({"kind": kind, "text": text, **extra}, platform_of(request).secret, token)
        set_cookie(request, response, flash.COOKIE, sealed)
    return response


def refused(request: Request, url: str, exc: QumulusError, **extra: Any) -> Response:
    """A service said no to a form: back to its page, saying why (and the status it would have)."""
    return done(request, url, str(exc), kind="error", status=exc.status_code, **extra)


def login_redirect(request: Request) -> Response:
    return redirect(request, f"{PREFIX}/login")


def url(path: str, **query: Any) -> str:
    """A console URL with the non-empty query parameters (lists repeat the key)."""
    pairs = [(k, v) for k, vs in query.items() for v in (vs if isinstance(vs, list | tuple) else [vs])]
    pairs = [(k, v) for k, v in pairs if v not in (None, "")]
    return f"{PREFIX}{path}" + (f"?{urlencode(pairs)}" if pairs else "")


class ConsoleRoute(APIRoute):
    """Console routes answer in HTML: no session → the login page; no project yet → the page that
    creates the first one; a service's refusal → an error page with the same status the REST API
    would give (so another tenant's job is a 404 here too), under the signed-in header."""

    def get_route_handler(self):  # type: ignore[no-untyped-def]
        handler = super().get_route_handler()

        async def wrapped(request: Request) -> Response:
            try:
                return await handler(request)
            except LoginRequired:
                return login_redirect(request)
            except NoProject:
                return redirect(request, f"{PREFIX}/welcome")
            except QumulusError as exc:
                return await error_page(request, exc.status_code, str(exc))

        return wrapped


async def error_page(request: Request, status: int, message: str) -> Response:
    """The error page, with the header of whoever is signed in (none for a visitor)."""
    try:
        me: ConsoleUser | None = await user_of(request)
    except LoginRequired:
        me = None
    context = {"status": status, "message": message}
    if me is None:
        return render(request, "error.html", {"me": None, **context}, status_code=status)
    return await run_in_threadpool(page, request, me, "error.html", context, status)


def flash_of(request: Request) -> dict[str, Any] | None:
    """The one-time message waiting for this request's page (left for :func:`page` to clear)."""
    return flash.open_(
        request.cookies.get(flash.COOKIE), platform_of(request).secret, request.cookies.get(SESSION_COOKIE)
    )


def page(
    request: Request, me: ConsoleUser, name: str, context: dict[str, Any], status_code: int = 200
) -> Response:
    """A full page: adds the user, the project switcher's choices, the CSRF token, and the one-time
    message a redirect left (deleted as it is shown)."""
    platform = platform_of(request)
    projects = console_sessions.visible_projects(platform, me.user_id)
    message = flash_of(request)
    response = render(
        request,
        name,
        {"me": me, "projects": projects, "csrf_token": me.csrf_token, "flash": message, **context},
        status_code=status_code,
    )
    if flash.COOKIE in request.cookies:
        response.delete_cookie(flash.COOKIE, path=PREFIX)
    return response
