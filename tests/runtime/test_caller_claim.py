"""A caller's claim (``WorkerPool.claim_in`` / ``run_claimed``): what the workload runner uses to
start its circuits in the transaction that queues them. It is the pool's own claim: fair-share
order and its limit, the long lanes, and a completion like any worker's (result, ledger)."""

from __future__ import annotations

from sqlalchemy import func, select

from qumulus.runtime.executor import LocalExecutor
from qumulus.runtime.worker import WorkerPool
from qumulus.store.models import Execution, Result, UsageLedger
from tests.conftest import make_platform
from tests.runtime.test_worker_failures import BELL, _principal, _submit


def _pool(platform) -> WorkerPool:  # type: ignore[no-untyped-def]
    """A pool whose threads are not started: only the caller claims and runs."""
    return WorkerPool(platform.db, LocalExecutor(1), platform.waker, data_dir=platform.data_dir, threads=2)


def _states(platform, job_ids: list[str]) -> list[str]:  # type: ignore[no-untyped-def]
    with platform.db.read() as session:
        rows = session.execute(select(Execution.job_id, Execution.state).where(Execution.job_id.in_(job_ids)))
        found = {row.job_id: row.state for row in rows}
    return [found[j] for j in job_ids]


def test_the_caller_claims_in_fair_share_order_up_to_its_limit_and_completes_as_a_worker(settings) -> None:  # type: ignore[no-untyped-def]
    platform, _ = make_platform(settings)
    who = _principal(platform)
    pool = _pool(platform)
    try:
        first, second = _submit(platform, who, BELL), _submit(platform, who, BELL)
        with platform.db.begin(durable=False) as conn:
            batch = pool.claim_in(conn, 1)
        assert [c.job_id for c in batch.claimed] == [first]  # the queue's order, one as asked
        done = pool.run_claimed(batch)
        assert set(done) == {first} and done[first].ok
        assert sorted(zip(done[first].indices, done[first].values, strict=True)) == [(0, 0.5), (3, 0.5)]
        assert _states(platform, [first, second]) == ["done", "queued"]
        with platform.db.read() as session:
            assert session.scalar(select(func.count()).select_from(Result).where(Result.job_id == first)) == 1
            assert (
                session.scalar(
                    select(func.count()).select_from(UsageLedger).where(UsageLedger.job_id == first)
                )
                == 1
            )
    finally:
        pool.executor.shutdown()
        platform.stop()


def test_a_claim_whose_transaction_fails_takes_nothing_and_gives_its_lane_back(settings) -> None:  # type: ignore[no-untyped-def]
    platform, _ = make_platform(settings)
    who = _principal(platform)
    pool = _pool(platform)
    try:
        wide = {"qubits": 20, "circuit": [{"gate": "h", "target": q} for q in range(20)]}  # long class
        job_id = _submit(platform, who, wide)
        try:
            with platform.db.begin(durable=False) as conn:
                batch = pool.claim_in(conn, 1)
                assert [c.job_id for c in batch.claimed] == [job_id]
                raise RuntimeError("the caller's transaction fails after its claim")
        except RuntimeError:
            batch.release()
        assert _states(platform, [job_id]) == ["queued"]
        with platform.db.begin(durable=False) as conn:  # the lane is free again: long work is claimed
            again = pool.claim_in(conn, 1)
        assert [c.job_id for c in again.claimed] == [job_id]
        assert pool.run_claimed(again)[job_id].ok
    finally:
        pool.executor.shutdown()
        platform.stop()
