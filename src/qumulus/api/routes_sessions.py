"""Session endpoints (``/v0.4``, wire spec §8.1), what ``qiskit_ionq.Session`` calls.

* ``POST /sessions`` ``{"backend", "settings": {job_count_limit, duration_limit_min, cost_limit}}``;
* ``GET /sessions`` (``limit``, ``next``: newest first, cursor paged) and ``GET /sessions/{id}``;
* ``POST|PUT /sessions/{id}/end``: always answers the session object (clients call ``.json()``).

The session object carries both ``status`` (IonQ's documented name) and ``state`` (what the
clients read), and ``usage_time`` in seconds. Rules live in :mod:`qumulus.services.jobs.sessions`.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from pydantic import StrictStr
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from qumulus.api.bodies import StrictBody, parse_body
from qumulus.api.deps import platform_of, principal
from qumulus.auth.principal import Principal
from qumulus.errors import InvalidRequest
from qumulus.services.jobs import sessions
from qumulus.wire.sessions import session_v04


class SessionCreate(StrictBody):
    """``settings``: ``job_count_limit``, ``duration_limit_min``, ``cost_limit`` (checked, with their
    bounds, by :func:`qumulus.services.jobs.sessions.normalise_settings`)."""

    backend: StrictStr
    settings: dict[str, Any] | None = None


def _limit(request: Request) -> int | None:
    raw = request.query_params.get("limit")
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError:
        raise InvalidRequest(f"limit: must be an integer, got {raw!r}", field="limit") from None


def build() -> APIRouter:
    router = APIRouter(prefix="/v0.4")

    @router.post("/sessions", status_code=201)
    async def create(request: Request, who: Principal = Depends(principal)) -> JSONResponse:
        body = await parse_body(request, SessionCreate)
        view = await run_in_threadpool(
            sessions.create_session, platform_of(request), who, body.backend, body.settings
        )
        return JSONResponse(session_v04(view, who.organization_id), status_code=201)

    @router.get("/sessions")
    async def list_(request: Request, who: Principal = Depends(principal)) -> JSONResponse:
        limit = _limit(request)
        cursor = request.query_params.get("next")
        page, following = await run_in_threadpool(
            lambda: sessions.list_sessions(platform_of(request), who, limit=limit, cursor=cursor)
        )
        body: dict[str, Any] = {"sessions": [session_v04(v, who.organization_id) for v in page]}
        if following is not None:
            body["next"] = following  # omitted on the last page (wire spec §6)
        return JSONResponse(body)

    @router.get("/sessions/{session_id}")
    async def get(session_id: str, request: Request, who: Principal = Depends(principal)) -> JSONResponse:
        view = await run_in_threadpool(sessions.get_session, platform_of(request), who, session_id)
        return JSONResponse(session_v04(view, who.organization_id))

    async def end(session_id: str, request: Request, who: Principal = Depends(principal)) -> JSONResponse:
        view = await run_in_threadpool(sessions.end_session, platform_of(request), who, session_id)
        return JSONResponse(session_v04(view, who.organization_id))

    router.add_api_route("/sessions/{session_id}/end", end, methods=["POST"], name="end_session")
    router.add_api_route("/sessions/{session_id}/end", end, methods=["PUT"], name="end_session_put")
    return router
