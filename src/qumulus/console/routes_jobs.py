"""My Jobs: the list (filters, live status, bulk cancel), submission, and a job's detail page."""

from __future__ import annotations

import json
from datetime import datetime, time, timezone
from typing import Any

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from qumulus.auth.principal import Principal
from qumulus.console import charts, web
from qumulus.errors import InvalidRequest, QumulusError
from qumulus.services import jobs
from qumulus.services.backends import catalog as backends
from qumulus.services.jobs import ACTIVE, JobQuery, JobSpec, results
from qumulus.services.jobs import inputs as job_input
from qumulus.services.tenancy import console_sessions

STATUSES = ("submitted", "ready", "started", "completed", "failed", "canceled")
STEPS = ("submitted_at", "ready_at", "started_at", "completed_at", "canceled_at")


def build() -> APIRouter:
    router = APIRouter(prefix=f"{web.PREFIX}/jobs", route_class=web.ConsoleRoute)

    @router.get("")
    async def list_page(request: Request) -> Response:
        me = await web.user_of(request)
        platform = web.platform_of(request)
        filters = _filters(request)
        principal = await run_in_threadpool(console_sessions.principal_for, platform, me, filters["project"])
        views = await run_in_threadpool(_list, platform, principal, filters)
        names = [b.name for b, _ in await run_in_threadpool(backends.list_backends, platform)]
        return web.page(
            request,
            me,
            "jobs.html",
            {
                "jobs": views,
                "filters": filters,
                "statuses": STATUSES,
                "backends": names,
                "project_id": principal.project_id,
                "active": ACTIVE,
                "message": request.query_params.get("message", ""),
            },
        )

    @router.get("/{job_id}/status")
    async def status_cell(request: Request, job_id: str) -> Response:
        """One row's status badge; it keeps polling itself while the job is active."""
        me = await web.user_of(request)
        principal = await _principal(request, me)
        view = await run_in_threadpool(jobs.get_job, web.platform_of(request), principal, job_id)
        return web.render(
            request, "_status.html", {"job": view.job, "active": ACTIVE, "project_id": principal.project_id}
        )

    @router.post("/cancel")
    async def bulk_cancel(request: Request) -> Response:
        me = await web.user_of(request)
        form = await web.form_checked(request, me)
        principal = await _principal(request, me, form.get("project"))
        ids = form.get("job_id") or []
        ids = [ids] if isinstance(ids, str) else list(ids)
        if not ids:
            message = "Select the jobs to cancel first."
        else:
            done, missing = await run_in_threadpool(
                jobs.bulk, web.platform_of(request), principal, ids, "cancel"
            )
            message = f"Canceled {len(done)} job(s)." + (f" {len(missing)} not found." if missing else "")
        return RedirectResponse(
            f"{web.PREFIX}/jobs?project={principal.project_id}&message={message}", status_code=303
        )

    @router.get("/new")
    async def new_page(request: Request) -> Response:
        me = await web.user_of(request)
        names = [b.name for b, _ in await run_in_threadpool(backends.list_backends, web.platform_of(request))]
        return web.page(request, me, "submit.html", {"backends": names, "error": "", "form": {}})

    @router.post("/new")
    async def submit(request: Request) -> Response:
        me = await web.user_of(request)
        form = await web.form_checked(request, me)
        platform = web.platform_of(request)
        try:
            spec = _spec(form)
            view = await run_in_threadpool(jobs.submit_job, platform, me.principal, spec)
        except QumulusError as exc:
            names = [b.name for b, _ in await run_in_threadpool(backends.list_backends, platform)]
            return web.page(
                request,
                me,
                "submit.html",
                {"backends": names, "error": str(exc), "form": form},
                status_code=exc.status_code,
            )
        return RedirectResponse(f"{web.PREFIX}/jobs/{view.job.id}", status_code=303)

    @router.get("/{job_id}")
    async def detail(request: Request, job_id: str) -> Response:
        me = await web.user_of(request)
        principal = await _principal(request, me)
        context = await run_in_threadpool(_detail, web.platform_of(request), principal, job_id)
        return web.page(request, me, "job.html", context)

    @router.get("/{job_id}/panel")
    async def panel(request: Request, job_id: str) -> Response:
        """Status, steps, usage, failure and histogram: polled while the job runs."""
        me = await web.user_of(request)
        principal = await _principal(request, me)
        context = await run_in_threadpool(_live, web.platform_of(request), principal, job_id)
        return web.render(request, "_job_panel.html", {**context, "csrf_token": me.csrf_token})

    @router.post("/{job_id}/cancel")
    async def cancel(request: Request, job_id: str) -> Response:
        me = await web.user_of(request)
        form = await web.form_checked(request, me)
        principal = await _principal(request, me, form.get("project"))
        await run_in_threadpool(jobs.cancel_job, web.platform_of(request), principal, job_id)
        return RedirectResponse(f"{web.PREFIX}/jobs/{job_id}?project={principal.project_id}", status_code=303)

    return router


async def _principal(request: Request, me: console_sessions.ConsoleUser, project: Any = None) -> Principal:
    project_id = project if isinstance(project, str) and project else request.query_params.get("project")
    return await run_in_threadpool(console_sessions.principal_for, web.platform_of(request), me, project_id)


def _filters(request: Request) -> dict[str, Any]:
    q = request.query_params
    return {
        "project": q.get("project") or None,
        "status": [s for s in q.getlist("status") if s in STATUSES],
        "backend": q.get("backend") or "",
        "after": q.get("after") or "",
        "before": q.get("before") or "",
    }


def _day(value: str, field: str, end: bool = False) -> datetime | None:
    if not value:
        return None
    try:
        day = datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        raise InvalidRequest(f"{field}: a date like 2026-01-31, got {value!r}", field=field) from None
    return datetime.combine(day, time.max if end else time.min, tzinfo=timezone.utc)


def _list(platform: Any, principal: Principal, filters: dict[str, Any]) -> list[jobs.JobView]:
    query = JobQuery(
        status=filters["status"] or None,
        backend=filters["backend"] or None,
        created_after=_day(filters["after"], "after"),
        created_before=_day(filters["before"], "before", end=True),
        limit=100,
    )
    views, _ = jobs.list_jobs(platform, principal, query)
    return views


def _spec(form: dict[str, Any]) -> JobSpec:
    """The submit form as a job request: the IonQ JSON body's ``input`` (or a whole body)."""
    try:
        body = json.loads(str(form.get("input") or ""))
    except json.JSONDecodeError as exc:
        raise InvalidRequest(f"input: not JSON ({exc.msg} at line {exc.lineno})", field="input") from None
    if not isinstance(body, dict):
        raise InvalidRequest("input: must be a JSON object", field="input")
    if "input" in body and isinstance(body["input"], dict):  # a whole job body was pasted
        body = body["input"]
    try:
        shots = int(str(form.get("shots") or "100"))
    except ValueError:
        raise InvalidRequest("shots: a whole number", field="shots") from None
    job_type = "ionq.multi-circuit.v1" if "circuits" in body else "ionq.circuit.v1"
    return JobSpec(
        backend=str(form.get("backend") or "simulator"),
        job_type=job_type,
        input=body,
        shots=shots,
        name=str(form.get("name") or "") or None,
    )


def _live(platform: Any, principal: Principal, job_id: str) -> dict[str, Any]:
    view = jobs.get_job(platform, principal, job_id)
    job = view.job
    steps = [(s.removesuffix("_at"), getattr(job, s)) for s in STEPS if getattr(job, s) is not None]
    charts_: list[tuple[str, str, list[tuple[str, float]]]] = []
    if job.status == "completed" and not job.dry_run:
        got = results.job_results(platform, principal, job_id)
        for key, dist in got.items[:8]:
            bars = charts.top_outcomes(dist.as_dict(), dist.qubits)
            charts_.append((key, charts.histogram_svg(bars, title=f"Histogram of {key}"), bars))
    return {
        "job": job,
        "steps": steps,
        "charts": charts_,
        "active": ACTIVE,
        "project_id": principal.project_id,
    }


def _detail(platform: Any, principal: Principal, job_id: str) -> dict[str, Any]:
    view = jobs.get_job(platform, principal, job_id)
    batch = job_input.job_circuits(platform, principal, job_id)
    circuits = []
    for circuit in (batch.circuits if batch else ())[:8]:
        circuits.append(
            {
                "name": circuit.name or "",
                "qubits": circuit.qubits,
                "gates": len(circuit.operations),
                "counts": charts.gate_counts(circuit),
                "drawing": charts.circuit_text(circuit),
            }
        )
    from qumulus.wire import jobs as wire  # the same JSON the REST API returns for this job

    raw = json.dumps(wire.job_v04(view), indent=2, default=str)
    return {
        **_live(platform, principal, job_id),
        "circuits": circuits,
        "children": view.child_ids or [],
        "raw": raw,
    }
