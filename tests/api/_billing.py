"""Helpers for the billing tests: tenants with chosen roles, contracts, budgets and ledger reads.

Tenants are made with the store's own models and ``create_api_key`` (the tenancy REST API is another
part of the issue); everything under test goes through HTTP.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import select, update

from qumulus.accounting.budget import money
from qumulus.services.tenancy.keys import create_api_key
from qumulus.store.models import (
    Backend,
    Budget,
    Contract,
    Organization,
    OrganizationMember,
    Project,
    ProjectMember,
    UsageLedger,
    User,
    new_id,
)
from tests.conftest import Api


def whoami(api: Api) -> dict[str, Any]:
    return api.get("/v0.4/whoami").json()


def key_for(
    platform: Any,
    project_id: str,
    *,
    project_role: str | None = "member",
    org_role: str | None = None,
    is_admin: bool = False,
) -> str:
    """A new user with these roles on ``project_id`` (and its organization), and a key for them."""
    with platform.db.write() as session:
        project = session.get(Project, project_id)
        user = User(email=f"{new_id()}@example.com", is_admin=is_admin)
        session.add(user)
        session.flush()
        if org_role is not None:
            session.add(
                OrganizationMember(organization_id=project.organization_id, user_id=user.id, role=org_role)
            )
        if project_role is not None:
            session.add(ProjectMember(project_id=project_id, user_id=user.id, role=project_role))
        _, key = create_api_key(session, secret=platform.secret, project_id=project_id, user_id=user.id)
    return key


def new_tenant(platform: Any) -> tuple[str, str, str]:
    """A second organization with one project; returns (organization id, project id, owner key)."""
    with platform.db.write() as session:
        org = Organization(name="Other", slug=f"other-{new_id()[:8]}")
        session.add(org)
        session.flush()
        project = Project(organization_id=org.id, name="Other Project")
        session.add(project)
        session.flush()
        org_id, project_id = org.id, project.id
    return org_id, project_id, key_for(platform, project_id, project_role="admin", org_role="owner")


def as_key(api: Api, key: str) -> Api:
    return Api(client=api.client, key=key, platform=api.platform)


def set_simulator_rate(api: Api, rate: str) -> None:
    """Change the bootstrap organization's simulator contract rate (through the API, as an admin)."""
    org = whoami(api)["organization_id"]
    listed = api.get(f"/v0.4/organizations/{org}/contracts").json()["contracts"]
    contract = next(c for c in listed if c["backend"] == "simulator")
    changed = api.client.patch(
        f"/v0.4/organizations/{org}/contracts/{contract['id']}",
        json={"rate_per_second": rate},
        headers=api.headers,
    )
    assert changed.status_code == 200, changed.text


def create_budget(api: Api, limit: str, **extra: Any) -> dict[str, Any]:
    project = whoami(api)["project_id"]
    made = api.post(f"/v0.4/projects/{project}/budgets", json={"limit": limit, **extra})
    assert made.status_code == 201, made.text
    return made.json()


def budget(api: Api, budget_id: str) -> dict[str, Any]:
    project = whoami(api)["project_id"]
    return api.get(f"/v0.4/projects/{project}/budgets/{budget_id}").json()


def budget_row(platform: Any, budget_id: str) -> tuple[Decimal, Decimal]:
    """(spent, held) as stored."""
    with platform.db.read() as session:
        row = session.get(Budget, budget_id)
        return money(row.spent), money(row.held)


def ledger(platform: Any) -> list[UsageLedger]:
    with platform.db.read() as session:
        return list(session.scalars(select(UsageLedger)))


def open_qpu(platform: Any, name: str = "qpu.aria-1") -> None:
    """Let a QPU accept jobs in this test database (emulation arrives in another part)."""
    with platform.db.write() as session:
        session.execute(
            update(Backend).where(Backend.name == name).values(accepting_jobs=True, status="operational")
        )
    platform.backends.invalidate()


def contracts_of(platform: Any, organization_id: str) -> list[Contract]:
    with platform.db.read() as session:
        return list(session.scalars(select(Contract).where(Contract.organization_id == organization_id)))
