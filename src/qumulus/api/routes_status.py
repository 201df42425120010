"""Backend status endpoints (``/v0.4``): the public status page, history, and administrators' changes.

* ``GET  /status`` (no key): every backend's status now, its message, its wire status, and its
  current and upcoming maintenance windows;
* ``GET  /backends/{name}/status/history`` (no key): status changes, newest first, and windows;
* ``PUT  /backends/{name}/status`` ``{status, message}``: administrators (audited);
* ``POST /backends/{name}/maintenance`` ``{starts_at, ends_at, message}``: administrators;
* ``DELETE /backends/{name}/maintenance/{id}``: administrators;
* ``POST /backends/{name}/recalibrate``: administrators: a new drifted characterization snapshot.

HTTP only: rules live in :mod:`qumulus.services.backends.status`.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query
from pydantic import Field, StrictStr
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from qumulus.api.bodies import ApiDateTime, StrictBody, parse_body
from qumulus.api.deps import platform_of, principal
from qumulus.auth.principal import Principal
from qumulus.backends.catalog import resolve_backend_name
from qumulus.services.backends import calibration
from qumulus.services.backends import status as svc
from qumulus.timeutil import iso, utcnow
from qumulus.wire import backends as wire


class StatusUpdate(StrictBody):
    status: StrictStr
    message: StrictStr | None = Field(None, max_length=2000)


class MaintenanceCreate(StrictBody):
    starts_at: ApiDateTime
    ends_at: ApiDateTime
    message: StrictStr | None = None


async def _call(fn: Any, *args: Any, **kwargs: Any) -> Any:
    return await run_in_threadpool(lambda: fn(*args, **kwargs))


def build() -> APIRouter:
    router = APIRouter(prefix="/v0.4")

    @router.get("/status")
    async def status_page(request: Request) -> JSONResponse:
        states = await _call(svc.status_page, platform_of(request))
        return JSONResponse(
            {"updated_at": iso(utcnow()), "backends": [wire.backend_state(s) for s in states]}
        )

    @router.get("/backends/{name}/status/history")
    async def status_history(
        name: str, request: Request, limit: int = Query(50, ge=1, le=500)
    ) -> JSONResponse:
        events, windows = await _call(svc.history, platform_of(request), name, limit=limit)
        return JSONResponse(
            {
                "backend": resolve_backend_name(name),
                "history": [
                    {"at": iso(e.at), "status": e.status, "previous": e.previous, "message": e.message}
                    for e in events
                ],
                "maintenance": [wire.window(w) for w in windows],
            }
        )

    @router.put("/backends/{name}/status")
    async def set_status(name: str, request: Request, who: Principal = Depends(principal)) -> JSONResponse:
        body = await parse_body(request, StatusUpdate)
        platform = platform_of(request)
        backend = await _call(svc.set_status, platform, who, name, body.status, body.message)
        return JSONResponse(wire.backend_v04(backend))

    @router.post("/backends/{name}/maintenance", status_code=201)
    async def schedule(name: str, request: Request, who: Principal = Depends(principal)) -> JSONResponse:
        body = await parse_body(request, MaintenanceCreate)
        row = await _call(
            svc.schedule_maintenance,
            platform_of(request),
            who,
            name,
            starts_at=body.starts_at,
            ends_at=body.ends_at,
            message=body.message,
        )
        return JSONResponse(wire.window(row), status_code=201)

    @router.delete("/backends/{name}/maintenance/{window_id}")
    async def cancel(
        name: str, window_id: str, request: Request, who: Principal = Depends(principal)
    ) -> JSONResponse:
        row = await _call(svc.cancel_maintenance, platform_of(request), who, name, window_id)
        return JSONResponse(wire.window(row))

    @router.post("/backends/{name}/recalibrate", status_code=201)
    async def recalibrate(name: str, request: Request, who: Principal = Depends(principal)) -> JSONResponse:
        platform = platform_of(request)
        (row,) = await _call(calibration.recalibrate, platform, who, backends=[name])
        states = {s.backend: s.current.status for s in await _call(svc.status_page, platform)}
        status = wire.BACKEND_STATUS.get(states.get(row.backend, ""), "unavailable")
        return JSONResponse(wire.characterization(row, status=status), status_code=201)

    return router
