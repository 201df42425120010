"""Job endpoints: create, get, list, cancel, delete (single and bulk), results."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Depends, Query
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from qumulus.api import sdk_filters
from qumulus.api.body import read_json
from qumulus.api.deps import platform_of, principal
from qumulus.auth.principal import Principal
from qumulus.domain import WORKLOAD_TYPES
from qumulus.errors import InvalidRequest
from qumulus.platform import Platform
from qumulus.services import jobs, workloads
from qumulus.services.jobs import artifacts, estimates, queue_view, results
from qumulus.services.jobs.outlook import predicted_done_within
from qumulus.services.workloads import estimate as workload_estimate
from qumulus.sim.results_io import iter_json_text
from qumulus.store.models import new_id
from qumulus.timeutil import utcnow
from qumulus.wire import jobs as wire
from qumulus.wire import results as results_json
from qumulus.wire.requests import parse_job_request

#: Status names clients filter by that are not API statuses (qiskit's Session.cancel sends ``queued``).
STATUS_ALIASES = {"queued": ["submitted", "ready"], "running": ["started"]}
MAX_BULK = 1000
#: Job bodies up to this size are validated on the event loop (tens of microseconds); larger ones in
#: a thread, so that one big request cannot stall the others.
INLINE_PLAN_BYTES = 16 * 1024
#: Longest ``?wait=`` a GET of a job may ask for, in seconds.
MAX_WAIT_SECONDS = 60.0


def build(version: str) -> APIRouter:
    """The job routes of one API version (``v0.4`` or ``v0.3``); only the shapes differ."""
    router = APIRouter(prefix=f"/{version}")
    shape = wire.job_v04 if version == "v0.4" else wire.job_v03
    with_queue = _with_queue if version == "v0.4" else _as_is

    # The hot routes (create, get, probabilities) take only the Request and authenticate inside:
    # FastAPI's dependency solving was a measurable share of each tiny job's CPU time.
    @router.post("/jobs", status_code=201)
    async def create_job(request: Request) -> JSONResponse:
        received = utcnow()
        who = await principal(request)
        platform = platform_of(request)
        body = await read_json(request, platform.settings.max_request_bytes)
        key = request.headers.get("idempotency-key")
        if key is not None and not 1 <= len(key) <= 255:
            raise InvalidRequest("Idempotency-Key: must be 1 to 255 characters", field="Idempotency-Key")
        spec = parse_job_request(body, idempotency_key=key)
        spec.submitted_at = received
        spec.job_id = new_id()
        hub = platform.completions
        waiter = hub.expect(spec.job_id)
        try:
            if spec.job_type in WORKLOAD_TYPES:  # parses OpenQASM: off the event loop
                view = await run_in_threadpool(workloads.submit_workload, platform, who, spec)
            elif (
                platform.db.is_sqlite and _declared_size(request) <= INLINE_PLAN_BYTES and not _compiles(spec)
            ):
                view = await jobs.submit_job_async(platform, who, spec)  # see submit_job_async
            else:  # a networked database, or a circuit big enough to parse off the event loop
                view = await run_in_threadpool(jobs.submit_job, platform, who, spec)
        except BaseException:
            hub.forget(spec.job_id, waiter)
            raise
        job = view.job
        status = job.status
        wait_s = platform.settings.submit_wait_ms / 1000
        if (
            job.id == spec.job_id
            and status not in jobs.TERMINAL
            and platform.hears_completions
            and predicted_done_within(platform, job, wait_s)
        ):
            # Durable already; wait briefly so a tiny job is completed at the client's first GET
            # (only a job predicted to finish in the wait: any other would just be slowed down).
            status = await hub.wait(job.id, waiter, wait_s) or status
        else:
            hub.forget(spec.job_id, waiter)
        if version == "v0.3":
            status = wire.V03_STATUS.get(status, status)
        payload = {"id": job.id, "status": status, "session_id": job.session_id}
        if version == "v0.3":
            payload = {"id": job.id, "status": payload["status"]}
        return JSONResponse(payload, status_code=201)

    _ahead(router, "/jobs", ["POST"], create_job)

    @router.get("/jobs")
    async def list_jobs(
        request: Request,
        who: Principal = Depends(principal),
        status: list[str] | None = Query(None),
        limit: int | None = Query(None),
        next: str | None = Query(None),
        id: list[str] | None = Query(None),
        ids: list[str] | None = Query(None),
        session_id: str | None = None,
        target: str | None = None,
        backend: str | None = None,
        parent_job_id: str | None = None,
        tags: list[str] | None = Query(None),
        tags_any: bool = False,
        name: str | None = None,
        created_after: str | None = None,
        created_before: str | None = None,
        job_set_id: str | None = None,
        idempotency_key: str | None = None,
    ) -> JSONResponse:
        platform = platform_of(request)
        body = await read_json(request, 1 << 20, required=False)  # cirq sends {"limit": N} on a GET
        if limit is None and isinstance(body, dict) and "limit" in body:
            raw = body["limit"]
            if isinstance(raw, bool) or not isinstance(raw, int):
                raise InvalidRequest("limit: must be an integer", field="limit")
            limit = raw
        query = jobs.JobQuery(
            status=_statuses(status),
            ids=_split(id) + _split(ids) or None,
            session_id=session_id,
            backend=backend or target,
            parent_id=parent_job_id,
            limit=limit if limit is not None else jobs.DEFAULT_LIST_LIMIT,
            cursor=next,
            tags=_split(tags) or None,
            tags_any=tags_any,
            name=name or None,
            created_after=sdk_filters.when(created_after, "created_after"),
            created_before=sdk_filters.when(created_before, "created_before"),
            job_set_id=job_set_id,
            idempotency_key=idempotency_key,
        )
        views, cursor = await run_in_threadpool(jobs.list_jobs, platform, who, query)
        payload: dict[str, Any] = {"jobs": [shape(v) for v in views]}
        if cursor is not None:
            payload["next"] = cursor  # omitted on the last page: cirq loops while the key exists
        return JSONResponse(payload)

    # Before /jobs/{job_id}, which would read "estimate" as a job id.
    @router.get("/jobs/estimate")
    async def estimate_get(request: Request, who: Principal = Depends(principal)) -> JSONResponse:
        """qiskit-ionq's ``estimate_job`` query: ``backend``, ``1q_gates``, ``2q_gates``, ``qubits``,
        ``shots``, ``error_mitigation``, ``session`` (and ``type``)."""
        query = request.query_params
        counts = {name: _count(query, name) for name in ("1q_gates", "2q_gates", "qubits", "shots")}
        if not query.get("backend"):
            raise InvalidRequest("backend: required (e.g. qpu.aria-1)", field="backend")
        inputs = {
            "backend": query["backend"],
            "type": query.get("type", "ionq.circuit.v1"),
            **counts,
            "error_mitigation": _flag(query.get("error_mitigation")),
            "session": _flag(query.get("session")),
        }
        platform = platform_of(request)
        found = await run_in_threadpool(
            lambda: estimates.from_counts(
                platform, who, backend=query["backend"], one_qubit=counts["1q_gates"],
                two_qubit=counts["2q_gates"], qubits=counts["qubits"], shots=counts["shots"], inputs=inputs,
            )
        )  # fmt: skip
        return JSONResponse(wire.estimate_v04(found))

    @router.post("/jobs/estimate")
    async def estimate_post(request: Request, who: Principal = Depends(principal)) -> JSONResponse:
        """A whole job body, priced exactly as its submission would be held (and, for an emulated
        QPU, billed)."""
        platform = platform_of(request)
        body = await read_json(request, platform.settings.max_request_bytes)
        spec = parse_job_request(body)
        found = await run_in_threadpool(workload_estimate.from_body, platform, who, spec)
        return JSONResponse(wire.estimate_v04(found))

    @router.get("/jobs/{job_id}/artifacts/{artifact_id}")
    async def get_artifact(
        job_id: str, artifact_id: str, request: Request, who: Principal = Depends(principal)
    ) -> JSONResponse:
        """``native`` (the ``ionq.native.v1`` compilation) and ``shots`` (``ionq.result.shots.json.v2``)."""
        platform = platform_of(request)
        return JSONResponse(await run_in_threadpool(artifacts.artifact, platform, who, job_id, artifact_id))

    @router.get("/jobs/{job_id}/progress")
    async def get_progress(
        job_id: str, request: Request, who: Principal = Depends(principal)
    ) -> JSONResponse:
        """An optimization's (or quantum function's) evaluations so far, oldest first: ``{"progress":
        [{job_id, status, finished_at, value, variance, params, iteration}]}``, every
        ``log_interval``-th one (and the first, the best and the last); ``?all=true`` lists all."""
        platform = platform_of(request)
        every = request.query_params.get("all", "").lower() in ("1", "true", "yes")
        view = await run_in_threadpool(lambda: workloads.workload(platform, who, job_id, every=every))
        return JSONResponse(wire.progress_v04(view))

    @router.get("/jobs/{job_id}")
    async def get_job(job_id: str, request: Request) -> JSONResponse:
        """``?wait=S`` (a Qumulus extension) answers as soon as the job is final, or after S seconds."""
        who = await principal(request)
        wait = _wait_seconds(request.query_params.get("wait"))
        platform = platform_of(request)
        if wait <= 0 or not platform.hears_completions:
            return JSONResponse(shape(await with_queue(platform, await _read_job(platform, who, job_id))))
        hub = platform.completions
        waiter = hub.expect(job_id)  # before reading, so a completion in between is not missed
        try:
            view = await run_in_threadpool(jobs.get_job, platform, who, job_id)
        except BaseException:
            hub.forget(job_id, waiter)
            raise
        if view.job.status in jobs.TERMINAL:
            hub.forget(job_id, waiter)
            return JSONResponse(shape(view))  # final: no queue figures, no extra work
        await hub.wait(job_id, waiter, wait)
        # Read again whether the wait ended by a completion or by its timeout: a missed notification
        # (another process, a reconnecting listener) must not answer the state from before the wait.
        view = await run_in_threadpool(jobs.get_job, platform, who, job_id)
        if view.job.status in jobs.TERMINAL:
            return JSONResponse(shape(view))
        return JSONResponse(shape(await with_queue(platform, view)))

    async def get_job_fast(request: Request) -> Response:
        return await get_job(request.path_params["job_id"], request)

    _ahead(router, "/jobs/{job_id}", ["GET"], get_job_fast)

    @router.put("/jobs/status/cancel")
    async def bulk_cancel(request: Request, who: Principal = Depends(principal)) -> JSONResponse:
        return await _bulk(request, who, "cancel")

    @router.delete("/jobs")
    async def bulk_delete(request: Request, who: Principal = Depends(principal)) -> JSONResponse:
        return await _bulk(request, who, "delete")

    @router.put("/jobs/{job_id}/status/cancel")
    async def cancel_job(job_id: str, request: Request, who: Principal = Depends(principal)) -> JSONResponse:
        job = await run_in_threadpool(jobs.cancel_job, platform_of(request), who, job_id)
        platform_of(request).completions.publish([(job.id, job.status)])  # wakes ?wait= and event streams
        return JSONResponse({"id": job.id, "status": job.status})

    @router.delete("/jobs/{job_id}")
    async def delete_job(job_id: str, request: Request, who: Principal = Depends(principal)) -> JSONResponse:
        deleted = await run_in_threadpool(jobs.delete_job, platform_of(request), who, job_id)
        return JSONResponse({"id": deleted, "status": "deleted"})

    if version == "v0.3":

        @router.get("/jobs/{job_id}/results")
        async def results_v03(job_id: str, request: Request, who: Principal = Depends(principal)) -> Response:
            return await _probabilities(request, who, job_id, aggregated=False)

    @router.get("/jobs/{job_id}/results/probabilities")
    async def probabilities(job_id: str, request: Request) -> Response:
        return await _probabilities(request, await principal(request), job_id, aggregated=False)

    async def probabilities_fast(request: Request) -> Response:
        return await probabilities(request.path_params["job_id"], request)

    _ahead(router, "/jobs/{job_id}/results/probabilities", ["GET"], probabilities_fast)

    @router.get("/jobs/{job_id}/results/probabilities/aggregated")
    async def aggregated(job_id: str, request: Request, who: Principal = Depends(principal)) -> Response:
        return await _probabilities(request, who, job_id, aggregated=True)

    @router.get("/jobs/{job_id}/results/histogram")
    async def histogram(job_id: str, request: Request, who: Principal = Depends(principal)) -> Response:
        outcomes = await _outcomes(request, who, job_id)
        if isinstance(outcomes, dict):
            return JSONResponse({k: results_json.counts_json(v) for k, v in outcomes.items()})
        return JSONResponse(results_json.counts_json(outcomes))

    @router.get("/jobs/{job_id}/results/shots")
    async def shots(job_id: str, request: Request, who: Principal = Depends(principal)) -> Response:
        outcomes = await _outcomes(request, who, job_id)
        if isinstance(outcomes, dict):
            return JSONResponse({k: v.tolist() for k, v in outcomes.items()})
        return JSONResponse(outcomes.tolist())

    return router


def _ahead(
    router: APIRouter, path: str, methods: list[str], endpoint: Callable[[Request], Awaitable[Response]]
) -> None:
    """Serve the FastAPI route just declared for ``path`` through a plain Starlette route placed
    right before it: the hottest routes skip FastAPI's per-request dependency solving (about 30 µs
    a request, a tenth of a tiny job's HTTP cost). The FastAPI route stays behind it, never
    matched, so that the OpenAPI document still lists the endpoint."""
    documented = router.routes.pop()
    router.add_route(router.prefix + path, endpoint, methods=methods, include_in_schema=False)
    router.routes.append(documented)


async def _as_is(platform: Platform, view: jobs.JobView) -> jobs.JobView:
    return view


async def _with_queue(platform: Platform, view: jobs.JobView) -> jobs.JobView:
    """Add queue position and predictions to an active job (services/queue_view.py). The backend's
    figures are shared and refreshed every few seconds; a final job costs nothing here."""
    job = view.job
    if job.status not in jobs.ACTIVE or job.parent_id is not None or job.dry_run:
        return view
    figures = queue_view.cached_job_figures(platform, job)
    if figures is None:
        figures = await run_in_threadpool(queue_view.job_figures, platform, job)
    view.queue = figures
    return view


async def _read_job(platform: Platform, who: Principal, job_id: str) -> jobs.JobView:
    """One job row. On SQLite it is read on the event loop: a WAL read never waits for a lock, takes
    ~0.2 ms, and skipping the thread hop is a large share of a tiny job's cost. Networked databases
    go through the thread pool."""
    if platform.db.is_sqlite:
        return jobs.get_job(platform, who, job_id)
    return await run_in_threadpool(jobs.get_job, platform, who, job_id)


async def _probabilities(request: Request, who: Principal, job_id: str, *, aggregated: bool) -> Response:
    # ``sharpen=true`` (any case): a debiased run's variants aggregated by plurality vote.
    platform = platform_of(request)
    sharpen = request.query_params.get("sharpen", "").lower() == "true"
    found = None
    if platform.db.is_sqlite and not sharpen:  # see _read_job
        found = results.inline_results(platform, who, job_id)
    if found is None:
        found = await run_in_threadpool(lambda: results.job_results(platform, who, job_id, sharpen=sharpen))
    if found.multi or aggregated:
        chunks = results_json.multi_chunks(found.items)
    else:
        chunks = iter_json_text(found.items[0][1])
    if results_json.size(found.items) > results_json.STREAM_ABOVE:
        return StreamingResponse(chunks, media_type="application/json")
    return Response("".join(chunks), media_type="application/json")


async def _outcomes(request: Request, who: Principal, job_id: str) -> Any:
    """Per-shot outcomes: the stored shots of an emulated run, else drawn from the exact distribution
    with the job's seed (reproducible)."""
    platform = platform_of(request)
    job = await run_in_threadpool(results.job_for_results, platform, who, job_id)
    multi, items = await run_in_threadpool(results.job_outcomes, platform, who, job)
    return dict(items) if multi else items[0][1]


async def _bulk(request: Request, who: Principal, action: str) -> JSONResponse:
    platform = platform_of(request)
    body = await read_json(request, platform.settings.max_request_bytes)
    ids = sdk_filters.ids(body, maximum=MAX_BULK)
    affected, missing = await run_in_threadpool(jobs.bulk, platform, who, ids, action)
    status = "canceled" if action == "cancel" else "deleted"
    payload: dict[str, Any] = {"id": affected[0] if affected else ids[0], "ids": affected, "status": status}
    if missing:
        payload["not_found"] = missing
    return JSONResponse(payload)


def _count(query: Any, name: str) -> int:
    raw = query.get(name, "0")
    try:
        value = int(raw)
    except ValueError:
        raise InvalidRequest(f"{name}: must be a non-negative integer, got {raw!r}", field=name) from None
    if value < 0:
        raise InvalidRequest(f"{name}: must be a non-negative integer, got {value}", field=name)
    return value


def _flag(raw: str | None) -> bool:
    return (raw or "").strip().lower() in ("true", "1", "yes")


def _compiles(spec: jobs.JobSpec) -> bool:
    """A job compiled at submission (QPU, noisy simulation, dry run, OpenQASM program): its planning
    calls qiskit, tens of milliseconds, so it runs in the thread pool, off the event loop."""
    noise = spec.noise.get("model") if isinstance(spec.noise, dict) else None
    return (
        spec.dry_run
        or not spec.backend.startswith("sim")
        or (noise not in (None, "ideal"))
        or spec.job_type == "ionq.qasm3.v1"
        or (isinstance(spec.input, dict) and "data" in spec.input)
    )


def _declared_size(request: Request) -> int:
    """The body's declared length; a body without one (chunked) counts as large."""
    declared = request.headers.get("content-length")
    return int(declared) if declared is not None and declared.isdigit() else 1 << 62


def _wait_seconds(raw: str | None) -> float:
    if raw is None or raw == "":
        return 0.0
    try:
        value = float(raw)
    except ValueError:
        raise InvalidRequest(f"wait: must be a number of seconds, got {raw[:40]!r}", field="wait") from None
    if not 0.0 <= value <= MAX_WAIT_SECONDS:  # also refuses NaN
        raise InvalidRequest(f"wait: must be between 0 and {MAX_WAIT_SECONDS:g} seconds", field="wait")
    return value


def _split(values: list[str] | None) -> list[str]:
    out: list[str] = []
    for value in values or []:
        out.extend(v for v in value.split(",") if v)
    return out


def _statuses(values: list[str] | None) -> list[str] | None:
    names = _split(values)
    if not names:
        return None
    allowed = {"submitted", "ready", "started", "completed", "failed", "canceled"}
    out: list[str] = []
    for name in names:
        lowered = name.lower()
        if lowered in STATUS_ALIASES:
            out.extend(STATUS_ALIASES[lowered])
        elif lowered in allowed:
            out.append(lowered)
        else:
            raise InvalidRequest(f"status: unknown status {name!r}", field="status")
    return out
