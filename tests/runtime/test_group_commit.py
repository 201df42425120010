"""Group commit: concurrent submitters share commits, and one's failure does not sink the others."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import insert, select

from qumulus.store.group_commit import GroupCommitter
from qumulus.store.models import Organization
from tests.conftest import make_platform


def _org(slug: str):  # type: ignore[no-untyped-def]
    def work(conn):  # type: ignore[no-untyped-def]
        conn.execute(insert(Organization).values(id=slug, name=slug, slug=slug))
        return slug

    return work


def test_work_queued_during_a_commit_shares_the_next_one(settings) -> None:  # type: ignore[no-untyped-def]
    platform, _ = make_platform(settings)
    committer = GroupCommitter(platform.db)
    results: list[str] = []
    with committer._leader:  # a commit "in progress": everyone who arrives now must queue
        threads = [threading.Thread(target=lambda i=i: results.append(committer.run(_org(f"org-{i}"))))
                   for i in range(24)]  # fmt: skip
        for t in threads:
            t.start()
        while len(committer._queue) < 24:
            time.sleep(0.001)
    for t in threads:
        t.join()
    assert sorted(results) == sorted(f"org-{i}" for i in range(24))
    assert committer.commits == 1 and committer.items == 24  # one fsync for 24 submissions
    with platform.db.read() as session:
        stored = set(session.scalars(select(Organization.slug)))
    assert {f"org-{i}" for i in range(24)} <= stored


def test_one_failure_in_a_group_rolls_back_only_its_own_work(settings) -> None:  # type: ignore[no-untyped-def]
    platform, _ = make_platform(settings)
    committer = GroupCommitter(platform.db)
    committer.run(_org("taken"))
    outcomes: dict[str, object] = {}
    barrier = threading.Barrier(6)

    def submit(slug: str) -> None:
        barrier.wait()
        try:
            outcomes[slug] = committer.run(_org(slug))
        except Exception as exc:
            outcomes[slug] = exc

    slugs = ["a", "b", "taken", "c", "d", "e"]
    threads = [threading.Thread(target=submit, args=(s,)) for s in slugs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert isinstance(outcomes["taken"], Exception)
    assert all(outcomes[s] == s for s in slugs if s != "taken")
    with platform.db.read() as session:
        stored = set(session.scalars(select(Organization.slug)))
    assert {"a", "b", "c", "d", "e", "taken"} <= stored


def test_a_lone_failure_raises_to_its_caller(settings) -> None:  # type: ignore[no-untyped-def]
    platform, _ = make_platform(settings)
    committer = GroupCommitter(platform.db)
    committer.run(_org("dup"))
    with pytest.raises(Exception):  # noqa: B017 - the driver's IntegrityError
        committer.run(_org("dup"))
    assert committer.run(_org("fine")) == "fine"


def test_async_callers_share_a_commit_and_a_failure_reaches_only_its_caller(settings) -> None:  # type: ignore[no-untyped-def]
    """The event-loop path: queued while a commit is in progress, six submissions (one a duplicate)
    are committed together in one transaction; the duplicate's caller alone gets the error."""
    import asyncio

    from sqlalchemy.exc import IntegrityError

    platform, _ = make_platform(settings)
    committer = GroupCommitter(platform.db)
    committer.run(_org("taken"))
    slugs = ["a", "b", "taken", "c", "d", "e"]

    async def main() -> list[object]:
        with committer._leader:  # a commit "in progress": all six queue behind it
            tasks = [asyncio.create_task(committer.run_async(_org(s))) for s in slugs]
            while len(committer._queue) < len(slugs):
                await asyncio.sleep(0.001)
        return await asyncio.gather(*tasks, return_exceptions=True)

    before = committer.commits
    outcomes = dict(zip(slugs, asyncio.run(main()), strict=True))
    committer.close()
    assert isinstance(outcomes.pop("taken"), IntegrityError)
    assert outcomes == {s: s for s in outcomes}
    assert committer.commits - before == 1  # the group went in one (isolated) commit
    with platform.db.read() as session:
        stored = set(session.scalars(select(Organization.slug)))
    assert {"a", "b", "c", "d", "e", "taken"} <= stored


def test_a_group_without_failures_commits_without_savepoints(settings) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import event

    platform, _ = make_platform(settings)
    committer = GroupCommitter(platform.db)
    statements: list[str] = []
    engine = platform.db._write_engine.engine  # the engine durable transactions run on

    def record(conn, cursor, statement, *args) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement.split()[0].upper())

    event.listen(engine, "before_cursor_execute", record)
    try:
        with committer._leader:
            threads = [threading.Thread(target=committer.run, args=(_org(f"s{i}"),)) for i in range(8)]
            for t in threads:
                t.start()
            while len(committer._queue) < 8:
                time.sleep(0.001)
        for t in threads:
            t.join()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert statements.count("INSERT") == 8
    assert "SAVEPOINT" not in statements
