"""Billing endpoints (``/v0.4``): contracts, allocations, budgets, usage reports.

Bodies are Pydantic models with ``extra="forbid"``: a read-only field (``spent``, ``held``, ``id``)
or an unknown one is a 400 that names it. Money is a decimal string in responses (no float
rounding); requests may send numbers or strings.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from fastapi import APIRouter, Depends
from pydantic import Field
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from qumulus.api.bodies import ApiDateTime, StrictBody, parse_body
from qumulus.api.deps import platform_of, principal
from qumulus.auth.principal import Principal
from qumulus.errors import InvalidRequest
from qumulus.services.billing import budgets, contracts, usage
from qumulus.services.billing.budgets import BudgetSpec
from qumulus.values import parse_time
from qumulus.wire import billing as wire_billing

MAX_BODY = 64 * 1024
Amount = Decimal


_Body = StrictBody


class ContractIn(_Body):
    backend: str = Field(min_length=1, max_length=100)
    #: Optional on a driver-served backend: its declaration's contract defaults apply.
    rate_per_second: Decimal | None = Field(None, ge=0, max_digits=18, decimal_places=6)
    currency: str = Field("USD", min_length=3, max_length=8)
    allocation_seconds: float | None = Field(None, ge=0, allow_inf_nan=False)
    period: Literal["month", "quarter", "year", "none"] = "month"
    share: float = Field(1.0, gt=0, allow_inf_nan=False)
    starts_at: ApiDateTime | None = None
    ends_at: ApiDateTime | None = None


class ContractPatch(_Body):
    backend: str | None = Field(None, min_length=1, max_length=100)
    rate_per_second: Decimal | None = Field(None, ge=0, max_digits=18, decimal_places=6)
    currency: str | None = Field(None, min_length=3, max_length=8)
    allocation_seconds: float | None = Field(None, ge=0, allow_inf_nan=False)
    period: Literal["month", "quarter", "year", "none"] | None = None
    share: float | None = Field(None, gt=0, allow_inf_nan=False)
    starts_at: ApiDateTime | None = None
    ends_at: ApiDateTime | None = None


class BudgetIn(_Body):
    limit: Decimal = Field(ge=0, max_digits=18, decimal_places=6)
    period: Literal["day", "week", "month", "custom"] = "month"
    period_start: ApiDateTime | None = None
    period_end: ApiDateTime | None = None
    recurring: bool | None = None
    currency: str = Field("USD", min_length=3, max_length=8)


class BudgetPatch(_Body):
    limit: Decimal | None = Field(None, ge=0, max_digits=18, decimal_places=6)
    recurring: bool | None = None


def _time(name: str, raw: str | None) -> datetime | None:
    return None if raw is None or raw == "" else parse_time(raw, name)


def build() -> APIRouter:
    router = APIRouter(prefix="/v0.4")

    async def body_of(request: Request, model: type[_Body]) -> Any:
        return await parse_body(request, model, max_bytes=MAX_BODY)

    # contracts -------------------------------------------------------------------------------
    @router.get("/organizations/{org_id}/contracts")
    async def list_contracts(
        org_id: str, request: Request, who: Principal = Depends(principal)
    ) -> JSONResponse:
        rows = await run_in_threadpool(contracts.list_contracts, platform_of(request), who, org_id)
        return JSONResponse({"contracts": [wire_billing.contract(c) for c in rows]})

    @router.post("/organizations/{org_id}/contracts", status_code=201)
    async def create_contract(
        org_id: str, request: Request, who: Principal = Depends(principal)
    ) -> JSONResponse:
        values = (await body_of(request, ContractIn)).model_dump(exclude_unset=True)
        row = await run_in_threadpool(contracts.create_contract, platform_of(request), who, org_id, values)
        return JSONResponse(wire_billing.contract(row), status_code=201)

    @router.get("/organizations/{org_id}/contracts/{contract_id}")
    async def get_contract(
        org_id: str, contract_id: str, request: Request, who: Principal = Depends(principal)
    ) -> JSONResponse:
        row = await run_in_threadpool(contracts.get_contract, platform_of(request), who, org_id, contract_id)
        return JSONResponse(wire_billing.contract(row))

    @router.patch("/organizations/{org_id}/contracts/{contract_id}")
    async def update_contract(
        org_id: str, contract_id: str, request: Request, who: Principal = Depends(principal)
    ) -> JSONResponse:
        values = (await body_of(request, ContractPatch)).model_dump(exclude_unset=True)
        row = await run_in_threadpool(
            contracts.update_contract, platform_of(request), who, org_id, contract_id, values
        )
        return JSONResponse(wire_billing.contract(row))

    @router.delete("/organizations/{org_id}/contracts/{contract_id}")
    async def delete_contract(
        org_id: str, contract_id: str, request: Request, who: Principal = Depends(principal)
    ) -> JSONResponse:
        await run_in_threadpool(contracts.delete_contract, platform_of(request), who, org_id, contract_id)
        return JSONResponse({"id": contract_id, "status": "deleted"})

    @router.get("/organizations/{org_id}/allocations")
    async def allocations(org_id: str, request: Request, who: Principal = Depends(principal)) -> JSONResponse:
        items = await run_in_threadpool(contracts.allocations, platform_of(request), who, org_id)
        return JSONResponse({"allocations": [wire_billing.allocation(i) for i in items]})

    # budgets ---------------------------------------------------------------------------------
    @router.get("/projects/{project_id}/budgets")
    async def list_budgets(
        project_id: str, request: Request, who: Principal = Depends(principal)
    ) -> JSONResponse:
        rows = await run_in_threadpool(budgets.list_budgets, platform_of(request), who, project_id)
        return JSONResponse({"budgets": [wire_billing.budget(b) for b in rows]})

    @router.post("/projects/{project_id}/budgets", status_code=201)
    async def create_budget(
        project_id: str, request: Request, who: Principal = Depends(principal)
    ) -> JSONResponse:
        body = await body_of(request, BudgetIn)
        spec = BudgetSpec(**body.model_dump())
        row = await run_in_threadpool(budgets.create_budget, platform_of(request), who, project_id, spec)
        return JSONResponse(wire_billing.budget(row), status_code=201)

    @router.get("/projects/{project_id}/budgets/{budget_id}")
    async def get_budget(
        project_id: str, budget_id: str, request: Request, who: Principal = Depends(principal)
    ) -> JSONResponse:
        row = await run_in_threadpool(budgets.get_budget, platform_of(request), who, project_id, budget_id)
        return JSONResponse(wire_billing.budget(row))

    @router.patch("/projects/{project_id}/budgets/{budget_id}")
    async def update_budget(
        project_id: str, budget_id: str, request: Request, who: Principal = Depends(principal)
    ) -> JSONResponse:
        changes = (await body_of(request, BudgetPatch)).model_dump(exclude_unset=True)
        row = await run_in_threadpool(
            budgets.update_budget, platform_of(request), who, project_id, budget_id, changes
        )
        return JSONResponse(wire_billing.budget(row))

    @router.delete("/projects/{project_id}/budgets/{budget_id}")
    async def delete_budget(
        project_id: str, budget_id: str, request: Request, who: Principal = Depends(principal)
    ) -> JSONResponse:
        await run_in_threadpool(budgets.delete_budget, platform_of(request), who, project_id, budget_id)
        return JSONResponse({"id": budget_id, "status": "deleted"})

    # usage -----------------------------------------------------------------------------------
    @router.get("/usage")
    async def usage_report(request: Request, who: Principal = Depends(principal)) -> Response:
        params = request.query_params
        fmt = params.get("format") or ("csv" if "text/csv" in request.headers.get("accept", "") else "json")
        if fmt not in ("json", "csv"):
            raise InvalidRequest("format: json or csv", field="format")
        group_by = [g.strip() for raw in params.getlist("group_by") for g in raw.split(",") if g.strip()]
        query = usage.UsageQuery(
            group_by=group_by or ["project"],
            period=params.get("period") or "month",
            start=_time("from", params.get("from")),
            end=_time("to", params.get("to")),
            project_id=params.get("project_id") or None,
            backend=params.get("backend") or None,
        )
        report = await run_in_threadpool(usage.usage_report, platform_of(request), who, query)
        if fmt == "csv":
            return Response(
                wire_billing.usage_csv(report),
                media_type="text/csv; charset=utf-8",
                headers={"Content-Disposition": 'attachment; filename="usage.csv"'},
            )
        return JSONResponse(wire_billing.usage(report))

    return router
