"""Scheduling endpoints (``/v0.4``): reservations and the administrators' priority tier.

HTTP only, like :mod:`qumulus.api.routes_tenancy`: parse, call one service in the thread pool,
render. Rules, reach and audit live in :mod:`qumulus.services.backends.reservations` and
:mod:`qumulus.services.jobs.priority`.

* ``GET  /organizations/{org_id}/reservations``: the organization's current and future windows;
* ``POST /organizations/{org_id}/reservations``: an owner's request, or an administrator's window;
* ``POST /reservations/{id}/approve``: administrators;
* ``DELETE /reservations/{id}``: cancel (owners, administrators);
* ``PUT  /jobs/{id}/priority``: ``{"tier": n}``, administrators.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from pydantic import StrictInt, StrictStr
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from qumulus.api.bodies import ApiDateTime, StrictBody, parse_body
from qumulus.api.deps import platform_of, principal
from qumulus.auth.principal import Principal
from qumulus.services.backends import reservations
from qumulus.services.jobs import priority
from qumulus.wire import backends as backend_wire


class ReservationCreate(StrictBody):
    backend: StrictStr
    starts_at: ApiDateTime
    ends_at: ApiDateTime


class TierUpdate(StrictBody):
    tier: StrictInt


async def _call(fn: Any, *args: Any, **kwargs: Any) -> Any:
    return await run_in_threadpool(lambda: fn(*args, **kwargs))


def build() -> APIRouter:
    router = APIRouter(prefix="/v0.4")

    @router.get("/organizations/{org_id}/reservations")
    async def list_reservations(
        org_id: str, request: Request, who: Principal = Depends(principal)
    ) -> JSONResponse:
        rows = await _call(reservations.list_reservations, platform_of(request), who, org_id)
        return JSONResponse({"reservations": [backend_wire.reservation(r) for r in rows]})

    @router.post("/organizations/{org_id}/reservations", status_code=201)
    async def create_reservation(
        org_id: str, request: Request, who: Principal = Depends(principal)
    ) -> JSONResponse:
        body = await parse_body(request, ReservationCreate)
        row = await _call(
            reservations.create_reservation,
            platform_of(request),
            who,
            org_id,
            backend=body.backend,
            starts_at=body.starts_at,
            ends_at=body.ends_at,
        )
        return JSONResponse(backend_wire.reservation(row), status_code=201)

    @router.post("/reservations/{reservation_id}/approve")
    async def approve_reservation(
        reservation_id: str, request: Request, who: Principal = Depends(principal)
    ) -> JSONResponse:
        row = await _call(reservations.approve_reservation, platform_of(request), who, reservation_id)
        return JSONResponse(backend_wire.reservation(row))

    @router.delete("/reservations/{reservation_id}")
    async def cancel_reservation(
        reservation_id: str, request: Request, who: Principal = Depends(principal)
    ) -> JSONResponse:
        row = await _call(reservations.cancel_reservation, platform_of(request), who, reservation_id)
        return JSONResponse(backend_wire.reservation(row))

    @router.put("/jobs/{job_id}/priority")
    async def set_priority(
        job_id: str, request: Request, who: Principal = Depends(principal)
    ) -> JSONResponse:
        body = await parse_body(request, TierUpdate)
        changed = await _call(priority.set_tier, platform_of(request), who, job_id, body.tier)
        return JSONResponse({"id": job_id, "tier": body.tier, "queued_executions": changed})

    return router
