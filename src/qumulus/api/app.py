"""The ASGI application: IonQ-compatible routes at ``/v0.4`` and ``/v0.3`` over the services."""

from __future__ import annotations

import inspect
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

import qumulus
from qumulus import console
from qumulus.api import (
    errors,
    openapi,
    routes_backends,
    routes_billing,
    routes_drivers,
    routes_events,
    routes_jobs,
    routes_metrics,
    routes_notifications,
    routes_scheduling,
    routes_sdk,
    routes_sessions,
    routes_status,
    routes_tenancy,
)
from qumulus.api.openapi import AllowMiddleware
from qumulus.api.ratelimit import RateLimiter
from qumulus.api.server import RequestGuard
from qumulus.api.unit_of_work import UnitOfWork
from qumulus.circuits.qiskit_home import preload as preload_qiskit
from qumulus.platform import Platform
from qumulus.services.tenancy.keys import Authenticator


class RejectNulMiddleware:
    """400 for a NUL byte in the path or query: no store can compare it, and none has a use for it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and (
            "\x00" in scope.get("path", "") or b"%00" in scope.get("query_string", b"")
        ):
            response = JSONResponse(
                errors.error_body(400, "the URL contains a NUL character", field="url"), status_code=400
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


def _telemetry_options() -> dict[str, Any]:
    """FastAPI's native OpenTelemetry (FastAPI ≥ 0.165) asks on every request whether a provider is
    configured, a measurable share of a tiny job's request cost. Qumulus turns it on only when
    ``QUMULUS_OTEL=1``; then FastAPI's own spans and metrics go to the configured OTel providers."""
    if "telemetry" not in inspect.signature(FastAPI).parameters:
        return {}
    on = os.environ.get("QUMULUS_OTEL", "") == "1"
    return {"telemetry": {"tracing": on, "metrics": on, "logs": on}}


def create_app(platform: Platform, *, run_jobs: bool = True) -> FastAPI:
    """Build the app. ``run_jobs`` starts the embedded runtime (pool + workers) with the app."""
    preload_qiskit()  # request threads compile circuits: qiskit must be imported on the main thread

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if run_jobs:
            platform.start_runtime()
        try:
            yield
        finally:
            platform.stop()

    app = FastAPI(
        title="Qumulus",
        version=qumulus.__version__,
        description="Self-hostable quantum cloud with an IonQ-compatible API.",
        lifespan=lifespan,
        docs_url="/docs",
        redoc_url=None,
        **_telemetry_options(),
    )
    app.state.platform = platform
    app.state.authenticator = Authenticator(platform.db, platform.secret)
    app.state.rate_limiter = RateLimiter(
        platform.settings.rate_limit_per_minute, platform.settings.rate_limit_burst
    )
    errors.install(app)
    openapi.install(app)
    # innermost of ours: commits a changing request once its answer is built (render before commit)
    app.add_middleware(UnitOfWork, platform=platform, after_commit=(app.state.authenticator.invalidate,))
    app.add_middleware(AllowMiddleware)
    app.add_middleware(RejectNulMiddleware)
    app.add_middleware(RequestGuard)  # outermost of ours: body deadline, disconnects, unexpected errors
    for version in ("v0.4", "v0.3"):
        for router in (routes_jobs.build(version), routes_backends.build(version)):
            # Added as plain routes: FastAPI's included-router wrappers cost a measurable share of
            # each tiny request (route matching through the inclusion layer).
            app.router.routes.extend(router.routes)
    app.router.routes.extend(routes_tenancy.build().routes)
    app.router.routes.extend([*routes_sdk.build().routes, *routes_events.build().routes])  # SDK extras
    app.include_router(routes_billing.build())  # contracts, allocations, budgets, usage
    app.router.routes.extend(routes_scheduling.build().routes)
    app.router.routes.extend(routes_status.build().routes)  # backend status page and lifecycle
    app.router.routes.extend(routes_drivers.build().routes)  # driver-served backends (administrators)
    app.router.routes.extend(routes_sessions.build().routes)

    app.include_router(routes_notifications.build())
    app.include_router(routes_metrics.build(platform))  # GET /metrics (Prometheus), scrape-time only
    console.mount(app)  # the web console at /console (same services, HTML)

    @app.get("/health")
    async def health() -> JSONResponse:
        return JSONResponse({"status": "ok", "version": qumulus.__version__})

    return app
