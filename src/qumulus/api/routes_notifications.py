"""Notification settings: project webhooks and the caller's failure-email preference (``/v0.4`` only).

* ``GET/POST /v0.4/projects/{id}/webhooks``, ``DELETE /v0.4/projects/{id}/webhooks/{webhook_id}``
* ``PATCH /v0.4/users/me`` (``{"notify_on_failure": bool}``; ``GET`` is the tenancy router's)
"""

from __future__ import annotations

from fastapi import APIRouter, Depends
from pydantic import Field, StrictBool, StrictStr
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from qumulus.api.bodies import StrictBody, parse_body
from qumulus.api.deps import platform_of, principal
from qumulus.auth.principal import Principal
from qumulus.services.tenancy import webhooks as svc
from qumulus.wire import tenancy as tenancy_wire
from qumulus.wire import tenancy as wire

BODY_LIMIT = 64 * 1024


class WebhookCreate(StrictBody):
    #: The http(s) URL to POST job events to.
    url: StrictStr = Field(max_length=2048)
    #: Default: every event.
    events: list[StrictStr] | None = None


class UserUpdate(StrictBody):
    notify_on_failure: StrictBool


def build() -> APIRouter:
    router = APIRouter(prefix="/v0.4")

    @router.get("/projects/{project_id}/webhooks")
    async def list_webhooks(
        project_id: str, request: Request, who: Principal = Depends(principal)
    ) -> JSONResponse:
        views = await run_in_threadpool(svc.list_webhooks, platform_of(request), who, project_id)
        return JSONResponse({"webhooks": [wire.webhook(v) for v in views]})

    @router.post("/projects/{project_id}/webhooks", status_code=201)
    async def create_webhook(
        project_id: str, request: Request, who: Principal = Depends(principal)
    ) -> JSONResponse:
        body = await parse_body(request, WebhookCreate, max_bytes=BODY_LIMIT)
        view = await run_in_threadpool(
            svc.create_webhook, platform_of(request), who, project_id, body.url, body.events
        )
        return JSONResponse(wire.webhook(view), status_code=201)

    @router.delete("/projects/{project_id}/webhooks/{webhook_id}")
    async def delete_webhook(
        project_id: str, webhook_id: str, request: Request, who: Principal = Depends(principal)
    ) -> JSONResponse:
        deleted = await run_in_threadpool(
            svc.delete_webhook, platform_of(request), who, project_id, webhook_id
        )
        return JSONResponse({"id": deleted, "status": "deleted"})

    @router.patch("/users/me")
    async def update_me(request: Request, who: Principal = Depends(principal)) -> JSONResponse:
        body = await parse_body(request, UserUpdate, max_bytes=BODY_LIMIT)
        view = await run_in_threadpool(
            svc.set_notify_on_failure, platform_of(request), who, body.notify_on_failure
        )
        return JSONResponse(tenancy_wire.user(view))

    return router
