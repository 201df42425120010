"""Tenancy endpoints (``/v0.4``): organizations, members, projects, project members, keys, audit.

HTTP only: each route parses its body (:mod:`qumulus.api.tenancy_bodies`), calls one service in
the thread pool, and renders the result (:mod:`qumulus.wire.tenancy`). Reach, roles and the
audit trail are the services' business. Any change that can affect a key (revocation, roles,
membership) drops the Authenticator's cached key rows so it takes effect at once in this process.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Path, Query
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from qumulus.api.deps import platform_of, principal
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
    parse_body,
)
from qumulus.auth.principal import Principal
from qumulus.services.tenancy import audit, key_admin, members, organizations, projects, users
from qumulus.wire import tenancy as wire


def _forget_keys(request: Request) -> None:
    request.app.state.authenticator.invalidate()


async def _call(fn: Any, *args: Any, **kwargs: Any) -> Any:
    return await run_in_threadpool(lambda: fn(*args, **kwargs))


def build() -> APIRouter:
    router = APIRouter(prefix="/v0.4")

    # organizations ----------------------------------------------------------------------------

    @router.get("/organizations")
    async def list_organizations(
        request: Request,
        who: Principal = Depends(principal),
        limit: int | None = Query(None),
        next: str | None = Query(None),
    ) -> JSONResponse:
        rows, cursor = await _call(
            organizations.list_organizations, platform_of(request), who, limit=limit, cursor=next
        )
        return JSONResponse(wire.page("organizations", [wire.organization(o) for o in rows], cursor))

    @router.post("/organizations", status_code=201)
    async def create_organization(request: Request, who: Principal = Depends(principal)) -> JSONResponse:
        body = await parse_body(request, OrganizationCreate)
        org = await _call(
            organizations.create_organization,
            platform_of(request),
            who,
            name=body.name,
            slug=body.slug,
            owner_email=body.owner_email,
        )
        return JSONResponse(wire.organization(org), status_code=201)

    @router.get("/organizations/{org_id}")
    async def get_organization(
        org_id: str, request: Request, who: Principal = Depends(principal)
    ) -> JSONResponse:
        org = await _call(organizations.get_organization, platform_of(request), who, org_id)
        return JSONResponse(wire.organization(org))

    @router.patch("/organizations/{org_id}")
    async def update_organization(
        org_id: str, request: Request, who: Principal = Depends(principal)
    ) -> JSONResponse:
        body = await parse_body(request, OrganizationUpdate)
        org = await _call(
            organizations.update_organization,
            platform_of(request),
            who,
            org_id,
            name=body.name,
            slug=body.slug,
        )
        return JSONResponse(wire.organization(org))

    _member_routes(router, members.ORGANIZATION, "organizations", "org_id", OrgMemberCreate)

    # projects ------------------------------------------------------------------------------------

    @router.get("/organizations/{org_id}/projects")
    async def list_projects(
        org_id: str,
        request: Request,
        who: Principal = Depends(principal),
        limit: int | None = Query(None),
        next: str | None = Query(None),
        include_archived: bool = Query(False),
    ) -> JSONResponse:
        rows, cursor = await _call(
            projects.list_projects,
            platform_of(request),
            who,
            org_id,
            include_archived=include_archived,
            limit=limit,
            cursor=next,
        )
        return JSONResponse(wire.page("projects", [wire.project(p) for p in rows], cursor))

    @router.post("/organizations/{org_id}/projects", status_code=201)
    async def create_project(
        org_id: str, request: Request, who: Principal = Depends(principal)
    ) -> JSONResponse:
        body = await parse_body(request, ProjectCreate)
        row = await _call(
            projects.create_project,
            platform_of(request),
            who,
            org_id,
            name=body.name,
            description=body.description,
        )
        return JSONResponse(wire.project(row), status_code=201)

    @router.get("/projects/{project_id}")
    async def get_project(
        project_id: str, request: Request, who: Principal = Depends(principal)
    ) -> JSONResponse:
        row = await _call(projects.get_project, platform_of(request), who, project_id)
        return JSONResponse(wire.project(row))

    @router.patch("/projects/{project_id}")
    async def update_project(
        project_id: str, request: Request, who: Principal = Depends(principal)
    ) -> JSONResponse:
        body = await parse_body(request, ProjectUpdate)
        row = await _call(
            projects.update_project,
            platform_of(request),
            who,
            project_id,
            name=body.name,
            description=body.description,
        )
        return JSONResponse(wire.project(row))

    @router.delete("/projects/{project_id}")
    async def archive_project(
        project_id: str, request: Request, who: Principal = Depends(principal)
    ) -> JSONResponse:
        row, revoked = await _call(projects.archive_project, platform_of(request), who, project_id)
        _forget_keys(request)
        return JSONResponse({**wire.project(row), "revoked_keys": revoked})

    _member_routes(router, members.PROJECT, "projects", "project_id", ProjectMemberCreate)

    # keys --------------------------------------------------------------------------------------------

    @router.get("/projects/{project_id}/keys")
    async def list_keys(
        project_id: str,
        request: Request,
        who: Principal = Depends(principal),
        limit: int | None = Query(None),
        next: str | None = Query(None),
    ) -> JSONResponse:
        rows, cursor = await _call(
            key_admin.list_keys, platform_of(request), who, project_id, limit=limit, cursor=next
        )
        return JSONResponse(wire.page("keys", [wire.key(k) for k in rows], cursor))

    @router.post("/projects/{project_id}/keys", status_code=201)
    async def create_key(
        project_id: str, request: Request, who: Principal = Depends(principal)
    ) -> JSONResponse:
        body = await parse_body(request, KeyCreate)
        view, secret = await _call(
            key_admin.create_key,
            platform_of(request),
            who,
            project_id,
            name=body.name,
            scopes=body.scopes,
            expires_at=body.expires_at,
            user_id=body.user_id,
            user_email=body.user_email,
        )
        return JSONResponse({**wire.key(view), "key": secret}, status_code=201)

    @router.delete("/projects/{project_id}/keys/{key_id}")
    async def revoke_key(
        project_id: str, key_id: str, request: Request, who: Principal = Depends(principal)
    ) -> JSONResponse:
        view = await _call(key_admin.revoke_key, platform_of(request), who, project_id, key_id)
        request.app.state.authenticator.invalidate(view.key_id)
        return JSONResponse(wire.key(view))

    # audit -------------------------------------------------------------------------------------------

    @router.get("/organizations/{org_id}/audit")
    async def audit_log(
        org_id: str,
        request: Request,
        who: Principal = Depends(principal),
        limit: int | None = Query(None),
        next: str | None = Query(None),
        action: str | None = Query(None),
        project_id: str | None = Query(None),
    ) -> JSONResponse:
        query = audit.AuditQuery(limit=limit, cursor=next, action=action, project_id=project_id)
        rows, cursor = await _call(audit.list_events, platform_of(request), who, org_id, query)
        return JSONResponse(wire.page("events", [wire.audit_event(e) for e in rows], cursor))

    # the caller's own user ---------------------------------------------------------------------------

    @router.get("/users/me")
    async def me(request: Request, who: Principal = Depends(principal)) -> JSONResponse:
        return JSONResponse(wire.user(await _call(users.me, platform_of(request), who)))

    @router.put("/users/me/password", status_code=204)
    async def change_password(request: Request, who: Principal = Depends(principal)) -> Response:
        body = await parse_body(request, PasswordChange)
        await _call(
            users.change_own_password,
            platform_of(request),
            who,
            current_password=body.current_password,
            new_password=body.new_password,
        )
        return Response(status_code=204)

    return router


def _member_routes(
    router: APIRouter, scope: members.Scope, collection: str, param: str, create_body: type[Any]
) -> None:
    """``/{collection}/{param}/members`` (list, add) and ``…/members/{user_id}`` (change role, remove):
    one set of routes for organizations and projects, over :mod:`qumulus.services.tenancy.members`."""
    base = f"/{collection}/{{{param}}}/members"
    target: Any = Path(alias=param)
    kind = scope.event.split("_")[0]

    async def list_members(
        request: Request,
        target_id: str = target,
        who: Principal = Depends(principal),
        limit: int | None = Query(None),
        next: str | None = Query(None),
    ) -> JSONResponse:
        rows, cursor = await _call(
            members.list_members, platform_of(request), who, scope, target_id, limit=limit, cursor=next
        )
        return JSONResponse(wire.page("members", [wire.member(m) for m in rows], cursor))

    async def add_member(
        request: Request, target_id: str = target, who: Principal = Depends(principal)
    ) -> JSONResponse:
        body = await parse_body(request, create_body)
        view = await _call(
            members.add_member, platform_of(request), who, scope, target_id, **body.model_dump()
        )
        _forget_keys(request)
        return JSONResponse(wire.member(view), status_code=201)

    async def update_member(
        request: Request, target_id: str = target, user_id: str = Path(), who: Principal = Depends(principal)
    ) -> JSONResponse:
        body = await parse_body(request, MemberUpdate)
        view = await _call(
            members.update_member, platform_of(request), who, scope, target_id, user_id, role=body.role
        )
        _forget_keys(request)
        return JSONResponse(wire.member(view))

    async def remove_member(
        request: Request, target_id: str = target, user_id: str = Path(), who: Principal = Depends(principal)
    ) -> JSONResponse:
        revoked = await _call(members.remove_member, platform_of(request), who, scope, target_id, user_id)
        _forget_keys(request)
        return JSONResponse({"user_id": user_id, "status": "removed", "revoked_keys": revoked})

    router.add_api_route(base, list_members, methods=["GET"], name=f"list_{kind}_members")
    router.add_api_route(base, add_member, methods=["POST"], status_code=201, name=f"add_{kind}_member")
    router.add_api_route(
        f"{base}/{{user_id}}", update_member, methods=["PATCH"], name=f"update_{kind}_member"
    )
    router.add_api_route(
        f"{base}/{{user_id}}", remove_member, methods=["DELETE"], name=f"remove_{kind}_member"
    )
