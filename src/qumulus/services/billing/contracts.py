"""Contracts (rate and allocation per organization × backend or backend class) and allocation reports.

Who: contracts set prices, so only platform administrators create, change or delete them
(``Action.CONTRACT_MANAGE``); organization owners read them and their allocations
(``Action.CONTRACT_READ``). Every change writes an audit event in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from qumulus.accounting.budget import allocation_left
from qumulus.accounting.contracts import allocation_window, in_force, used_seconds
from qumulus.accounting.periods import CONTRACT_PERIODS
from qumulus.auth.permissions import Action
from qumulus.auth.principal import Principal
from qumulus.drivers.config import BackendDecl
from qumulus.errors import InvalidRequest, NotFound
from qumulus.services.billing.charging import changing_admission, contract_terms, usage_by_backend
from qumulus.services.context import Context
from qumulus.services.tenancy import access, audit
from qumulus.store.models import Backend, BackendDriver, Contract
from qumulus.timeutil import utcnow
from qumulus.wire import billing as billing_json

#: Fields a caller may set; the rest of a contract (id, organization, created_at) is the server's.
FIELDS = (
    "backend",
    "rate_per_second",
    "currency",
    "allocation_seconds",
    "period",
    "share",
    "starts_at",
    "ends_at",
)


@dataclass(frozen=True)
class Allocation:
    contract: Contract
    period_start: datetime
    period_end: datetime | None
    used_seconds: float
    left_seconds: float | None
    in_force: bool


def check_pattern(session: Session, pattern: str) -> str:
    """``*``, ``<class>.*`` or the name of a known backend; 400 naming ``backend`` otherwise."""
    pattern = pattern.strip().lower()
    if pattern == "*" or (pattern.endswith(".*") and len(pattern) > 2 and "*" not in pattern[:-2]):
        return pattern
    if "*" in pattern or session.get(Backend, pattern) is None:
        raise InvalidRequest(
            f"backend: {pattern!r} is neither a known backend, a class pattern like 'qpu.*', nor '*'",
            field="backend",
        )
    return pattern


def _check(session: Session, values: dict[str, Any]) -> dict[str, Any]:
    unknown = set(values) - set(FIELDS)
    if unknown:
        field = sorted(unknown)[0]
        raise InvalidRequest(f"{field}: not a field of a contract", field=field)
    if "backend" in values:
        values["backend"] = check_pattern(session, values["backend"])
    if values.get("period") is not None and values["period"] not in CONTRACT_PERIODS:
        raise InvalidRequest(f"period: one of {', '.join(CONTRACT_PERIODS)}", field="period")
    if values.get("rate_per_second") is not None and Decimal(values["rate_per_second"]) < 0:
        raise InvalidRequest("rate_per_second: must not be negative", field="rate_per_second")
    if values.get("allocation_seconds") is not None and values["allocation_seconds"] < 0:
        raise InvalidRequest("allocation_seconds: must not be negative", field="allocation_seconds")
    return values


def _check_dates(contract: Contract) -> None:
    if contract.ends_at is not None and contract.ends_at <= contract.starts_at:
        raise InvalidRequest("ends_at: must be after starts_at", field="ends_at")


def add_contract(
    session: Session, organization_id: str, values: dict[str, Any], principal: Principal | None = None
) -> Contract:
    """Insert a contract and its audit event (no permission check: the CLI and bootstrap use it)."""
    values = _check(session, dict(values))
    if "backend" in values:
        values = {**declared_defaults(session, values["backend"]), **values}
    if "backend" not in values or "rate_per_second" not in values:
        field = "backend" if "backend" not in values else "rate_per_second"
        raise InvalidRequest(f"{field}: required", field=field)
    values.setdefault("starts_at", utcnow())
    contract = Contract(organization_id=organization_id, **{k: v for k, v in values.items() if v is not None})
    _check_dates(contract)
    session.add(contract)
    session.flush()
    audit.record(
        session,
        principal or access.CLI_ADMIN,
        "contract.create",
        target_type="contract",
        target_id=contract.id,
        organization_id=organization_id,
        details=billing_json.contract(contract),
    )
    return contract


def declared_defaults(session: Session, backend: str) -> dict[str, Any]:
    """The contract terms a driver-served backend's declaration starts contracts from (rate,
    currency, allocation, period; docs/drivers.md); nothing for any other backend or pattern."""
    row = session.get(BackendDriver, backend)
    if row is None:
        return {}
    terms = BackendDecl.model_validate(row.declaration).contract
    return {
        "rate_per_second": terms.rate_per_second,
        "currency": terms.currency,
        "allocation_seconds": terms.allocation_seconds,
        "period": terms.period,
    }


def list_contracts(platform: Context, principal: Principal, organization_id: str) -> list[Contract]:
    with platform.db.read() as session:
        access.require(access.organization(session, principal, organization_id).actor, Action.CONTRACT_READ)
        return list(
            session.scalars(
                select(Contract)
                .where(Contract.organization_id == organization_id)
                .order_by(Contract.starts_at, Contract.id)
            )
        )


def create_contract(
    platform: Context, principal: Principal, organization_id: str, values: dict[str, Any]
) -> Contract:
    with changing_admission(platform) as session:
        access.require(access.organization(session, principal, organization_id).actor, Action.CONTRACT_MANAGE)
        return add_contract(session, organization_id, values, principal)


def _owned(session: Session, organization_id: str, contract_id: str) -> Contract:
    contract = session.get(Contract, contract_id) if len(contract_id) <= 64 else None
    if contract is None or contract.organization_id != organization_id:
        raise NotFound(f"Contract {contract_id} not found.")
    return contract


def get_contract(platform: Context, principal: Principal, organization_id: str, contract_id: str) -> Contract:
    with platform.db.read() as session:
        access.require(access.organization(session, principal, organization_id).actor, Action.CONTRACT_READ)
        return _owned(session, organization_id, contract_id)


def update_contract(
    platform: Context, principal: Principal, organization_id: str, contract_id: str, values: dict[str, Any]
) -> Contract:
    with changing_admission(platform) as session:
        access.require(access.organization(session, principal, organization_id).actor, Action.CONTRACT_MANAGE)
        contract = _owned(session, organization_id, contract_id)
        before = billing_json.contract(contract)
        for key, value in _check(session, dict(values)).items():
            if value is None and key in (
                "backend",
                "rate_per_second",
                "currency",
                "period",
                "share",
                "starts_at",
            ):
                raise InvalidRequest(f"{key}: cannot be null", field=key)
            setattr(contract, key, value)
        _check_dates(contract)
        session.flush()
        audit.record(
            session,
            principal,
            "contract.update",
            target_type="contract",
            target_id=contract.id,
            organization_id=organization_id,
            details={"before": before, "after": billing_json.contract(contract)},
        )
        return contract


def delete_contract(platform: Context, principal: Principal, organization_id: str, contract_id: str) -> None:
    """Delete a contract. Recorded usage keeps the rate it was charged at (the ledger stores it)."""
    with changing_admission(platform) as session:
        access.require(access.organization(session, principal, organization_id).actor, Action.CONTRACT_MANAGE)
        contract = _owned(session, organization_id, contract_id)
        audit.record(
            session,
            principal,
            "contract.delete",
            target_type="contract",
            target_id=contract.id,
            organization_id=organization_id,
            details=billing_json.contract(contract),
        )
        session.delete(contract)


def allocation_report(session: Session, organization_id: str, at: datetime | None = None) -> list[Allocation]:
    """Every contract of the organization with its current allocation window, used and left seconds."""
    at = at or utcnow()
    terms = contract_terms(session, organization_id)
    rows = {
        c.id: c for c in session.scalars(select(Contract).where(Contract.organization_id == organization_id))
    }
    report = []
    for t in sorted(terms, key=lambda t: (t.starts_at, t.id)):
        start, end = allocation_window(t, at)
        recorded = usage_by_backend(session, organization_id, start, end, t.backend_pattern)
        used = used_seconds(t, terms, recorded, at)
        report.append(
            Allocation(
                contract=rows[t.id],
                period_start=start,
                period_end=end,
                used_seconds=round(used, 6),
                left_seconds=allocation_left(t.allocation_seconds, used),
                in_force=_live(t, at),
            )
        )
    return report


def _live(t: Any, at: datetime) -> bool:
    return t.starts_at <= at and (t.ends_at is None or at < t.ends_at)


def allocations(platform: Context, principal: Principal, organization_id: str) -> list[Allocation]:
    with platform.db.read() as session:
        access.require(access.organization(session, principal, organization_id).actor, Action.CONTRACT_READ)
        return allocation_report(session, organization_id)


@dataclass(frozen=True)
class Price:
    """What a second of ``backend`` costs the caller's organization now (the contract in force)."""

    backend: str
    rate_per_second: Decimal
    currency: str
    contract_id: str


def prices(platform: Context, principal: Principal, backends: list[str]) -> dict[str, Price]:
    """The rate each backend would be charged at now, chosen as admission chooses it (the most
    specific contract in force); a backend without one is absent (a QPU then refuses jobs).

    Anyone in the project may read it: it is the price of their own submissions, which the
    estimate shows them anyway; the contracts themselves stay the owners' to read.
    """
    principal.require(Action.PROJECT_READ)
    now = utcnow()
    with platform.db.read() as session:
        terms = contract_terms(session, principal.organization_id)
        currency = dict(
            session.execute(
                select(Contract.id, Contract.currency).where(
                    Contract.organization_id == principal.organization_id
                )
            ).all()
        )
    found: dict[str, Price] = {}
    for name in backends:
        t = in_force(terms, name, now)
        if t is not None:
            found[name] = Price(name, t.rate_per_second, currency.get(t.id) or "USD", t.id)
    return found
