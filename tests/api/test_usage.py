"""Usage and cost: one ledger row per executed job, charged once, and reports that add up."""

from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select

from qumulus.accounting.budget import money
from qumulus.store.models import Job, Project
from qumulus.timeutil import utcnow
from tests.api._billing import (
    as_key,
    budget_row,
    create_budget,
    key_for,
    ledger,
    set_simulator_rate,
    whoami,
)
from tests.api.conftest import bell_job
from tests.api.test_budgets import THREE
from tests.conftest import Api


def _finished_jobs(api: Api) -> list[Job]:
    with api.platform.db.read() as session:
        return list(session.scalars(select(Job).where(Job.status.in_(("completed", "failed")))))


def test_every_executed_job_has_exactly_one_ledger_row_and_parents_sum_their_children(api: Api) -> None:
    set_simulator_rate(api, "1000")
    ids = [api.post("/v0.4/jobs", json=bell_job()).json()["id"] for _ in range(3)]
    multi = api.post("/v0.4/jobs", json=THREE).json()["id"]
    for job_id in [*ids, multi]:
        assert api.wait(job_id)["status"] == "completed"
    rows = ledger(api.platform)
    per_job = Counter(r.job_id for r in rows)
    jobs = {j.id: j for j in _finished_jobs(api)}
    children = [j for j in jobs.values() if j.parent_id == multi]
    assert len(children) == 3
    executed = [j for j in jobs.values() if j.type == "ionq.circuit.v1"]
    assert sorted(per_job) == sorted(j.id for j in executed)  # parents have none: children carry it
    assert set(per_job.values()) == {1}
    by_job = {r.job_id: r for r in rows}
    for job in executed:
        assert money(job.cost) == money(by_job[job.id].cost) > 0
        assert by_job[job.id].usage_seconds == job.usage_seconds
    assert money(jobs[multi].cost) == sum((money(by_job[c.id].cost) for c in children), Decimal(0))


def test_a_retried_submission_with_the_same_idempotency_key_is_charged_once(api: Api) -> None:
    set_simulator_rate(api, "1000")
    made = create_budget(api, "100")
    headers = {"Idempotency-Key": "pay-once"}
    first = api.post("/v0.4/jobs", json=bell_job(), headers=headers).json()["id"]
    assert api.wait(first)["status"] == "completed"
    retried = [api.post("/v0.4/jobs", json=bell_job(), headers=headers).json()["id"] for _ in range(3)]
    assert retried == [first] * 3
    (row,) = ledger(api.platform)
    assert row.job_id == first
    assert budget_row(api.platform, made["id"]) == (money(row.cost), 0)


def _report(api: Api, **params: str) -> dict:
    response = api.get("/v0.4/usage", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_json_and_csv_reports_add_up_to_the_ledger(api: Api) -> None:
    set_simulator_rate(api, "1000")
    ids = [api.post("/v0.4/jobs", json=bell_job()).json()["id"] for _ in range(4)]
    ids.append(api.post("/v0.4/jobs", json=THREE).json()["id"])
    for job_id in ids:
        assert api.wait(job_id)["status"] == "completed"
    rows = ledger(api.platform)
    total_cost = sum((money(r.cost) for r in rows), Decimal(0))
    total_seconds = sum(r.usage_seconds for r in rows)
    me = whoami(api)
    for group_by in ("project", "organization", "backend", "user", "period", "project,backend,period"):
        for period in ("day", "week", "month"):
            report = _report(api, group_by=group_by, period=period)
            assert report["total"]["jobs"] == len(rows) == 7
            assert Decimal(report["total"]["cost"]) == total_cost
            assert abs(report["total"]["usage_seconds"] - total_seconds) < 1e-6
            assert sum(Decimal(r["cost"]) for r in report["rows"]) == total_cost
    by_project = _report(api, group_by="project")["rows"]
    assert [(r["project_id"], r["project_name"], r["jobs"]) for r in by_project] == [
        (me["project_id"], "Default Project", 7)
    ]
    by_month = _report(api, group_by="period", period="month")["rows"]
    assert [r["period_start"] for r in by_month] == [utcnow().date().replace(day=1).isoformat()]
    by_user = _report(api, group_by="user")["rows"]
    assert by_user[0]["user_email"] == "admin@localhost"

    text = api.get("/v0.4/usage", params={"group_by": "backend,period", "format": "csv"})
    assert text.status_code == 200 and text.headers["content-type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(text.text)))
    assert list(table[0]) == ["backend", "period_start", "jobs", "usage_seconds", "cost"]
    assert sum(Decimal(r["cost"]) for r in table) == total_cost
    assert sum(int(r["jobs"]) for r in table) == 7
    accepted = api.get("/v0.4/usage", headers={"Accept": "text/csv"})
    assert accepted.headers["content-type"].startswith("text/csv") and "project_id" in accepted.text


def test_date_range_filters(api: Api) -> None:
    assert api.wait(api.post("/v0.4/jobs", json=bell_job()).json()["id"])["status"] == "completed"
    tomorrow = (utcnow() + timedelta(days=1)).date().isoformat()
    yesterday = (utcnow() - timedelta(days=1)).date().isoformat()
    assert _report(api, **{"from": tomorrow})["total"]["jobs"] == 0
    assert _report(api, **{"from": yesterday, "to": tomorrow})["total"]["jobs"] == 1
    assert _report(api, to=yesterday)["rows"] == []


def test_members_see_their_project_owners_the_organization(api: Api) -> None:
    me = whoami(api)
    with api.platform.db.write() as session:
        other = Project(organization_id=me["organization_id"], name="Second")
        session.add(other)
        session.flush()
        other_id = other.id
    colleague = as_key(api, key_for(api.platform, other_id, project_role="viewer"))
    member = as_key(api, key_for(api.platform, other_id, project_role="member"))
    assert member.wait(member.post("/v0.4/jobs", json=bell_job()).json()["id"])["status"] == "completed"
    assert api.wait(api.post("/v0.4/jobs", json=bell_job()).json()["id"])["status"] == "completed"
    owner_view = _report(api, group_by="project")
    assert sorted(r["project_name"] for r in owner_view["rows"]) == ["Default Project", "Second"]
    mine = _report(colleague, group_by="project")
    assert [r["project_id"] for r in mine["rows"]] == [other_id]  # never the other project's rows
    assert colleague.get("/v0.4/usage", params={"project_id": me["project_id"]}).status_code == 404
    only_second = _report(api, group_by="project", project_id=other_id)
    assert [r["project_name"] for r in only_second["rows"]] == ["Second"]


def test_bad_report_parameters_are_400s_naming_them(api: Api) -> None:
    for params, field in (
        ({"group_by": "planet"}, "group_by"),
        ({"period": "decade"}, "period"),
        ({"from": "last tuesday"}, "from"),
        ({"format": "xml"}, "format"),
        ({"from": "2026-02-01", "to": "2026-01-01"}, "to"),
    ):
        response = api.get("/v0.4/usage", params=params)
        assert response.status_code == 400, (params, response.text)
        assert response.json()["message"].startswith(f"{field}:")
