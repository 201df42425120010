"""The asyncio API: ``await job.result()`` and ``async for status in job.watch()`` read the same push
channel as the blocking calls (no polling), and many jobs are awaited together on one event loop."""

from __future__ import annotations

import asyncio

import pytest

from qumulus import JobStatus
from qumulus.client import JobCancelledError, JobTimeoutError
from tests.client.conftest import bell


def test_watch_follows_the_push_channel_and_result_awaits(simulator, blocker) -> None:  # type: ignore[no-untyped-def]
    queued = [simulator.run(bell(), shots=10) for _ in range(3)]
    doomed = simulator.run(bell(), shots=10)
    doomed.cancel()  # while it waits behind the blocker
    transport = simulator.provider.transport
    calls: list[str] = []
    original_request, original_stream = transport.request, transport.async_stream

    def counting_request(method, path, **kw):  # type: ignore[no-untyped-def]
        calls.append(f"{method} {path}")
        return original_request(method, path, **kw)

    def counting_stream(path, **kw):  # type: ignore[no-untyped-def]
        calls.append(f"STREAM {path}")
        return original_stream(path, **kw)

    async def main() -> tuple[list[JobStatus], list[str], list]:  # type: ignore[type-arg]
        first = queued[0].aio
        with pytest.raises(JobTimeoutError):  # still queued behind the blocker
            await first.result(timeout=0.3)
        seen: list[JobStatus] = []
        transport.request, transport.async_stream = counting_request, counting_stream
        try:
            async for status in first.watch(timeout=120):
                seen.append(status)
                if len(seen) == 1:  # the stream is about to open: now let the queue move
                    await asyncio.to_thread(blocker.cancel)
        finally:
            transport.request, transport.async_stream = original_request, original_stream
        watched = [call for call in calls if first.job_id() in call]  # the blocker's cancel aside
        results = await asyncio.gather(*(job.aio.result(timeout=120) for job in queued))
        with pytest.raises(JobCancelledError):
            await doomed.aio
        return seen, watched, results

    seen, watched, results = asyncio.run(main())
    assert seen[0] is JobStatus.QUEUED and seen[-1] is JobStatus.DONE
    assert len(seen) == len(set(seen))  # one status per change
    assert watched and all(call.startswith("STREAM ") for call in watched)  # no polling GETs
    assert [r.job_id for r in results] == [j.job_id() for j in queued]
    assert all(set(r.get_counts()) <= {"00", "11"} and sum(r.get_counts().values()) == 10 for r in results)
    assert queued[0].cached_status() is JobStatus.DONE  # the watch updated the blocking handle too


def test_run_async_then_await(simulator) -> None:  # type: ignore[no-untyped-def]
    async def main():  # type: ignore[no-untyped-def]
        job = await simulator.run_async(bell(), shots=20, job_name="async", job_tags=["aio"])
        statuses = [status async for status in job.watch(timeout=60)]
        return job, statuses, await job

    job, statuses, result = asyncio.run(main())
    assert statuses[-1] is JobStatus.DONE and result.get_probabilities() == {"00": 0.5, "11": 0.5}
    assert job.job.name() == "async" and job.job.tags() == ["aio"]
