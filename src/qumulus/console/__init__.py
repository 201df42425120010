"""The web console: server-rendered pages (Jinja2 + vendored htmx) over the same services as the
REST API, acting as the logged-in user in the project they chose. Mounted at ``/console``."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.staticfiles import StaticFiles

from qumulus.console import routes_auth, routes_jobs, routes_org, web


def mount(app: FastAPI) -> None:
    """Add the console's routes and static files to the app."""
    app.mount(f"{web.PREFIX}/static", StaticFiles(directory=str(web.HERE / "static")), name="console-static")
    for build in (routes_auth.build, routes_jobs.build, routes_org.build):
        app.include_router(build())
