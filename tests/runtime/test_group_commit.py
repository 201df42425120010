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
