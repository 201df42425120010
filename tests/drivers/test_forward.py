"""The forwarding procedure's rules, on a scripted in-process driver: a known id is never
resubmitted, transient failures are waited out, a stop ends the wait without losing the job."""

from __future__ import annotations

import threading

from qumulus.drivers import DriverConfig, JobState, ProviderJob, Transient
from qumulus.drivers.backoff import Backoff, PollSchedule
from qumulus.drivers.base import DeviceStatus, Driver
from qumulus.drivers.forward import Retry, follow, submit_once


class Scripted(Driver):
    """Answers from a script: each call pops the next entry (an exception is raised)."""

    def __init__(self, submits: list, polls: list) -> None:
        super().__init__(DriverConfig(backend="s", options={}))
        self.submits, self.polls, self.calls = submits, polls, []

    def submit(self, job: ProviderJob) -> str:
        self.calls.append("submit")
        return _next(self.submits)

    def poll(self, provider_job_id: str) -> JobState:
        self.calls.append("poll")
        return _next(self.polls)

    def find(self, token: str) -> str | None:
        self.calls.append("find")
        return None

    def cancel(self, provider_job_id: str) -> None: ...

    def characterization(self) -> None:
        return None

    def status(self) -> DeviceStatus:
        return DeviceStatus("operational")


def _next(script: list):  # type: ignore[no-untyped-def]
    item = script.pop(0)
    if isinstance(item, Exception):
        raise item
    return item


JOB = ProviderJob(token="t", type="ionq.circuit.v1", input={"qubits": 1, "circuit": []}, shots=1)
QUICK = Backoff(initial=0.001, cap=0.002)


def test_a_known_provider_id_is_re_attached_never_resubmitted() -> None:
    driver = Scripted([], [])
    retry = Retry(stop=threading.Event(), backoff=QUICK)
    assert submit_once(driver, JOB, known_id="p-1", record=lambda _: None, retry=retry) == "p-1"
    assert driver.calls == []


def test_a_first_submission_skips_the_search_and_a_retried_one_searches_first() -> None:
    driver = Scripted([Transient("503"), "p-2"], [])
    recorded: list[str] = []
    retry = Retry(stop=threading.Event(), backoff=QUICK)
    assert (
        submit_once(driver, JOB, known_id=None, record=recorded.append, retry=retry, earlier_attempts=False)
        == "p-2"
    )
    assert driver.calls == ["submit", "find", "submit"] and recorded == ["p-2"]


def test_follow_reports_changes_waits_out_failures_and_returns_the_final_state() -> None:
    polls = [
        JobState("queued"),
        Transient("timeout"),
        JobState("queued"),
        JobState("running"),
        JobState("completed"),
    ]
    driver = Scripted([], polls)
    changes: list[str] = []
    retry = Retry(stop=threading.Event(), backoff=QUICK)
    state = follow(
        driver,
        "p",
        retry=retry,
        schedule=PollSchedule(first=0.001, cap=0.001),
        on_change=lambda s: changes.append(s.status),
    )
    assert state is not None and state.status == "completed" and changes == ["queued", "running"]


def test_a_stop_ends_the_wait_and_reports_nothing() -> None:
    stop = threading.Event()
    failures: list[int] = []

    def note(exc: Transient, n: int, wait: float) -> None:
        failures.append(n)
        if n == 3:
            stop.set()

    driver = Scripted([Transient("down")] * 10, [])
    retry = Retry(stop=stop, backoff=QUICK, on_transient=note)
    recorded: list[str] = []
    assert submit_once(driver, JOB, known_id=None, record=recorded.append, retry=retry) is None
    assert failures == [1, 2, 3] and recorded == []
