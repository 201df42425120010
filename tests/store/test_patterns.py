"""Backend patterns in SQL match exactly what the pure rule matches, and SQLite's can use the index."""

from __future__ import annotations

import pytest
from sqlalchemy import Column, MetaData, String, Table, create_engine, func, insert, select

from qumulus.accounting.pricing import pattern_matches
from qumulus.store.patterns import backend_condition

NAMES = [
    "qpu.aria-1",
    "qpu.forte-1",
    "qpu",
    "qpux.aria",
    "QPU.aria-1",
    "simulator",
    "sim_1",
    "simx1",
    "a%b.c",
]
PATTERNS = ["*", "qpu.*", "qpu.aria-1", "simulator", "sim_*", "sim_1", "a%b.*", "QPU.*", "nothing.*"]


@pytest.mark.parametrize("pattern", PATTERNS)
def test_sql_pattern_matches_the_pure_rule(database_url: str, pattern: str) -> None:
    engine = create_engine(database_url)
    table = Table("pattern_probe", MetaData(), Column("backend", String(50)))
    try:
        with engine.begin() as conn:
            table.create(conn)
            conn.execute(insert(table), [{"backend": n} for n in NAMES])
            found = set(
                conn.scalars(select(table.c.backend).where(backend_condition(table.c.backend, pattern)))
            )
            table.drop(conn)
    finally:
        engine.dispose()
    assert found == {n for n in NAMES if pattern_matches(pattern, n)}


def test_statements_cached_for_one_pattern_answer_for_their_own_pattern(database_url: str) -> None:
    """The compiled statements are cached with the prefix in their key: one engine running the same
    statement shape for every pattern in turn gets each pattern's own answer, twice over."""
    engine = create_engine(database_url)
    table = Table("pattern_probe_cached", MetaData(), Column("backend", String(50)))
    try:
        with engine.begin() as conn:
            table.create(conn)
            conn.execute(insert(table), [{"backend": n} for n in NAMES])
            for pattern in PATTERNS * 2:
                stmt = select(table.c.backend).where(backend_condition(table.c.backend, pattern))
                assert set(conn.scalars(stmt)) == {n for n in NAMES if pattern_matches(pattern, n)}, pattern
            table.drop(conn)
    finally:
        engine.dispose()


def test_sqlite_allocation_usage_reads_the_ledger_index(database_url: str) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("the query plan below is SQLite's")
    from qumulus.store.models import UsageLedger

    engine = create_engine(database_url)
    stmt = select(func.sum(UsageLedger.usage_seconds)).where(
        UsageLedger.organization_id == "o", backend_condition(UsageLedger.backend, "qpu.*")
    )
    compiled = stmt.compile(engine)
    try:
        with engine.connect() as conn:
            plan = conn.exec_driver_sql(
                f"EXPLAIN QUERY PLAN {compiled}",
                compiled.positiontup and tuple(compiled.params[name] for name in compiled.positiontup),
            ).all()
    finally:
        engine.dispose()
    detail = " ".join(str(row) for row in plan)
    assert "ix_usage_ledger_org_backend_at" in detail and "backend>" in detail, detail
