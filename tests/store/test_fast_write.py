"""Rows inserted through the fast path read back exactly like rows a Core insert wrote."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import insert, select

from qumulus.store.db import Database
from qumulus.store.fast_write import insert_rows
from qumulus.store.models import Backend, Execution, Job, Organization, Project, UsageLedger
from qumulus.timeutil import utcnow

SUBMITTED = utcnow() - timedelta(seconds=3)


def _job(job_id: str) -> dict[str, object]:
    return {
        "id": job_id,
        "project_id": "p1",
        "backend": "simulator",
        "type": "ionq.circuit.v1",
        "name": None,
        "shots": 100,
        "metadata": {"k": "v"},
        "input": {"qubits": 2, "circuit": [{"gate": "h", "target": 0}]},
        "settings": {},
        "status": "ready",
        "submitted_at": SUBMITTED,
        "budget_hold": Decimal("0.125000"),
        "estimated_seconds": 0.25,
    }  # every other column is left to its default


def test_fast_inserts_read_back_like_core_inserts(database_url: str) -> None:
    db = Database(database_url)
    try:
        with db.begin() as conn:
            conn.execute(insert(Organization).values(id="o1", name="org", slug="org"))
            conn.execute(insert(Project).values(id="p1", organization_id="o1", name="proj"))
            conn.execute(insert(Backend).values(name="simulator", kind="simulator", qubits=29))
            conn.execute(insert(Job), [_job("core")])
            insert_rows(conn, Job.__table__, [_job("fast1"), _job("fast2")])
            ledger = {
                "job_id": "core", "project_id": "p1", "organization_id": "o1", "backend": "simulator",
                "usage_seconds": 0.5, "rate_per_second": Decimal("0.5"), "cost": Decimal("0.25"),
            }  # fmt: skip
            conn.execute(insert(UsageLedger), [ledger])
            insert_rows(conn, UsageLedger.__table__, [{**ledger, "job_id": "fast1"}])
            execution = {
                "job_id": "core",
                "backend": "simulator",
                "project_id": "p1",
                "organization_id": "o1",
            }
            conn.execute(insert(Execution), [execution])
            insert_rows(conn, Execution.__table__, [{**execution, "job_id": "fast1"}])
        with db.engine.connect() as conn:
            jobs = {r.id: r._asdict() for r in conn.execute(select(Job.__table__))}
            ledgers = {r.job_id: r._asdict() for r in conn.execute(select(UsageLedger.__table__))}
            executions = {r.job_id: r._asdict() for r in conn.execute(select(Execution.__table__))}
    finally:
        db.dispose()
    assert set(jobs) == {"core", "fast1", "fast2"}
    core = {k: v for k, v in jobs["core"].items() if k != "id"}
    for job_id in ("fast1", "fast2"):
        fast = {k: v for k, v in jobs[job_id].items() if k != "id"}
        assert fast == core  # defaults (priority, tags, stats, ...), JSON, dates and decimals alike
    assert jobs["fast1"]["input"] == {"qubits": 2, "circuit": [{"gate": "h", "target": 0}]}
    assert jobs["fast1"]["budget_hold"] == Decimal("0.125000")

    def same(a: dict[str, object], b: dict[str, object], volatile: set[str]) -> None:
        assert {k: v for k, v in a.items() if k not in volatile} == {
            k: v for k, v in b.items() if k not in volatile
        }

    same(ledgers["core"], ledgers["fast1"], {"id", "job_id", "recorded_at"})
    assert ledgers["fast1"]["id"] != ledgers["core"]["id"]  # a callable default runs per row
    assert abs((ledgers["fast1"]["recorded_at"] - ledgers["core"]["recorded_at"]).total_seconds()) < 5
    same(executions["core"], executions["fast1"], {"id", "job_id", "created_at"})
