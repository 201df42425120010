"""``GET /metrics``: Prometheus text exposition, no key (aggregate figures only).

Figures are computed when scraped (:mod:`qumulus.platform.metrics`), in the thread pool since they
read the database; no middleware counts requests, so the job routes pay nothing for this one.
``QUMULUS_METRICS=0`` leaves the route out (a 404).
"""

from __future__ import annotations

from fastapi import APIRouter
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from qumulus.platform import Platform
from qumulus.platform.metrics import registry_for


def build(platform: Platform) -> APIRouter:
    router = APIRouter()
    if not platform.settings.metrics:
        return router
    registry = registry_for(platform)

    @router.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        body = await run_in_threadpool(generate_latest, registry)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    return router
