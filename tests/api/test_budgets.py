"""Budgets: hold at submission, 402 when it would overrun, hold → spend on completion, release on
cancel and failure, and exactly-full under 50 parallel submissions (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select, update

from qumulus.accounting.estimate import SIMULATOR_SECONDS_PER_CIRCUIT
from qumulus.store.models import AuditEvent, Budget, Job
from qumulus.timeutil import utcnow
from tests.api._billing import (
    as_key,
    budget,
    budget_row,
    create_budget,
    key_for,
    ledger,
    new_tenant,
    set_simulator_rate,
    whoami,
)
from tests.api.conftest import BELL, bell_job
from tests.conftest import Api

#: A Bell job's estimated simulator usage at 1 USD/s: what each submission holds.
HOLD = Decimal(str(SIMULATOR_SECONDS_PER_CIRCUIT)).quantize(Decimal("0.000001"))
THREE = {
    "type": "ionq.multi-circuit.v1",
    "backend": "simulator",
    "input": {"qubits": 2, "circuits": [{"circuit": BELL["circuit"]}] * 3},
}


def test_a_submission_that_would_overrun_is_refused_with_402_saying_what_is_left(idle_api: Api) -> None:
    set_simulator_rate(idle_api, "1")
    made = create_budget(idle_api, str(2 * HOLD + Decimal("0.002")))
    assert made["period"] == "month" and made["recurring"] is True and made["in_force"] is True
    for _ in range(2):
        assert idle_api.post("/v0.4/jobs", json=bell_job()).status_code == 201
    refused = idle_api.post("/v0.4/jobs", json=bell_job())
    assert refused.status_code == 402
    body = refused.json()
    assert body["statusCode"] == 402 and body["error"] == "Payment Required"
    assert "0.002000 USD left" in body["message"] and f"{HOLD} USD" in body["message"]
    shown = budget(idle_api, made["id"])
    assert (shown["held"], shown["spent"], shown["remaining"]) == (str(2 * HOLD), "0.000000", "0.002000")
    with idle_api.platform.db.read() as session:  # the refused job left nothing behind
        assert len(session.scalars(select(Job.id)).all()) == 2


def test_without_a_budget_a_project_is_not_limited(idle_api: Api) -> None:
    set_simulator_rate(idle_api, "1000")
    for _ in range(3):
        assert idle_api.post("/v0.4/jobs", json=bell_job()).status_code == 201
    with idle_api.platform.db.read() as session:
        assert session.scalars(select(Job.budget_id)).all() == [None] * 3


def test_the_hold_becomes_spend_at_the_actual_cost(api: Api) -> None:
    set_simulator_rate(api, "1000")
    made = create_budget(api, "100")
    job = api.wait(api.post("/v0.4/jobs", json=bell_job()).json()["id"])
    assert job["status"] == "completed"
    (row,) = ledger(api.platform)
    spent, held = budget_row(api.platform, made["id"])
    assert held == 0
    assert spent == row.cost and row.cost > 0  # measured usage × rate, not the 5.0 estimate
    assert spent < HOLD * 1000


def test_cancel_releases_the_hold_of_a_job_and_of_every_child(idle_api: Api) -> None:
    set_simulator_rate(idle_api, "1")
    made = create_budget(idle_api, "1")
    single = idle_api.post("/v0.4/jobs", json=bell_job()).json()["id"]
    multi = idle_api.post("/v0.4/jobs", json=THREE).json()["id"]
    assert budget(idle_api, made["id"])["held"] == str(4 * HOLD)
    assert idle_api.put(f"/v0.4/jobs/{multi}/status/cancel").status_code == 200
    assert budget(idle_api, made["id"])["held"] == str(HOLD)
    assert idle_api.delete(f"/v0.4/jobs/{single}").status_code == 200  # delete cancels first
    assert idle_api.put(f"/v0.4/jobs/{multi}/status/cancel").status_code == 200  # twice: no double release
    shown = budget(idle_api, made["id"])
    assert (shown["held"], shown["spent"], shown["remaining"]) == ("0.000000", "0.000000", "1.000000")


def test_a_failed_execution_releases_its_hold_and_is_not_charged(idle_api: Api) -> None:
    set_simulator_rate(idle_api, "1000")
    made = create_budget(idle_api, "100")
    job_id = idle_api.post("/v0.4/jobs", json=bell_job()).json()["id"]
    with idle_api.platform.db.write() as session:  # damaged after validation: the simulation fails
        session.execute(update(Job).where(Job.id == job_id).values(input={"qubits": 2, "circuit": "garbage"}))
    idle_api.platform.start_runtime()
    assert idle_api.wait(job_id)["status"] == "failed"
    (row,) = ledger(idle_api.platform)
    assert row.job_id == job_id and row.cost == 0 and row.usage_seconds > 0  # usage recorded, not billed
    assert budget_row(idle_api.platform, made["id"]) == (0, 0)


def test_an_idempotent_retry_holds_once(idle_api: Api) -> None:
    set_simulator_rate(idle_api, "1")
    made = create_budget(idle_api, "1")
    headers = {"Idempotency-Key": "retry-me"}
    results: list[str] = []

    def submit() -> None:
        results.append(idle_api.post("/v0.4/jobs", json=bell_job(), headers=headers).json()["id"])

    threads = [threading.Thread(target=submit) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(results)) == 1
    assert budget(idle_api, made["id"])["held"] == str(HOLD)


def test_fifty_parallel_submissions_against_a_budget_for_ten_accept_exactly_ten(
    two_apps: tuple[Api, Api],
) -> None:
    one, two = two_apps
    set_simulator_rate(one, "1")
    made = create_budget(one, str(10 * HOLD))
    start = threading.Barrier(50)
    statuses: list[int] = []
    messages: list[str] = []
    lock = threading.Lock()

    def submit(n: int) -> None:
        api = one if n % 2 else two
        start.wait()
        response = api.post("/v0.4/jobs", json=bell_job(name=f"job-{n}"))
        with lock:
            statuses.append(response.status_code)
            if response.status_code == 402:
                messages.append(response.json()["message"])

    threads = [threading.Thread(target=submit, args=(n,)) for n in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [201] * 10 + [402] * 40
    assert all("0.000000 USD left" in m for m in messages), messages[:2]
    shown = budget(one, made["id"])
    assert (shown["held"], shown["remaining"]) == (str(10 * HOLD), "0.000000")
    with one.platform.db.read() as session:
        assert len(session.scalars(select(Job.id)).all()) == 10


def test_a_recurring_budget_starts_its_next_period_when_the_last_one_ended(idle_api: Api) -> None:
    set_simulator_rate(idle_api, "1")
    last_month = utcnow().replace(day=1) - timedelta(days=2)
    old = create_budget(idle_api, "0.5", period="month", period_start=last_month.isoformat())
    assert old["in_force"] is False
    assert idle_api.post("/v0.4/jobs", json=bell_job()).status_code == 201
    project = whoami(idle_api)["project_id"]
    listed = idle_api.get(f"/v0.4/projects/{project}/budgets").json()["budgets"]
    assert len(listed) == 2
    current = listed[0]
    assert current["in_force"] and current["limit"] == "0.500000" and current["held"] == str(HOLD)
    assert current["period_start"] == old["period_end"]


def test_a_custom_budget_that_ended_does_not_limit_and_overlaps_are_refused(idle_api: Api) -> None:
    set_simulator_rate(idle_api, "1")
    now = utcnow()
    create_budget(
        idle_api,
        "0",
        period="custom",
        period_start=(now - timedelta(days=10)).isoformat(),
        period_end=(now - timedelta(days=1)).isoformat(),
    )
    assert idle_api.post("/v0.4/jobs", json=bell_job()).status_code == 201
    project = whoami(idle_api)["project_id"]
    overlapping = idle_api.post(
        f"/v0.4/projects/{project}/budgets",
        json={"limit": "1", "period": "custom", "period_start": (now - timedelta(days=2)).isoformat(),
              "period_end": (now + timedelta(days=2)).isoformat()},
    )  # fmt: skip
    assert overlapping.status_code == 409 and "period_start" in overlapping.json()["message"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"limit": "10", "spent": "0"}, "spent"),
        ({"limit": "10", "held": "0"}, "held"),
        ({"limit": "10", "project_id": "someone-else"}, "project_id"),
        ({"limit": "-1"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"limit": "10", "period": "fortnight"}, "period"),
        ({"limit": "10", "period": "custom"}, "period_start"),
        ({}, "limit"),
    ],
)
def test_bad_budget_bodies_are_400s_naming_the_field(idle_api: Api, body: dict, field: str) -> None:
    project = whoami(idle_api)["project_id"]
    response = idle_api.post(f"/v0.4/projects/{project}/budgets", json=body)
    assert response.status_code == 400, response.text
    assert response.json()["message"].startswith(f"{field}:")
    assert response.json()["validation"]["keys"] == [field]


def test_patch_changes_the_limit_and_refuses_read_only_fields(idle_api: Api) -> None:
    made = create_budget(idle_api, "1")
    project = whoami(idle_api)["project_id"]
    url = f"/v0.4/projects/{project}/budgets/{made['id']}"
    assert idle_api.client.patch(url, json={"held": "0"}, headers=idle_api.headers).status_code == 400
    changed = idle_api.client.patch(url, json={"limit": "2.5"}, headers=idle_api.headers)
    assert changed.status_code == 200 and changed.json()["limit"] == "2.500000"
    assert idle_api.delete(url).status_code == 200
    assert idle_api.get(url).status_code == 404
    with idle_api.platform.db.read() as session:
        actions = session.scalars(select(AuditEvent.action).where(AuditEvent.target_id == made["id"])).all()
        assert sorted(actions) == ["budget.create", "budget.delete", "budget.update"]
        assert session.scalars(select(Budget.id)).all() == []


def test_members_read_budgets_owners_manage_them_other_tenants_get_404(idle_api: Api) -> None:
    made = create_budget(idle_api, "1")
    project = whoami(idle_api)["project_id"]
    member = as_key(idle_api, key_for(idle_api.platform, project, project_role="member"))
    assert member.get(f"/v0.4/projects/{project}/budgets/{made['id']}").status_code == 200
    assert member.post(f"/v0.4/projects/{project}/budgets", json={"limit": "5"}).status_code == 403
    admin = as_key(idle_api, key_for(idle_api.platform, project, project_role="admin"))
    refused = admin.delete(f"/v0.4/projects/{project}/budgets/{made['id']}")
    assert refused.status_code == 403 and "budget.manage" in refused.json()["message"]
    _, _, stranger_key = new_tenant(idle_api.platform)
    stranger = as_key(idle_api, stranger_key)
    assert stranger.get(f"/v0.4/projects/{project}/budgets").status_code == 404
    assert stranger.get(f"/v0.4/projects/{project}/budgets/{made['id']}").status_code == 404


def test_time_is_spent_in_the_budget_only_by_jobs_of_its_project(idle_api: Api) -> None:
    """Another project's jobs (same organization) neither hold nor are refused by this budget."""
    set_simulator_rate(idle_api, "1")
    create_budget(idle_api, "0")
    assert idle_api.post("/v0.4/jobs", json=bell_job()).status_code == 402
    with idle_api.platform.db.write() as session:
        from qumulus.store.models import Project

        mine = session.get(Project, whoami(idle_api)["project_id"])
        other = Project(organization_id=mine.organization_id, name="second")
        session.add(other)
        session.flush()
        other_id = other.id
    colleague = as_key(idle_api, key_for(idle_api.platform, other_id, project_role="member"))
    assert colleague.post("/v0.4/jobs", json=bell_job()).status_code == 201


def test_concurrent_transactions_never_hold_past_the_limit(idle_api: Api) -> None:
    """The conditional UPDATE alone (no group commit): 30 transactions at once, each holding its
    row lock a while before committing; exactly 10 holds fit."""
    from qumulus.auth.principal import Principal
    from qumulus.circuits.ionq_json import parse_input
    from qumulus.errors import PaymentRequired
    from qumulus.services.billing.charging import reserve

    set_simulator_rate(idle_api, "1")
    made = create_budget(idle_api, str(10 * HOLD))
    me = whoami(idle_api)
    who = Principal(me["organization_id"], me["project_id"], None, None)
    platform = idle_api.platform
    backend = platform.backends.get("simulator")
    batch = parse_input("ionq.circuit.v1", BELL)
    start = threading.Barrier(30)
    outcomes: list[str] = []

    def attempt() -> None:
        start.wait()
        try:
            with platform.db.begin() as conn:
                reserve(conn, who, backend, batch, 100)
                time.sleep(0.02)  # keep the transaction open: others must wait and re-check
            outcomes.append("held")
        except PaymentRequired:
            outcomes.append("refused")

    threads = [threading.Thread(target=attempt) for _ in range(30)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["held"] * 10 + ["refused"] * 20
    assert budget_row(platform, made["id"]) == (0, 10 * HOLD)


def test_a_multi_circuit_job_is_billed_per_circuit_when_one_fails(idle_api: Api) -> None:
    """Completed children are charged, the failed one is not, every hold is released."""
    set_simulator_rate(idle_api, "1000")
    made = create_budget(idle_api, "100")
    parent = idle_api.post("/v0.4/jobs", json=THREE).json()["id"]
    children = idle_api.get(f"/v0.4/jobs/{parent}").json()["child_job_ids"]
    assert budget(idle_api, made["id"])["held"] == str(3 * HOLD * 1000)
    with idle_api.platform.db.write() as session:
        session.execute(
            update(Job).where(Job.id == children[1]).values(input={"qubits": 2, "circuit": "garbage"})
        )
    idle_api.platform.start_runtime()
    finished = idle_api.wait(parent)
    assert finished["status"] == "failed" and "circuit 1" in finished["failure"]["message"]
    rows = {r.job_id: r for r in ledger(idle_api.platform)}
    assert set(rows) == set(children)  # one row per circuit, none for the parent
    assert rows[children[1]].cost == 0 and rows[children[0]].cost > 0 and rows[children[2]].cost > 0
    spent, held = budget_row(idle_api.platform, made["id"])
    assert held == 0 and spent == rows[children[0]].cost + rows[children[2]].cost
