"""The OpenAPI document: FastAPI's, completed with what the routes read and answer themselves.

The routes read their bodies through the edge (:mod:`qumulus.api.body`) rather than FastAPI's body
parameters, so FastAPI knows neither their request bodies nor their errors. This module adds:

* the request body of every operation that reads one (job bodies of every type as ``oneOf``);
* the error answers of every operation (400 401 402 403 404 409 413 422 429), each the
  ``{statusCode, error, message}`` body, in place of FastAPI's never-sent 422 validation shape;
* the success answer's schema of every operation that answers JSON: the main objects
  (:mod:`qumulus.api.schemas`) and the rest — results, estimates, characterizations, billing,
  scheduling, status, job sets, the drivers' admin routes, the v0.3 job
  (:mod:`qumulus.api.response_schemas`). Only ``GET /jobs/{id}/events`` (Server-Sent Events) and
  the 204 of ``PUT /users/me/password`` have none.

The console (HTML pages) is not part of the API document. :class:`AllowMiddleware` answers
``OPTIONS`` with the methods the path really has (and the same ``Allow`` on a 405).
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel
from starlette.responses import Response
from starlette.routing import Match, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from qumulus.api import response_schemas as rs
from qumulus.api import schemas
from qumulus.api.routes_billing import BudgetIn, BudgetPatch, ContractIn, ContractPatch
from qumulus.api.routes_notifications import UserUpdate, WebhookCreate
from qumulus.api.routes_scheduling import ReservationCreate, TierUpdate
from qumulus.api.routes_sessions import SessionCreate
from qumulus.api.routes_status import MaintenanceCreate, StatusUpdate
from qumulus.api.tenancy_bodies import (
    KeyCreate,
    MemberUpdate,
    OrganizationCreate,
    OrganizationUpdate,
    OrgMemberCreate,
    PasswordChange,
    ProjectCreate,
    ProjectMemberCreate,
    ProjectUpdate,
)

ERRORS = {
    400: "Bad request: a field is missing, malformed or not allowed (the message names it)",
    401: "Missing, unknown, revoked or expired API key",
    402: "A budget or contract does not allow the spending",
    403: "The key's role or scopes do not allow this",
    404: "No such resource in the caller's reach",
    408: "The request body did not arrive in time",
    409: "Conflicts with the resource's state",
    413: "Too large: body, circuits, gates or shots over the limit named in the message",
    422: "Invalid circuit, or an Idempotency-Key reused with another request",
    429: "Rate limit or queued-jobs limit (Retry-After)",
}

V = r"/v0\.[34]"
#: (method, path pattern) → the model of the operation's JSON body, or a tuple of models (oneOf).
REQUEST_BODIES: list[tuple[str, str, Any]] = [
    ("POST", rf"{V}/jobs", schemas.JOB_BODIES),
    ("POST", r"/v0\.4/jobs/estimate", schemas.JOB_BODIES),
    ("PUT", rf"{V}/jobs/status/cancel", schemas.Ids),
    ("DELETE", rf"{V}/jobs", schemas.Ids),
    ("POST", r"/v0\.4/jobs/status", schemas.Ids),
    ("PATCH", r"/v0\.4/jobs/\{job_id\}", schemas.JobUpdate),
    ("POST", r"/v0\.4/job_sets", schemas.JobSetCreate),
    ("POST", r"/v0\.4/sessions", SessionCreate),
    ("POST", r"/v0\.4/organizations", OrganizationCreate),
    ("PATCH", r"/v0\.4/organizations/\{org_id\}", OrganizationUpdate),
    ("POST", r"/v0\.4/organizations/\{org_id\}/members", OrgMemberCreate),
    ("POST", r"/v0\.4/projects/\{project_id\}/members", ProjectMemberCreate),
    ("PATCH", r"/v0\.4/(organizations|projects)/\{\w+\}/members/\{user_id\}", MemberUpdate),
    ("POST", r"/v0\.4/organizations/\{org_id\}/projects", ProjectCreate),
    ("PATCH", r"/v0\.4/projects/\{project_id\}", ProjectUpdate),
    ("POST", r"/v0\.4/projects/\{project_id\}/keys", KeyCreate),
    ("PUT", r"/v0\.4/users/me/password", PasswordChange),
    ("PATCH", r"/v0\.4/users/me", UserUpdate),
    ("POST", r"/v0\.4/projects/\{project_id\}/webhooks", WebhookCreate),
    ("POST", r"/v0\.4/organizations/\{org_id\}/contracts", ContractIn),
    ("PATCH", r"/v0\.4/organizations/\{org_id\}/contracts/\{contract_id\}", ContractPatch),
    ("POST", r"/v0\.4/projects/\{project_id\}/budgets", BudgetIn),
    ("PATCH", r"/v0\.4/projects/\{project_id\}/budgets/\{budget_id\}", BudgetPatch),
    ("POST", r"/v0\.4/organizations/\{org_id\}/reservations", ReservationCreate),
    ("PUT", r"/v0\.4/jobs/\{job_id\}/priority", TierUpdate),
    ("PUT", r"/v0\.4/backends/\{name\}/status", StatusUpdate),
    ("POST", r"/v0\.4/backends/\{name\}/maintenance", MaintenanceCreate),
]
#: (method, path pattern) → the model of its success answer.
RESPONSES: list[tuple[str, str, type[BaseModel]]] = [
    ("POST", r"/v0\.4/jobs", schemas.JobCreated),
    ("GET", r"/v0\.4/jobs", schemas.JobList),
    ("GET", r"/v0\.4/jobs/\{job_id\}", schemas.Job),
    ("PATCH", r"/v0\.4/jobs/\{job_id\}", schemas.Job),
    ("PUT", rf"{V}/jobs/\{{job_id\}}/status/cancel", schemas.JobStatusChange),
    ("DELETE", rf"{V}/jobs/\{{job_id\}}", schemas.Deleted),
    ("POST", r"/v0\.4/sessions", schemas.Session),
    ("GET", r"/v0\.4/sessions", schemas.SessionList),
    ("GET", r"/v0\.4/sessions/\{session_id\}", schemas.Session),
    ("(POST|PUT)", r"/v0\.4/sessions/\{session_id\}/end", schemas.Session),
    ("(POST|GET|PATCH)", r"/v0\.4/organizations(/\{org_id\})?", schemas.Organization),
    ("(POST|GET|PATCH)", r"/v0\.4/(organizations/\{org_id\}/)?projects(/\{project_id\})?", schemas.Project),
    ("(POST|PATCH)", r"/v0\.4/(organizations|projects)/\{\w+\}/members(/\{user_id\})?", schemas.Member),
    ("(POST|DELETE)", r"/v0\.4/projects/\{project_id\}/keys(/\{key_id\})?", schemas.Key),
    ("GET", rf"{V}/backends/\{{name\}}", schemas.Backend),
    ("(POST|GET|PATCH)", r"/v0\.4/projects/\{project_id\}/budgets(/\{budget_id\})?", schemas.Budget),
    ("POST", r"/v0\.4/projects/\{project_id\}/webhooks", schemas.Webhook),
    ("DELETE", r"/v0\.4/(projects/\{project_id\}/(budgets|webhooks)/\{\w+\}|jobs)", schemas.Deleted),
    # results and the rest of a job's reads
    ("GET", rf"{V}/jobs/\{{job_id\}}/results(/probabilities)?", rs.Probabilities),
    ("GET", rf"{V}/jobs/\{{job_id\}}/results/probabilities/aggregated", rs.AggregatedProbabilities),
    ("GET", rf"{V}/jobs/\{{job_id\}}/results/histogram", rs.Histogram),
    ("GET", rf"{V}/jobs/\{{job_id\}}/results/shots", rs.Shots),
    ("GET", rf"{V}/jobs/\{{job_id\}}/artifacts/\{{artifact_id\}}", rs.Artifact),
    ("GET", rf"{V}/jobs/\{{job_id\}}/progress", rs.Progress),
    ("(GET|POST)", rf"{V}/jobs/estimate", rs.Estimate),
    ("POST", r"/v0\.3/jobs", schemas.JobCreated),
    ("GET", r"/v0\.3/jobs", rs.JobV03List),
    ("GET", r"/v0\.3/jobs/\{job_id\}", rs.JobV03),
    ("PUT", rf"{V}/jobs/status/cancel", rs.BulkChange),
    ("DELETE", r"/v0\.3/jobs", rs.BulkChange),
    ("POST", r"/v0\.4/jobs/status", rs.JobStatuses),
    ("GET", r"/v0\.4/jobs/\{job_id\}/queue", rs.QueuePlace),
    ("GET", r"/v0\.4/job_limit", rs.JobLimit),
    ("PUT", r"/v0\.4/jobs/\{job_id\}/priority", rs.PriorityChange),
    ("POST", r"/v0\.4/job_sets", rs.JobSet),
    ("(GET|POST|PUT)", r"/v0\.4/job_sets/\{set_id\}(/rerun|/status/cancel)?", rs.JobSet),
    # identity
    ("GET", rf"{V}/whoami", rs.Whoami),
    ("(GET|PATCH)", r"/v0\.4/users/me", rs.User),
    ("DELETE", r"/v0\.4/(organizations|projects)/\{\w+\}/members/\{user_id\}", rs.MemberRemoved),
    ("DELETE", r"/v0\.4/projects/\{project_id\}", schemas.Project),
    ("GET", r"/health", rs.Health),
    # backends, characterizations, status
    ("GET", rf"{V}/backends", rs.BackendList),
    (
        "GET",
        rf"{V}/(backends/\{{name\}}/characterizations/\{{characterization_id\}}"
        rf"|characterizations/(backends/\{{name\}}/current|\{{characterization_id\}})|calibrations/current)",
        rs.Characterization,
    ),
    ("POST", r"/v0\.4/backends/\{name\}/recalibrate", rs.Characterization),
    ("GET", r"/v0\.4/backends/\{name\}/properties", rs.BackendProperties),
    ("GET", r"/v0\.4/status", rs.StatusPage),
    ("GET", r"/v0\.4/backends/\{name\}/status/history", rs.StatusHistory),
    ("PUT", r"/v0\.4/backends/\{name\}/status", schemas.Backend),
    ("(POST|DELETE)", r"/v0\.4/backends/\{name\}/maintenance(/\{window_id\})?", rs.MaintenanceWindow),
    ("PUT", r"/v0\.4/admin/backends/\{name\}", rs.Declaration),
    ("DELETE", r"/v0\.4/admin/backends/\{name\}", schemas.Backend),
    # billing and scheduling
    ("(POST|GET|PATCH)", r"/v0\.4/organizations/\{org_id\}/contracts(/\{contract_id\})?", rs.Contract),
    ("DELETE", r"/v0\.4/organizations/\{org_id\}/contracts/\{contract_id\}", schemas.Deleted),
    ("GET", r"/v0\.4/usage", rs.Usage),
    ("POST", r"/v0\.4/organizations/\{org_id\}/reservations", rs.Reservation),
    ("(POST|DELETE)", r"/v0\.4/reservations/\{reservation_id\}(/approve)?", rs.Reservation),
]
#: List answers whose items are one of the models above: (method, path, key, model).
PAGES: list[tuple[str, str, str, type[BaseModel]]] = [
    ("GET", r"/v0\.4/organizations", "organizations", schemas.Organization),
    ("GET", r"/v0\.4/organizations/\{org_id\}/projects", "projects", schemas.Project),
    ("GET", r"/v0\.4/(organizations|projects)/\{\w+\}/members", "members", schemas.Member),
    ("GET", r"/v0\.4/projects/\{project_id\}/keys", "keys", schemas.Key),
    ("GET", r"/v0\.4/projects/\{project_id\}/budgets", "budgets", schemas.Budget),
    ("GET", r"/v0\.4/projects/\{project_id\}/webhooks", "webhooks", schemas.Webhook),
    ("GET", r"/v0\.4/job_sets", "job_sets", rs.JobSet),
    ("GET", r"/v0\.4/organizations/\{org_id\}/contracts", "contracts", rs.Contract),
    ("GET", r"/v0\.4/organizations/\{org_id\}/allocations", "allocations", rs.Allocation),
    ("GET", r"/v0\.4/organizations/\{org_id\}/reservations", "reservations", rs.Reservation),
    ("GET", r"/v0\.4/organizations/\{org_id\}/audit", "events", rs.AuditEvent),
    (
        "GET",
        rf"{V}/(backends/\{{name\}}/characterizations|characterizations/backends/\{{name\}})",
        "characterizations",
        rs.Characterization,
    ),
    ("GET", rf"{V}/calibrations", "calibrations", rs.Characterization),
    ("GET", r"/v0\.4/admin/backends", "backends", rs.Declaration),
]


def _matches(rules: list[tuple[Any, ...]], method: str, path: str) -> tuple[Any, ...] | None:
    for rule in rules:
        if re.fullmatch(rule[0], method) and re.fullmatch(rule[1], path):
            return rule
    return None


def _ref(model: type[BaseModel], components: dict[str, Any]) -> dict[str, str]:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, definition in schema.pop("$defs", {}).items():
        components.setdefault(name, definition)
    components[model.__name__] = schema
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def build(app: FastAPI) -> dict[str, Any]:
    """The whole document (cached on the app after the first call, like FastAPI's)."""
    if app.openapi_schema is not None:
        return app.openapi_schema
    document = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes
    )
    components: dict[str, Any] = document.setdefault("components", {}).setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)
    error = _ref(schemas.ErrorBody, components)
    paths = document["paths"]
    for path in [p for p in paths if p.startswith("/console")]:
        del paths[path]
    for path, operations in paths.items():
        for method, operation in operations.items():
            _complete(method.upper(), path, operation, error, components)
    app.openapi_schema = document
    return document


def _complete(
    method: str, path: str, operation: dict[str, Any], error: dict[str, str], components: dict[str, Any]
) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    responses.pop("422", None)
    body = _matches(REQUEST_BODIES, method, path)
    if body is not None:
        models = body[2] if isinstance(body[2], tuple) else (body[2],)
        refs = [_ref(m, components) for m in models]
        schema = refs[0] if len(refs) == 1 else {"oneOf": refs}
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": schema}}}
    success = next((code for code in responses if code.startswith("2")), None)
    answer = _matches(RESPONSES, method, path)
    page = _matches(PAGES, method, path)
    if success is not None and success != "204" and (answer or page):
        if page is not None:
            item = _ref(page[3], components)
            schema = {
                "type": "object",
                "required": [page[2]],
                "properties": {page[2]: {"type": "array", "items": item}, "next": {"type": "string"}},
            }
        else:
            schema = _ref(answer[2], components)  # type: ignore[index]
        responses[success] = {
            "description": responses[success].get("description", "OK"),
            "content": {"application/json": {"schema": schema}},
        }
    for code, description in ERRORS.items():
        responses.setdefault(
            str(code), {"description": description, "content": {"application/json": {"schema": error}}}
        )


def install(app: FastAPI) -> None:
    app.openapi = lambda: build(app)  # type: ignore[method-assign]


class AllowMiddleware:
    """``OPTIONS`` answers 204 with every method the path has (``Allow``, HEAD with GET); a 405
    names the same set. Starlette's own 405 names only the first route matching the path."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["method"] == "OPTIONS":
            methods = self._methods(scope)
            if methods:
                allow = ", ".join(sorted(methods | {"OPTIONS"}))
                await Response(status_code=204, headers={"Allow": allow})(scope, receive, send)
                return
            await self.app(scope, receive, send)
            return

        # The routes are matched again only for a 405 (every route's regex on every request was a
        # fifth of the event loop's time per tiny job).
        async def with_allow(message: Any) -> None:
            if message["type"] == "http.response.start" and message["status"] == 405:
                methods = self._methods(scope)
                if methods:
                    headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"allow"]
                    allow = ", ".join(sorted(methods | {"OPTIONS"}))
                    message = {**message, "headers": [*headers, (b"allow", allow.encode())]}
            await send(message)

        await self.app(scope, receive, with_allow)

    def _methods(self, scope: Scope) -> set[str]:
        router = scope["app"].router if "app" in scope else None
        found: set[str] = set()
        for route in getattr(router, "routes", []):
            if isinstance(route, Route):
                match, _ = route.matches(scope)  # PARTIAL: the path matches, the method does not
                if match is not Match.NONE and route.methods:
                    found |= set(route.methods)
        return found
