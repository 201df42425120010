"""Endpoints the Qumulus SDK uses beyond the IonQ API (all under ``/v0.4``).

* ``POST /jobs/status`` ``{"ids": [...]}``: many jobs' statuses in one request;
* ``PATCH /jobs/{id}`` ``{"name"?, "tags"?}``: rename / retag a job;
* ``GET /jobs/{id}/queue``: queue position and estimated start and end;
* ``GET /job_limit``: the project's active-job cap and how many jobs are active;
* ``GET /backends/{name}/properties[?at=]``: per-qubit and per-pair calibration, now or at a date;
* job sets: ``POST /job_sets``, ``GET /job_sets``, ``GET /job_sets/{id}``,
  ``PUT /job_sets/{id}/status/cancel``, ``POST /job_sets/{id}/rerun``.

The push channel for job status is in ``api/routes_events.py``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from qumulus.api import sdk_filters
from qumulus.api.body import read_json
from qumulus.api.deps import platform_of, principal
from qumulus.auth.principal import Principal
from qumulus.errors import InvalidRequest, NotFound
from qumulus.services.backends import catalog as backend_svc
from qumulus.services.backends import properties
from qumulus.services.jobs import extras as job_extras
from qumulus.services.jobs import sets as job_sets
from qumulus.timeutil import iso
from qumulus.values import MAX_NAME, optional_name
from qumulus.wire import jobs as wire
from qumulus.wire.requests import _object, _shots, request_digest

MAX_BULK_STATUS = 1000


def build() -> APIRouter:
    router = APIRouter(prefix="/v0.4")

    @router.post("/jobs/status")
    async def bulk_status(request: Request, who: Principal = Depends(principal)) -> JSONResponse:
        body = await read_json(request, 1 << 20)
        ids = sdk_filters.ids(body, maximum=MAX_BULK_STATUS)
        found, missing = await run_in_threadpool(job_extras.bulk_status, platform_of(request), who, ids)
        payload: dict[str, Any] = {"jobs": found}
        if missing:
            payload["not_found"] = missing
        return JSONResponse(payload)

    @router.patch("/jobs/{job_id}")
    async def update_job(job_id: str, request: Request, who: Principal = Depends(principal)) -> JSONResponse:
        changes = sdk_filters.job_update(await read_json(request, 1 << 20))
        view = await run_in_threadpool(job_extras.update_job, platform_of(request), who, job_id, changes)
        return JSONResponse(wire.job_v04(view))

    @router.get("/jobs/{job_id}/queue")
    async def queue(job_id: str, request: Request, who: Principal = Depends(principal)) -> JSONResponse:
        info = await run_in_threadpool(job_extras.queue_info, platform_of(request), who, job_id)
        return JSONResponse(
            {
                "id": info.job_id,
                "status": info.status,
                "position": info.position,
                "jobs_ahead": info.ahead,
                "estimated_start_time": iso(info.estimated_start),
                "estimated_complete_time": iso(info.estimated_complete),
            }
        )

    @router.get("/job_limit")
    async def job_limit(request: Request, who: Principal = Depends(principal)) -> JSONResponse:
        return JSONResponse(await run_in_threadpool(job_extras.job_limit, platform_of(request), who))

    @router.get("/backends/{name}/properties")
    async def backend_properties(name: str, request: Request, at: str | None = None) -> JSONResponse:
        platform = platform_of(request)
        when = sdk_filters.when(at, "at")
        backend = await run_in_threadpool(backend_svc.get_backend, platform, name)
        found = await run_in_threadpool(properties.backend_properties, platform, backend.name, when)
        if found is None:
            suffix = f" on or before {iso(when)}" if when is not None else ""
            raise NotFound(f"Backend {backend.name} has no characterization{suffix} (simulators have none).")
        return JSONResponse(found)

    @router.post("/job_sets", status_code=201)
    async def create_job_set(request: Request, who: Principal = Depends(principal)) -> JSONResponse:
        platform = platform_of(request)
        body = await read_json(request, platform.settings.max_request_bytes)
        key = request.headers.get("idempotency-key")
        if key is not None and not 1 <= len(key) <= 200:
            raise InvalidRequest("Idempotency-Key: must be 1 to 200 characters", field="Idempotency-Key")
        spec = _job_set_spec(body, key)
        summary = await run_in_threadpool(job_sets.create_job_set, platform, who, spec)
        return JSONResponse(summary, status_code=201)

    @router.get("/job_sets")
    async def list_job_sets(
        request: Request,
        who: Principal = Depends(principal),
        limit: int | None = Query(None),
        next: str | None = Query(None),
        name: str | None = Query(None),
    ) -> JSONResponse:
        if name is not None and len(name) > MAX_NAME:
            raise InvalidRequest(f"name: at most {MAX_NAME} characters", field="name")
        rows, cursor = await run_in_threadpool(
            job_sets.list_job_sets, platform_of(request), who, limit, next, name=name
        )
        payload: dict[str, Any] = {"job_sets": rows}
        if cursor is not None:
            payload["next"] = cursor
        return JSONResponse(payload)

    @router.get("/job_sets/{set_id}")
    async def get_job_set(set_id: str, request: Request, who: Principal = Depends(principal)) -> JSONResponse:
        return JSONResponse(await run_in_threadpool(job_sets.get_job_set, platform_of(request), who, set_id))

    @router.put("/job_sets/{set_id}/status/cancel")
    async def cancel_job_set(
        set_id: str, request: Request, who: Principal = Depends(principal)
    ) -> JSONResponse:
        platform = platform_of(request)
        summary = await run_in_threadpool(job_sets.cancel_job_set, platform, who, set_id)
        canceled = [(m["id"], "canceled") for m in summary["jobs"] if m["status"] == "canceled"]
        platform.completions.publish(canceled)  # wakes ?wait= and event streams at once
        return JSONResponse(summary)

    @router.post("/job_sets/{set_id}/rerun")
    async def rerun(set_id: str, request: Request, who: Principal = Depends(principal)) -> JSONResponse:
        return JSONResponse(await run_in_threadpool(job_sets.rerun_failed, platform_of(request), who, set_id))

    return router


def _job_set_spec(body: Any, key: str | None) -> job_sets.JobSetSpec:
    """A ``POST /job_sets`` body → spec; every bad value is a 400 naming its field."""
    if not isinstance(body, dict):
        raise InvalidRequest("body: expected a JSON object", field="body")
    allowed = {"backend", "circuits", "name", "tags", "shots", "gateset", "max_experiments_per_job"}
    allowed |= {"metadata", "settings", "noise"}
    for name in body:
        if name not in allowed:
            raise InvalidRequest(f"{name}: unknown field; allowed: {', '.join(sorted(allowed))}", field=name)
    backend = body.get("backend")
    if not isinstance(backend, str) or not backend.strip():
        raise InvalidRequest('backend: required, e.g. "simulator"', field="backend")
    circuits = body.get("circuits")
    if not isinstance(circuits, list) or not circuits:
        raise InvalidRequest(
            'circuits: required, a non-empty list of {"circuit": [gates...], "name"?: ...}', field="circuits"
        )
    for index, entry in enumerate(circuits):
        if not isinstance(entry, dict):
            raise InvalidRequest(
                f"circuits[{index}]: must be an object with a circuit", field=f"circuits[{index}]"
            )
    name = optional_name(body.get("name")) or ""
    gateset = body.get("gateset", "qis")
    if gateset not in ("qis", "native"):
        raise InvalidRequest('gateset: "qis" or "native"', field="gateset")
    per_job = body.get("max_experiments_per_job")
    if per_job is not None and (isinstance(per_job, bool) or not isinstance(per_job, int) or per_job < 1):
        raise InvalidRequest(
            "max_experiments_per_job: must be a positive integer", field="max_experiments_per_job"
        )
    noise = body.get("noise")
    if noise is not None and not isinstance(noise, dict):
        raise InvalidRequest('noise: must be an object like {"model": "ideal"}', field="noise")
    return job_sets.JobSetSpec(
        backend=backend,
        circuits=circuits,
        name=name,
        tags=sdk_filters.tags(body.get("tags"), "tags"),
        shots=_shots(body.get("shots")),
        gateset=gateset,
        max_experiments_per_job=per_job,
        metadata=_object(body, "metadata"),
        settings=_object(body, "settings"),
        noise=noise,
        idempotency_key=key,
        idempotency_hash=request_digest(body) if key else None,
    )
