"""Driver-served backends, declared by administrators (``/v0.4/admin/backends``; docs/drivers.md).

* ``GET    /admin/backends``: every declaration, with the credential's *place* (never a key);
* ``PUT    /admin/backends/{name}``: declare or change one (the same fields as a ``[[backend]]`` of
  the backends file); the running workers pick it up within seconds;
* ``DELETE /admin/backends/{name}``: retire it (new jobs refused; queued ones still drain).

HTTP only: the rules are :mod:`qumulus.services.backends.drivers`.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from qumulus.api.body import read_json
from qumulus.api.deps import platform_of, principal
from qumulus.auth.principal import Principal
from qumulus.errors import InvalidRequest
from qumulus.services.backends import drivers as svc
from qumulus.wire import backends as wire

#: A declaration is a few hundred bytes; a megabyte is plenty.
MAX_BODY = 1 << 20


def build() -> APIRouter:
    router = APIRouter(prefix="/v0.4/admin")

    @router.get("/backends")
    async def list_declared(request: Request, who: Principal = Depends(principal)) -> JSONResponse:
        rows = await run_in_threadpool(svc.list_declared, platform_of(request), who)
        return JSONResponse({"backends": [svc.describe(*row) for row in rows]})

    @router.put("/backends/{name}")
    async def declare(name: str, request: Request, who: Principal = Depends(principal)) -> JSONResponse:
        body: Any = await read_json(request, MAX_BODY)
        if not isinstance(body, dict):
            raise InvalidRequest(
                "body: a JSON object (the fields of a [[backend]] declaration)", field="body"
            )
        if body.setdefault("name", name) != name:
            raise InvalidRequest("name: must match the backend in the path", field="name")
        platform = platform_of(request)
        await run_in_threadpool(svc.declare, platform, who, body)
        rows = await run_in_threadpool(svc.list_declared, platform, who)
        (row,) = [r for r in rows if r[0].name == name]
        return JSONResponse(svc.describe(*row))

    @router.delete("/backends/{name}")
    async def retire(name: str, request: Request, who: Principal = Depends(principal)) -> JSONResponse:
        backend = await run_in_threadpool(svc.retire, platform_of(request), who, name)
        return JSONResponse(wire.backend_v04(backend))

    return router
