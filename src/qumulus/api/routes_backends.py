"""Backends, characterizations (qiskit and ionq shapes), cirq's calibrations, and whoami."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Query
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from qumulus.api.body import read_json
from qumulus.api.deps import platform_of, principal
from qumulus.auth.principal import Principal
from qumulus.backends.catalog import DEFAULT_QPU
from qumulus.errors import NotFound
from qumulus.services.backends import catalog as svc
from qumulus.services.backends import reservations
from qumulus.services.backends import status as backend_status
from qumulus.values import parse_time
from qumulus.wire import backends as wire


def _current(platform: Any, backends: list[Any]) -> dict[str, tuple[str, str]]:
    """(status, message) in force now per backend: a maintenance window overrides the row."""
    return {n: (e.status, e.message) for n, e in backend_status.current(platform, backends).items()}


def _status(platform: Any, backend_name: str) -> str:
    """The wire status of a backend now (the characterization's ``status``: qiskit's ``status()``)."""
    backend = svc.get_backend(platform, backend_name)
    status, _ = _current(platform, [backend])[backend.name]
    return wire.BACKEND_STATUS.get(status, "unavailable")


def _when(value: str | None, field: str) -> datetime | None:
    """ISO-8601, epoch seconds or epoch milliseconds (cirq sends ms) → datetime."""
    if value is None or value == "":
        return None
    return parse_time(value, field, epoch_ms_above=1e11)


async def _history(
    platform: Any, name: str, limit: int, page: int, start: str | None, end: str | None, *, epoch_date: bool
) -> JSONResponse:
    """A page of a backend's characterizations, newest first (qiskit: ISO dates; ionq: epoch ints)."""
    rows, total = await run_in_threadpool(
        lambda: svc.characterizations(
            platform, name, start=_when(start, "start"), end=_when(end, "end"), limit=limit,
            offset=(page - 1) * limit,
        )
    )  # fmt: skip
    status = _status(platform, name)
    return JSONResponse(
        {
            "characterizations": [
                wire.characterization(r, status=status, epoch_date=epoch_date) for r in rows
            ],
            "pages": max(1, -(-total // limit)),
        }
    )


def build(version: str) -> APIRouter:
    router = APIRouter(prefix=f"/{version}")

    @router.get("/backends")
    async def list_backends(request: Request) -> JSONResponse:
        platform = platform_of(request)
        rows = await run_in_threadpool(svc.list_with_queues, platform)
        now = await run_in_threadpool(_current, platform, [b for b, _, _ in rows])
        windows = await run_in_threadpool(reservations.reserved_windows, platform)
        return JSONResponse(
            [
                wire.backend_v04(b, pending, queue_ms, current=now[b.name], reserved=windows.get(b.name, []))
                for b, pending, queue_ms in rows
            ]
        )

    @router.get("/backends/{name}")
    async def get_backend(name: str, request: Request) -> JSONResponse:
        platform = platform_of(request)
        backend, pending, queue_ms = await run_in_threadpool(svc.get_with_queue, platform, name)
        now = await run_in_threadpool(_current, platform, [backend])
        windows = await run_in_threadpool(reservations.reserved_windows, platform)
        reserved = windows.get(backend.name, [])
        return JSONResponse(
            wire.backend_v04(backend, pending, queue_ms, current=now[backend.name], reserved=reserved)
        )

    @router.get("/backends/{name}/characterizations")
    async def backend_characterizations(
        name: str,
        request: Request,
        limit: int = Query(10, ge=1, le=100),
        page: int = Query(1, ge=1),
        start: str | None = None,
        end: str | None = None,
    ) -> JSONResponse:
        return await _history(platform_of(request), name, limit, page, start, end, epoch_date=False)

    @router.get("/backends/{name}/characterizations/{characterization_id}")
    async def backend_characterization(name: str, characterization_id: str, request: Request) -> JSONResponse:
        platform = platform_of(request)
        row = await run_in_threadpool(svc.characterization, platform, characterization_id)
        if row.backend != svc.get_backend(platform, name).name:
            raise NotFound(f"Characterization {characterization_id} not found for {name}.")
        return JSONResponse(wire.characterization(row, status=_status(platform, row.backend)))

    # The ionq package's v0.3-style paths (epoch-second dates).
    @router.get("/characterizations/backends/{name}/current")
    async def current_characterization(name: str, request: Request) -> JSONResponse:
        platform = platform_of(request)
        rows, _ = await run_in_threadpool(lambda: svc.characterizations(platform, name, limit=1))
        if not rows:
            raise NotFound(f"Backend {name} has no characterization (simulators have none).")
        return JSONResponse(wire.characterization(rows[0], status=_status(platform, name), epoch_date=True))

    @router.get("/characterizations/backends/{name}")
    async def characterization_history(
        name: str,
        request: Request,
        limit: int = Query(10, ge=1, le=100),
        page: int = Query(1, ge=1),
        start: str | None = None,
        end: str | None = None,
    ) -> JSONResponse:
        return await _history(platform_of(request), name, limit, page, start, end, epoch_date=True)

    @router.get("/characterizations/{characterization_id}")
    async def characterization_by_id(characterization_id: str, request: Request) -> JSONResponse:
        platform = platform_of(request)
        row = await run_in_threadpool(svc.characterization, platform, characterization_id)
        return JSONResponse(
            wire.characterization(row, status=_status(platform, row.backend), epoch_date=True)
        )

    # cirq's legacy calibration paths (the default QPU's snapshots; ISO dates with milliseconds).
    @router.get("/calibrations/current")
    async def current_calibration(request: Request) -> JSONResponse:
        platform = platform_of(request)
        rows, _ = await run_in_threadpool(lambda: svc.characterizations(platform, DEFAULT_QPU, limit=1))
        if not rows:
            raise NotFound("No calibration available.")
        return JSONResponse(wire.calibration(rows[0], status=_status(platform, DEFAULT_QPU)))

    @router.get("/calibrations")
    async def calibrations(
        request: Request,
        start: str | None = None,
        end: str | None = None,
        limit: int | None = Query(None, ge=1, le=1000),
        next: str | None = None,
    ) -> JSONResponse:
        platform = platform_of(request)
        body = await read_json(request, 1 << 20, required=False)
        if limit is None and isinstance(body, dict) and isinstance(body.get("limit"), int):
            limit = max(1, min(1000, body["limit"]))
        size = limit or 100
        offset = int(next) if next and next.isdigit() else 0
        rows, total = await run_in_threadpool(
            lambda: svc.characterizations(
                platform,
                DEFAULT_QPU,
                start=_when(start, "start"),
                end=_when(end, "end"),
                limit=size,
                offset=offset,
            )
        )
        status = _status(platform, DEFAULT_QPU)
        payload: dict[str, Any] = {"calibrations": [wire.calibration(r, status=status) for r in rows]}
        if offset + len(rows) < total:
            payload["next"] = str(offset + len(rows))
        return JSONResponse(payload)

    @router.get("/whoami")
    async def whoami(who: Principal = Depends(principal)) -> JSONResponse:
        return JSONResponse(
            {
                "organization_id": who.organization_id,
                "project_id": who.project_id,
                "user_id": who.user_id,
                "api_key_id": who.api_key_id,
                "scopes": sorted(who.scopes),
            }
        )

    return router
