"""Submitting a job: the form (IonQ JSON or OpenQASM, pasted or uploaded; clone of an earlier job),
its live preview and estimate, and the submission itself (post/redirect/get, refusals in plain
words that keep the draft)."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response

from qumulus.console import backend_info, job_page, submit_page, web
from qumulus.errors import InvalidRequest, PayloadTooLarge, QumulusError
from qumulus.services import jobs
from qumulus.services.tenancy.console_sessions import ConsoleUser

#: Draft fields kept across a refused submission (the one-time message carries them back).
DRAFT = ("name", "backend", "shots", "format", "source", "tags")


def build() -> APIRouter:
    router = APIRouter(prefix=f"{web.PREFIX}/jobs", route_class=web.ConsoleRoute)

    @router.get("/new")
    async def new_page(request: Request) -> Response:
        me = await web.member_of_project(request)
        platform = web.platform_of(request)
        refused = web.flash_of(request) or {}
        draft: dict[str, Any] = dict(refused.get("draft") or {})
        source_job = request.query_params.get("from")
        if source_job:  # clone: the form filled with an earlier job of this project
            spec = await run_in_threadpool(job_page.spec_of, platform, me.principal, source_job)
            draft = _draft_of(spec)
        shown = draft or {
            "source": submit_page.BELL_JSON,
            "format": "ionq",
            "backend": "simulator",
            "shots": "100",
        }
        context = await run_in_threadpool(_context, platform, me, draft, shown)
        return web.page(request, me, "submit.html", {**context, "cloned_from": source_job or ""})

    @router.post("/preview")
    async def preview(request: Request) -> Response:
        """The circuit drawing and the estimate for what the form holds now (htmx swaps it in;
        without scripts the whole form page comes back with it)."""
        me = await web.member_of_project(request)
        form = await _form(request, me)
        platform = web.platform_of(request)
        context = await run_in_threadpool(_context, platform, me, form, form)
        if request.headers.get("hx-request"):
            return web.render(request, "_preview.html", context)
        return web.page(request, me, "submit.html", {**context, "cloned_from": ""})

    @router.post("/new")
    async def submit(request: Request) -> Response:
        me = await web.member_of_project(request)
        platform = web.platform_of(request)
        form: dict[str, Any] = {}
        estimate = None
        try:
            form = await _form(request, me)
            spec = submit_page.spec_of(form)
            estimate = await run_in_threadpool(submit_page.preview, platform, me.principal, spec)
            view = await run_in_threadpool(jobs.submit_job, platform, me.principal, spec)
        except QumulusError as exc:
            if exc.status_code == 403 and str(exc).startswith("csrf_token"):
                raise
            text = await run_in_threadpool(submit_page.plain_refusal, platform, me.principal, exc, estimate)
            draft = {k: form.get(k) for k in DRAFT if isinstance(form.get(k), str)}
            extra: dict[str, Any] = {"status": exc.status_code, "draft": draft}
            if exc.status_code == 402:
                extra["link"] = (f"{web.PREFIX}/project#budget", "See the project's budget")
            return web.done(request, f"{web.PREFIX}/jobs/new", text, kind="error", **extra)
        return web.done(
            request,
            f"{web.PREFIX}/jobs/{view.job.id}",
            "Job submitted. This page follows it live.",
        )

    return router


async def _form(request: Request, me: ConsoleUser) -> dict[str, Any]:
    """The checked form, with an uploaded file (if any) read into ``source``."""
    form = await web.form_checked(request, me)
    upload = (await request.form()).get("upload")
    if isinstance(upload, UploadFile) and upload.filename:
        data = await upload.read(submit_page.MAX_UPLOAD + 1)
        if len(data) > submit_page.MAX_UPLOAD:
            raise PayloadTooLarge(f"upload: at most {submit_page.MAX_UPLOAD // 1024} KiB", field="upload")
        try:
            form["source"] = data.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidRequest("upload: not a text file (UTF-8)", field="upload") from None
        if upload.filename.lower().endswith((".qasm", ".qasm3", ".qasm2")):
            form["format"] = "openqasm"
        elif upload.filename.lower().endswith(".json"):
            form["format"] = "ionq"
    form.pop("upload", None)
    return {k: v for k, v in form.items() if isinstance(v, str)}


def _draft_of(spec: jobs.JobSpec) -> dict[str, Any]:
    if spec.job_type == submit_page.QASM_TYPE or "data" in spec.input:
        source, kind = str(spec.input.get("data") or ""), "openqasm"
    else:
        source, kind = json.dumps(spec.input, indent=2), "ionq"
    return {
        "name": spec.name or "",
        "backend": spec.backend,
        "shots": str(spec.shots),
        "format": kind,
        "source": source,
        "tags": ", ".join(spec.tags),
    }


def _context(
    platform: Any, me: ConsoleUser, draft: dict[str, Any], previewed: dict[str, Any] | None
) -> dict[str, Any]:
    choices = backend_info.rows(platform, me.principal)
    preview = None
    error = ""
    if previewed is not None:
        try:
            spec = submit_page.spec_of(previewed)
        except QumulusError as exc:
            error = str(exc)
        else:
            preview = submit_page.preview(platform, me.principal, spec)
            error = preview.error
    batch = preview.batch if preview else None
    return {
        "operations": sum(len(c.operations) for c in batch.circuits) if batch else 0,
        "backends": choices,
        "draft": draft,
        "preview": preview,
        "preview_error": error,
        "drawings": submit_page.drawings(preview.batch if preview else None),
        "examples": {"ionq": submit_page.BELL_JSON, "openqasm": submit_page.BELL_QASM},
        "nav": "submit",
    }
