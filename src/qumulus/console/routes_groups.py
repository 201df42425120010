"""Jobs that belong together: job sets (one list of circuits split into jobs) and sessions (a run of
jobs on one backend with limits). Lists, a page each, and their actions."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from qumulus.console import web
from qumulus.errors import QumulusError
from qumulus.services import jobs
from qumulus.services.jobs import ACTIVE, JobQuery, sessions, sets

PAGE_SIZE = 25


def build() -> APIRouter:
    router = APIRouter(prefix=web.PREFIX, route_class=web.ConsoleRoute)

    @router.get("/job-sets")
    async def job_sets(request: Request) -> Response:
        me = await web.member_of_project(request)
        cursor = request.query_params.get("cursor") or None
        rows, following = await run_in_threadpool(
            sets.list_job_sets, web.platform_of(request), me.principal, PAGE_SIZE, cursor
        )
        return web.page(
            request,
            me,
            "job_sets.html",
            {
                "sets": rows,
                "next_url": web.url("/job-sets", cursor=following) if following else None,
                "first_url": web.url("/job-sets") if cursor else None,
                "nav": "job-sets",
            },
        )

    @router.get("/job-sets/{set_id}")
    async def job_set(request: Request, set_id: str) -> Response:
        me = await web.member_of_project(request)
        found = await run_in_threadpool(sets.get_job_set, web.platform_of(request), me.principal, set_id)
        return web.page(request, me, "job_set.html", {"set": found, "active": ACTIVE, "nav": "job-sets"})

    @router.post("/job-sets/{set_id}/cancel")
    async def cancel_set(request: Request, set_id: str) -> Response:
        return await _act(
            request, f"/job-sets/{set_id}", lambda p, who: sets.cancel_job_set(p, who, set_id),
            "Canceled the set's waiting and running jobs; finished ones keep their results.",
        )  # fmt: skip

    @router.post("/job-sets/{set_id}/rerun")
    async def rerun_failed(request: Request, set_id: str) -> Response:
        return await _act(
            request, f"/job-sets/{set_id}", lambda p, who: sets.rerun_failed(p, who, set_id),
            "Submitted the failed and canceled jobs of the set again.",
        )  # fmt: skip

    @router.get("/sessions")
    async def session_list(request: Request) -> Response:
        me = await web.member_of_project(request)
        cursor = request.query_params.get("cursor") or None
        rows, following = await run_in_threadpool(
            lambda: sessions.list_sessions(
                web.platform_of(request), me.principal, limit=PAGE_SIZE, cursor=cursor
            )
        )
        return web.page(
            request,
            me,
            "sessions.html",
            {
                "sessions": rows,
                "next_url": web.url("/sessions", cursor=following) if following else None,
                "first_url": web.url("/sessions") if cursor else None,
                "nav": "sessions",
            },
        )

    @router.get("/sessions/{session_id}")
    async def session_page(request: Request, session_id: str) -> Response:
        me = await web.member_of_project(request)
        context = await run_in_threadpool(_session, web.platform_of(request), me.principal, session_id)
        return web.page(request, me, "session.html", {**context, "nav": "sessions"})

    @router.post("/sessions/{session_id}/end")
    async def end_session(request: Request, session_id: str) -> Response:
        return await _act(
            request, f"/sessions/{session_id}", lambda p, who: sessions.end_session(p, who, session_id),
            "Session ended: it takes no more jobs; the jobs already in it carry on.",
        )  # fmt: skip

    return router


async def _act(request: Request, path: str, change: Any, text: str) -> Response:
    me = await web.member_of_project(request)
    await web.form_checked(request, me)
    back = web.url(path)
    try:
        await run_in_threadpool(change, web.platform_of(request), me.principal)
    except QumulusError as exc:
        if exc.status_code == 404:
            raise
        return web.refused(request, back, exc)
    return web.done(request, back, text)


def _session(platform: Any, principal: Any, session_id: str) -> dict[str, Any]:
    view = sessions.get_session(platform, principal, session_id)
    members, _ = jobs.list_jobs(platform, principal, JobQuery(session_id=session_id, limit=100))
    return {"session": view, "jobs": members, "active": ACTIVE, "project_id": principal.project_id}
