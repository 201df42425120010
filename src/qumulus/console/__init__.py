"""The web console: server-rendered pages (Jinja2 + vendored htmx, inline SVG charts) over the same
services as the REST API, acting as the logged-in user in the project they chose. Mounted at
``/console``; see docs/console.md."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match
from starlette.staticfiles import StaticFiles

from qumulus.console import (
    routes_auth,
    routes_backends,
    routes_groups,
    routes_jobs,
    routes_org,
    routes_project,
    routes_submit,
    web,
)
from qumulus.errors import NotFound


def mount(app: FastAPI) -> None:
    """Add the console's routes and static files to the app; any other ``/console`` URL is an HTML
    404 page (never the API's JSON)."""
    app.mount(f"{web.PREFIX}/static", StaticFiles(directory=str(web.HERE / "static")), name="console-static")
    for build in (
        routes_auth.build,
        routes_submit.build,  # /jobs/new and /jobs/preview before /jobs/{job_id}
        routes_jobs.build,
        routes_groups.build,
        routes_backends.build,
        routes_project.build,
        routes_org.build,
    ):
        app.include_router(build())
    app.include_router(_FALLBACK)


def _fallback() -> APIRouter:
    router = APIRouter(prefix=web.PREFIX, route_class=web.ConsoleRoute)

    @router.api_route("/{rest:path}", methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"])
    async def not_found(request: Request, rest: str) -> Response:
        """Opening the address of a form's action (after a reload, from history) leads to the page
        the form is on; anything else is a 404 page."""
        if request.method in ("GET", "HEAD"):
            page = _page_of_action(request)
            if page is not None:
                return web.redirect(request, page)
        raise NotFound(f"There is no console page at {request.url.path}.")

    return router


#: The catch-all, added last: left out when asking which route would answer a URL.
_FALLBACK = _fallback()


def _page_of_action(request: Request) -> str | None:
    """For a URL that only accepts POST, the nearest page above it (``/project/keys/k/revoke`` →
    ``/project/keys``)."""
    path = request.url.path
    if not _matches(request, path, "POST"):
        return None
    parts = path.rstrip("/").split("/")
    while len(parts) > 2:
        parts.pop()
        candidate = "/".join(parts)
        if _matches(request, candidate, "GET"):
            return candidate
    return f"{web.PREFIX}/jobs"


def _matches(request: Request, path: str, method: str) -> bool:
    scope = {"type": "http", "path": path, "method": method, "root_path": ""}
    for route in request.app.router.routes:
        if route is _FALLBACK or getattr(route, "original_router", None) is _FALLBACK:
            continue
        if getattr(route, "path", "") == f"{web.PREFIX}/{{rest:path}}":
            continue
        match, _ = route.matches(scope)
        if match is Match.FULL:
            return True
    return False
