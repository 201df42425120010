"""My Jobs (search, filters, paging, live status, bulk cancel) and a job's page (live panel,
histogram, downloads, cancel, run again)."""

from __future__ import annotations

from datetime import datetime, time, timezone
from typing import Any

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from qumulus.auth.principal import Principal
from qumulus.console import job_page, web
from qumulus.errors import InvalidRequest, NotFound, QumulusError
from qumulus.services import jobs
from qumulus.services.backends import catalog as backends
from qumulus.services.billing import contracts
from qumulus.services.jobs import ACTIVE, JobQuery
from qumulus.services.tenancy import console_sessions, users

STATUSES = ("submitted", "ready", "started", "completed", "failed", "canceled")
PAGE_SIZE = 25
MAX_BULK = 100


def build() -> APIRouter:
    router = APIRouter(prefix=f"{web.PREFIX}/jobs", route_class=web.ConsoleRoute)

    @router.get("")
    async def list_page(request: Request) -> Response:
        me = await web.member_of_project(request)
        platform = web.platform_of(request)
        filters = _filters(request)
        principal = await run_in_threadpool(console_sessions.principal_for, platform, me, filters["project"])
        context = await run_in_threadpool(_list, platform, principal, filters)
        return web.page(request, me, "jobs.html", {**context, "nav": "jobs"})

    @router.get("/cancel")
    async def confirm_bulk_cancel(request: Request) -> Response:
        """The confirmation step of *Cancel selected* (without scripts, or when a script sent the
        form unconfirmed): which jobs, by name, and one button."""
        me = await web.member_of_project(request)
        principal = await _principal(request, me)
        ids = request.query_params.getlist("job_id")[:MAX_BULK]
        found = await run_in_threadpool(_views, web.platform_of(request), principal, ids)
        return web.page(
            request,
            me,
            "confirm_cancel.html",
            {"targets": found, "project_id": principal.project_id, "nav": "jobs"},
        )

    @router.post("/cancel")
    async def bulk_cancel(request: Request) -> Response:
        me = await web.member_of_project(request)
        form = await web.form_checked(request, me)
        principal = await _principal(request, me, form.get("project"))
        ids = form.get("job_id") or []
        ids = [ids] if isinstance(ids, str) else list(ids)
        back = web.url("/jobs", project=principal.project_id)
        if not ids:
            return web.done(request, back, "Select the jobs to cancel first.", kind="error")
        if form.get("confirmed") != "yes":
            return web.redirect(
                request, web.url("/jobs/cancel", job_id=ids[:MAX_BULK], project=principal.project_id)
            )
        try:
            done, missing = await run_in_threadpool(
                jobs.bulk, web.platform_of(request), principal, ids[:MAX_BULK], "cancel"
            )
        except QumulusError as exc:
            return web.refused(request, back, exc)
        text = f"Canceled {len(done)} job{'s' if len(done) != 1 else ''}." + (
            f" {len(missing)} could not be canceled (finished or not found)." if missing else ""
        )
        return web.done(request, back, text)

    @router.get("/{job_id}/status")
    async def status_cell(request: Request, job_id: str) -> Response:
        """One row's status badge; it keeps polling itself while the job is active."""
        me = await web.member_of_project(request)
        principal = await _principal(request, me)
        view = await run_in_threadpool(jobs.get_job, web.platform_of(request), principal, job_id)
        return web.render(
            request, "_status.html", {"job": view.job, "active": ACTIVE, "project_id": principal.project_id}
        )

    @router.get("/{job_id}/panel")
    async def panel(request: Request, job_id: str) -> Response:
        """Status, outlook, timeline, usage, failure and histogram: polled while the job runs."""
        me = await web.member_of_project(request)
        principal = await _principal(request, me)
        context = await run_in_threadpool(
            job_page.live, web.platform_of(request), principal, job_id, _scale(request)
        )
        return web.render(request, "_job_panel.html", {**context, "csrf_token": me.csrf_token, "me": me})

    @router.get("/{job_id}/cancel")
    async def confirm_cancel(request: Request, job_id: str) -> Response:
        me = await web.member_of_project(request)
        principal = await _principal(request, me)
        found = await run_in_threadpool(_views, web.platform_of(request), principal, [job_id])
        if not found:
            raise NotFound(f"Job {job_id} not found.")
        return web.page(
            request,
            me,
            "confirm_cancel.html",
            {"targets": found, "project_id": principal.project_id, "nav": "jobs", "single": True},
        )

    @router.post("/{job_id}/cancel")
    async def cancel(request: Request, job_id: str) -> Response:
        me = await web.member_of_project(request)
        form = await web.form_checked(request, me)
        principal = await _principal(request, me, form.get("project"))
        back = web.url(f"/jobs/{job_id}", project=principal.project_id)
        if form.get("confirmed") != "yes":
            return web.redirect(request, web.url(f"/jobs/{job_id}/cancel", project=principal.project_id))
        try:
            await run_in_threadpool(jobs.cancel_job, web.platform_of(request), principal, job_id)
        except QumulusError as exc:
            if exc.status_code == 404:
                raise
            return web.refused(request, back, exc)
        return web.done(request, back, "Job canceled. Nothing is charged for work that did not run.")

    @router.post("/{job_id}/rerun")
    async def rerun(request: Request, job_id: str) -> Response:
        """Submit the same job again (same backend, circuit, shots, settings) as a new job."""
        me = await web.member_of_project(request)
        form = await web.form_checked(request, me)
        principal = await _principal(request, me, form.get("project"))
        platform = web.platform_of(request)
        spec = await run_in_threadpool(job_page.spec_of, platform, principal, job_id)
        back = web.url(f"/jobs/{job_id}", project=principal.project_id)
        try:
            view = await run_in_threadpool(jobs.submit_job, platform, principal, spec)
        except QumulusError as exc:
            return web.refused(request, back, exc)
        return web.done(
            request,
            web.url(f"/jobs/{view.job.id}", project=principal.project_id),
            f"Submitted again as a new job (from {job_id[:8]}).",
        )

    @router.get("/{job_id}/download/{what}.{form}")
    async def download(request: Request, job_id: str, what: str, form: str) -> Response:
        me = await web.member_of_project(request)
        principal = await _principal(request, me)
        if what not in job_page.WHATS or form not in job_page.FORMATS:
            raise NotFound(f"No download {what}.{form}: one of counts, probabilities, shots as csv or json.")
        body, media = await run_in_threadpool(
            job_page.download, web.platform_of(request), principal, job_id, what, form
        )
        name = f"job-{job_id[:8]}-{what}.{form}"
        return StreamingResponse(
            body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'}
        )

    @router.get("/{job_id}")
    async def detail(request: Request, job_id: str) -> Response:
        me = await web.member_of_project(request)
        principal = await _principal(request, me)
        context = await run_in_threadpool(
            job_page.detail, web.platform_of(request), principal, job_id, _scale(request)
        )
        return web.page(request, me, "job.html", {**context, "nav": "jobs"})

    return router


async def _principal(request: Request, me: console_sessions.ConsoleUser, project: Any = None) -> Principal:
    project_id = project if isinstance(project, str) and project else request.query_params.get("project")
    return await run_in_threadpool(console_sessions.principal_for, web.platform_of(request), me, project_id)


def _scale(request: Request) -> str:
    scale = request.query_params.get("scale", "probability")
    return scale if scale in job_page.SCALES else "probability"


def _filters(request: Request) -> dict[str, Any]:
    q = request.query_params
    trail = [c for c in (q.get("trail") or "").split(".") if c]
    return {
        "project": q.get("project") or None,
        "q": (q.get("q") or "").strip()[:200],
        "status": [s for s in q.getlist("status") if s in STATUSES],
        "backend": q.get("backend") or "",
        "after": q.get("after") or "",
        "before": q.get("before") or "",
        "cursor": q.get("cursor") or "",
        "trail": trail[:50],
    }


def _day(value: str, field: str, end: bool = False) -> datetime | None:
    if not value:
        return None
    try:
        day = datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        raise InvalidRequest(f"{field}: a date like 2026-01-31, got {value!r}", field=field) from None
    return datetime.combine(day, time.max if end else time.min, tzinfo=timezone.utc)


def _list(platform: Any, principal: Principal, filters: dict[str, Any]) -> dict[str, Any]:
    query = JobQuery(
        status=filters["status"] or None,
        backend=filters["backend"] or None,
        created_after=_day(filters["after"], "after"),
        created_before=_day(filters["before"], "before", end=True),
        text=filters["q"] or None,
        cursor=filters["cursor"] or None,
        limit=PAGE_SIZE,
    )
    views, following = jobs.list_jobs(platform, principal, query)
    names = [b.name for b, _ in backends.list_backends(platform)]
    emails = users.emails(platform, [v.job.submitter_id for v in views])
    prices = contracts.prices(platform, principal, names)
    base = {k: filters[k] for k in ("q", "status", "backend", "after", "before")}
    base["project"] = principal.project_id
    next_url = prev_url = None
    if following:
        next_url = web.url(
            "/jobs", **base, cursor=following, trail=".".join([*filters["trail"], filters["cursor"] or "0"])
        )
    if filters["cursor"]:
        trail = filters["trail"]
        back_to = trail[-1] if trail and trail[-1] != "0" else ""
        prev_url = web.url("/jobs", **base, cursor=back_to, trail=".".join(trail[:-1]))
    page_number = len(filters["trail"]) + 1 if filters["cursor"] else 1
    return {
        "jobs": views,
        "emails": emails,
        "currency": {name: p.currency for name, p in prices.items()},
        "filters": filters,
        "statuses": STATUSES,
        "backends": names,
        "project_id": principal.project_id,
        "active": ACTIVE,
        "next_url": next_url,
        "prev_url": prev_url,
        "page_number": page_number,
        "page_size": PAGE_SIZE,
        "filtered": any(filters[k] for k in ("q", "status", "backend", "after", "before")),
    }


def _views(platform: Any, principal: Principal, ids: list[str]) -> list[Any]:
    """The jobs among ``ids`` the caller can read (others are left out, as the bulk call does)."""
    found = []
    for job_id in ids:
        try:
            found.append(jobs.get_job(platform, principal, job_id).job)
        except NotFound:
            continue
    return found
