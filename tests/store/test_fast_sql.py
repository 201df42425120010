"""The SQLite fast reader returns what a SQLAlchemy Core read returns: same rows, same Python types."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import bindparam, insert, select, update

from qumulus.store.db import Database
from qumulus.store.migrate import upgrade
from qumulus.store.models import Backend, Job, Organization, Project, Result
from qumulus.timeutil import utcnow

STMT = (
    select(Job.id, Job.status, Job.submitted_at, Job.deleted_at, Job.input)
    .add_columns(Result.probabilities, Result.qubits)
    .outerjoin(Result, Result.job_id == Job.id)
    .where(Job.id == bindparam("job_id"))
)
WITH_LITERALS = select(Job.id).where(Job.status == "completed", Job.shots > 10).limit(1)
EXPANDING = select(Job.id).where(Job.id.in_(bindparam("ids", expanding=True)))


@pytest.fixture
def db(tmp_path: Path):  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'q.db'}"
    upgrade(url)
    database = Database(url)
    with database.begin() as conn:
        conn.execute(insert(Organization).values(id="o1", name="org", slug="org"))
        conn.execute(insert(Project).values(id="p1", organization_id="o1", name="proj"))
        conn.execute(insert(Backend).values(name="simulator", kind="simulator", qubits=29))
        conn.execute(
            insert(Job).values(
                id="j1", project_id="p1", backend="simulator", type="ionq.circuit.v1", status="completed",
                shots=100, input={"qubits": 2, "circuit": []}, submitted_at=utcnow(),
            )
        )  # fmt: skip
        probabilities = {"indices": [0, 3], "values": [0.5, 0.5]}
        conn.execute(insert(Result).values(job_id="j1", qubits=2, probabilities=probabilities, sampled=False))
    yield database
    database.dispose()


def test_fast_rows_equal_core_rows(db: Database) -> None:
    assert db._fast is not None  # a file database reads through the fast reader
    with db.engine.connect() as conn:
        core_rows = [tuple(r) for r in conn.execute(STMT, {"job_id": "j1"})]
    fast = db.hot_rows(STMT, {"job_id": "j1"})
    assert [tuple(r) for r in fast] == core_rows
    row = fast[0]
    assert isinstance(row.submitted_at, datetime) and row.submitted_at.tzinfo is not None
    assert row.deleted_at is None and row.probabilities == {"indices": [0, 3], "values": [0.5, 0.5]}
    assert row.input == {"qubits": 2, "circuit": []}
    assert db.hot_rows(STMT, {"job_id": "nope"}) == []


def test_literals_expanding_and_fresh_reads(db: Database) -> None:
    # values bound in the statement itself (literals, LIMIT) are used
    assert [r.id for r in db.hot_rows(WITH_LITERALS, {})] == ["j1"]
    # an expanding IN is read through SQLAlchemy instead, with the same result
    assert [r.id for r in db.hot_rows(EXPANDING, {"ids": ["j1", "x"]})] == ["j1"]
    # a committed write is seen by the next read: no transaction is held open between reads
    with db.begin() as conn:
        conn.execute(update(Job).where(Job.id == "j1").values(status="failed"))
    assert db.hot_rows(STMT, {"job_id": "j1"})[0].status == "failed"


def test_the_fast_connection_is_read_only(db: Database) -> None:
    db.hot_rows(STMT, {"job_id": "j1"})
    assert db._fast is not None
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        db._fast._connection().execute("DELETE FROM jobs")


def test_dml_in_the_callers_transaction_matches_core(db: Database) -> None:
    """An executemany UPDATE with a datetime parameter: rows matched, values stored as Core stores
    them, and a rollback undoes it (it ran in the caller's transaction)."""
    from datetime import timedelta

    from qumulus.store import fast_sql

    finish = (
        update(Job)
        .where(Job.id == bindparam("job_id"), Job.status != "canceled")
        .values(status=bindparam("b_status"), completed_at=bindparam("b_at"))
    )
    when = utcnow() - timedelta(minutes=5)
    with db.begin() as conn:
        matched = fast_sql.execute(conn, finish, [{"job_id": "j1", "b_status": "failed", "b_at": when}])
        missing = fast_sql.execute(conn, finish, {"job_id": "nope", "b_status": "failed", "b_at": when})
        inside = fast_sql.rows(
            conn, select(Job.status, Job.completed_at).where(Job.id == bindparam("i")), {"i": "j1"}
        )
    assert (matched, missing) == (1, 0)
    assert inside[0].status == "failed" and inside[0].completed_at == when  # tz-aware, as Core returns it
    with db.engine.connect() as conn:
        assert conn.execute(select(Job.completed_at).where(Job.id == "j1")).scalar_one() == when
    try:
        with db.begin() as conn:
            fast_sql.execute(conn, finish, {"job_id": "j1", "b_status": "completed", "b_at": when})
            raise RuntimeError("roll back")
    except RuntimeError:
        pass
    assert db.hot_rows(STMT, {"job_id": "j1"})[0].status == "failed"
