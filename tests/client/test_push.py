"""The push channel: ``GET /v0.4/jobs/{id}/events`` streams each change and ends at the final one,
and the SDK waits on it instead of polling (latency is measured in bench/push_latency.py)."""

from __future__ import annotations

import json
import threading

import httpx

from qumulus import JobStatus
from tests.client.conftest import bell
from tests.conftest import LiveServer


def _events(server: LiveServer, job_id: str, on_event=None, **params: str) -> list[tuple[str, dict]]:  # type: ignore[no-untyped-def]
    out = []
    headers = {"Authorization": f"apiKey {server.key}"}
    with httpx.stream(
        "GET", f"{server.v04}/jobs/{job_id}/events", params=params, headers=headers, timeout=60
    ) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        kind, data = None, ""
        for line in r.iter_lines():
            if line.startswith("event:"):
                kind = line[6:].strip()
            elif line.startswith("data:"):
                data = line[5:].strip()
            elif line == "" and kind:
                out.append((kind, json.loads(data)))
                kind = None
                if on_event is not None:
                    on_event()
    return out


def test_stream_reports_each_change_and_ends_at_the_final_one(
    sdk_server: LiveServer, simulator, blocker
) -> None:  # type: ignore[no-untyped-def]
    queued = simulator.run(bell(), shots=10)
    first = threading.Event()
    collected: list[list[tuple[str, dict]]] = []
    reader = threading.Thread(
        target=lambda: collected.append(_events(sdk_server, queued.job_id(), first.set))
    )
    reader.start()
    assert first.wait(30)  # the stream is open and has said "ready"
    blocker.cancel()  # now let the queue move
    reader.join(60)
    events = collected[0]
    statuses = [body["status"] for kind, body in events]
    assert [kind for kind, _ in events] == ["status"] * len(events)
    assert statuses[0] == "ready" and statuses[-1] == "completed"
    assert len(statuses) == len(set(statuses))  # one event per change
    assert events[-1][1]["results"]["probabilities"]["url"].endswith("/results/probabilities")


def test_stream_is_bounded_in_time(sdk_server: LiveServer, simulator, blocker) -> None:  # type: ignore[no-untyped-def]
    events = _events(sdk_server, blocker.job_id(), timeout="0.5")
    assert events[0][0] == "status" and events[-1] == (
        "timeout",
        {"id": blocker.job_id(), "status": "started"},
    )


def test_a_finished_job_streams_once_and_closes(sdk_server: LiveServer, simulator) -> None:  # type: ignore[no-untyped-def]
    job = simulator.run(bell(), shots=10)
    job.result(timeout=60)
    events = _events(sdk_server, job.job_id())
    assert [(k, b["status"]) for k, b in events] == [("status", "completed")]


def test_the_sdk_waits_on_the_stream_not_by_polling(simulator, blocker) -> None:  # type: ignore[no-untyped-def]
    queued = simulator.run(bell(), shots=10)
    transport = simulator.provider.transport
    calls: list[tuple[str, str]] = []
    original_request, original_stream = transport.request, transport.stream

    def counting_request(method, path, **kw):  # type: ignore[no-untyped-def]
        calls.append((method, path))
        return original_request(method, path, **kw)

    def counting_stream(path, **kw):  # type: ignore[no-untyped-def]
        calls.append(("STREAM", path))
        return original_stream(path, **kw)

    transport.request, transport.stream = counting_request, counting_stream
    try:
        seen: list[JobStatus] = []
        queued.wait_for_final_state(timeout=120, callback=lambda _id, status, _job: seen.append(status))
    finally:
        transport.request, transport.stream = original_request, original_stream
    assert seen[-1] is JobStatus.DONE
    assert calls and all(kind == "STREAM" for kind, _ in calls)  # no GET /jobs/{id} polls
    assert len(calls) <= 3  # one stream per minute of waiting at most (reconnects)


def test_a_cancel_wakes_a_waiting_result(simulator, blocker) -> None:  # type: ignore[no-untyped-def]
    from qumulus.client import JobCancelledError

    queued = simulator.run(bell(), shots=10)
    outcome: list[BaseException] = []

    def wait() -> None:
        try:
            simulator.provider.retrieve_job(queued.job_id()).result(timeout=60)
        except BaseException as exc:
            outcome.append(exc)

    waiter = threading.Thread(target=wait)
    waiter.start()
    queued.cancel()
    waiter.join(30)
    assert not waiter.is_alive() and isinstance(outcome[0], JobCancelledError)
