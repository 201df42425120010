"""The runtime under failure: bad stored circuits, a dying simulator process, a crashed server."""

from __future__ import annotations

import os
import signal
import time

import psutil
from sqlalchemy import select, update

from qumulus.auth.principal import Principal
from qumulus.runtime import queue
from qumulus.services import jobs
from qumulus.store.models import Execution, Job, Project
from tests.conftest import make_platform

BELL = {"qubits": 2, "circuit": [{"gate": "h", "target": 0}, {"gate": "cnot", "control": 0, "target": 1}]}


def _principal(platform) -> Principal:  # type: ignore[no-untyped-def]
    with platform.db.read() as session:
        project = session.scalars(select(Project)).one()
    return Principal(
        organization_id=project.organization_id,
        project_id=project.id,
        user_id=None,
        api_key_id=None,
        project_role="admin",
    )


def _submit(platform, who: Principal, payload: dict) -> str:  # type: ignore[no-untyped-def]
    spec = jobs.JobSpec(backend="simulator", job_type="ionq.circuit.v1", input=payload)
    return jobs.submit_job(platform, who, spec).job.id


def _start_long_job(platform, who: Principal, layers: int) -> str:  # type: ignore[no-untyped-def]
    """Submit a 22-qubit circuit that takes seconds, and return once a worker has started it."""
    layer = [{"gate": "h", "target": q} for q in range(22)] + [{"gate": "t", "target": 0}]  # not Clifford
    layer += [{"gate": "cnot", "control": q, "target": q + 1} for q in range(21)]
    job_id = _submit(platform, who, {"qubits": 22, "circuit": layer * layers})
    deadline = time.monotonic() + 30
    while jobs.get_job(platform, who, job_id).job.status != "started" and time.monotonic() < deadline:
        time.sleep(0.01)
    return job_id


def _wait(platform, who: Principal, job_id: str, timeout: float = 60.0) -> Job:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while True:
        job = jobs.get_job(platform, who, job_id).job
        if job.status in jobs.TERMINAL or time.monotonic() > deadline:
            return job
        time.sleep(0.02)


def test_a_job_whose_simulation_raises_fails_and_the_server_goes_on(settings) -> None:  # type: ignore[no-untyped-def]
    platform, _ = make_platform(settings)
    who = _principal(platform)
    broken = _submit(platform, who, BELL)
    with platform.db.write() as session:  # a row damaged after validation (a bug, a bad migration)
        session.execute(update(Job).where(Job.id == broken).values(input={"qubits": 2, "circuit": "garbage"}))
    platform.start_runtime()
    try:
        failed = _wait(platform, who, broken)
        assert failed.status == "failed"
        assert failed.failure["code"] == "InvalidInput" and "circuit" in failed.failure["message"]
        good = _wait(platform, who, _submit(platform, who, BELL))
        assert good.status == "completed"
    finally:
        platform.stop()


def test_a_killed_simulator_process_is_replaced_and_the_job_retried(settings) -> None:  # type: ignore[no-untyped-def]
    platform, _ = make_platform(settings)
    who = _principal(platform)
    platform.start_runtime()
    try:
        job_id = _start_long_job(platform, who, layers=80)
        children = [
            p for p in psutil.Process(os.getpid()).children() if "spawn_main" in " ".join(p.cmdline())
        ]
        assert children, "no simulator process found"
        for child in children:
            os.kill(child.pid, signal.SIGKILL)
        job = _wait(platform, who, job_id, timeout=120)
        assert job.status == "completed", job.failure
        with platform.db.read() as session:
            attempt = session.scalar(select(Execution.attempt).where(Execution.job_id == job_id))
        assert attempt == 2
        assert _wait(platform, who, _submit(platform, who, BELL)).status == "completed"
    finally:
        platform.stop()


def test_work_left_running_by_a_dead_server_is_requeued_at_start(settings) -> None:  # type: ignore[no-untyped-def]
    platform, _ = make_platform(settings)
    who = _principal(platform)
    job_id = _submit(platform, who, BELL)
    with platform.db.write() as session:  # a previous server claimed it, then died
        claimed = queue.claim(session, owner="dead-host:1:x", backends=None, limit=10, lease_seconds=3600,
                              postgres=platform.db.is_postgres)  # fmt: skip
    assert [c.job_id for c in claimed] == [job_id]
    assert jobs.get_job(platform, who, job_id).job.status == "started"
    platform.start_runtime()
    try:
        job = _wait(platform, who, job_id)
        assert job.status == "completed"
    finally:
        platform.stop()


def test_a_late_completion_from_a_lost_lease_writes_nothing(settings) -> None:  # type: ignore[no-untyped-def]
    """Fencing: after a reap and a new claim, the first owner's completion is refused."""
    from qumulus.runtime.completion import complete
    from qumulus.runtime.tasks import Outcome

    platform, _ = make_platform(settings)
    who = _principal(platform)
    job_id = _submit(platform, who, BELL)
    with platform.db.write() as session:
        first = queue.claim(session, owner="a", backends=None, limit=1, lease_seconds=60, postgres=False)[0]
    with platform.db.write() as session:
        assert queue.reap(session, owner="a") == [first.execution_id]
    with platform.db.write() as session:
        second = queue.claim(session, owner="b", backends=None, limit=1, lease_seconds=60, postgres=False)[0]
    assert second.attempt == first.attempt + 1
    late = Outcome(first.execution_id, ok=True, seconds=0.5, qubits=2, engine="x", indices=[1], values=[1.0])
    with platform.db.write() as session:
        assert complete(session, owner="a", claimed={first.execution_id: first}, outcomes=[late],
                        data_dir=platform.data_dir) == []  # fmt: skip
    on_time = Outcome(second.execution_id, ok=True, seconds=0.1, qubits=2, engine="y", indices=[0, 3],
                      values=[0.5, 0.5])  # fmt: skip
    with platform.db.write() as session:
        finished = complete(session, owner="b", claimed={second.execution_id: second}, outcomes=[on_time],
                            data_dir=platform.data_dir)  # fmt: skip
    assert finished == [(job_id, "completed")]
    job = jobs.get_job(platform, who, job_id).job
    assert job.engine == "y" and job.usage_seconds == 0.1
    platform.stop()


def test_stopping_mid_simulation_is_prompt_and_the_job_runs_at_the_next_start(settings) -> None:  # type: ignore[no-untyped-def]
    platform, _ = make_platform(settings)
    who = _principal(platform)
    platform.start_runtime()
    job_id = _start_long_job(platform, who, layers=60)
    started = time.monotonic()
    platform.stop()
    assert time.monotonic() - started < 5.0  # did not wait for the simulation to finish
    again, _ = make_platform(settings)
    again.start_runtime()
    try:
        assert _wait(again, who, job_id, timeout=120).status == "completed"
    finally:
        again.stop()


def test_canceling_a_running_job_stops_its_simulation_at_once(settings) -> None:  # type: ignore[no-untyped-def]
    """A canceled long simulation does not keep its core: the process running it is replaced, the
    next job runs, and the canceled job is neither completed nor charged."""
    from qumulus.store.models import UsageLedger

    platform, _ = make_platform(settings)
    who = _principal(platform)
    platform.start_runtime()
    try:
        job_id = _start_long_job(platform, who, layers=400)  # minutes of simulation if left alone
        before = set(platform.executor.pids())
        canceled_at = time.monotonic()
        jobs.cancel_job(platform, who, job_id)
        deadline = canceled_at + 10  # the heartbeat alone would take lease/3 = 20 s
        while set(platform.executor.pids()) == before and time.monotonic() < deadline:
            time.sleep(0.02)
        assert set(platform.executor.pids()) != before, "the simulation was not stopped"
        follow_up = _wait(platform, who, _submit(platform, who, BELL), timeout=30)
        assert follow_up.status == "completed"
        assert jobs.get_job(platform, who, job_id).job.status == "canceled"
        with platform.db.read() as session:
            assert session.scalar(select(UsageLedger.id).where(UsageLedger.job_id == job_id)) is None
    finally:
        platform.stop()


def test_sigterm_during_a_job_does_not_report_a_dead_simulator(settings, caplog) -> None:  # type: ignore[no-untyped-def]
    """Issue 16.17: stopping (SIGTERM) while a job ran logged "a simulator process died; it has
    been replaced" although nothing died. Both orders are covered: the worker stopping its own
    simulator processes, and the signal reaching the simulator process first (a terminal's Ctrl-C or
    systemd signal the whole process group); the job is handed back and runs at the next start."""
    import logging

    caplog.set_level(logging.INFO, logger="qumulus")
    for signal_child_first in (False, True):
        platform, _ = make_platform(settings)
        who = _principal(platform)
        platform.start_runtime()
        job_id = _start_long_job(platform, who, layers=60)
        if signal_child_first:
            for pid in platform.executor.pids():
                os.kill(pid, signal.SIGTERM)
            time.sleep(0.05)
        platform.stop()
        died = [r.getMessage() for r in caplog.records if "died" in r.getMessage()]
        assert died == [], died
        with platform.db.read() as session:  # not failed: handed back, or requeued at the next start
            job = session.get(Job, job_id)
            assert job.status in ("ready", "started") and job.failure is None


def _nested(depth: int) -> dict:
    value: dict = {}
    for _ in range(depth):
        value = {"k": value}
    return value


def test_a_poisoned_job_fails_alone_and_its_batch_mates_complete(settings) -> None:  # type: ignore[no-untyped-def]
    """Issue 17.1: a stored row that cannot be pickled for the simulator process (600 levels of
    nesting: JSON reads it, pickle's recursion limit does not) fails its own job with a code; the
    ordinary jobs claimed in the same batch complete; nothing stays ``started``."""
    platform, _ = make_platform(settings)
    who = _principal(platform)
    ordinary = [_submit(platform, who, BELL) for _ in range(3)]
    poisoned = _submit(platform, who, BELL)
    ordinary += [_submit(platform, who, BELL) for _ in range(3)]
    with platform.db.write() as session:  # a row the edge would refuse today (a bug, an old row)
        session.execute(update(Job).where(Job.id == poisoned).values(settings={"deep": _nested(600)}))
    platform.start_runtime()
    try:
        bad = _wait(platform, who, poisoned, timeout=30)
        assert bad.status == "failed"
        assert bad.failure["code"] == "InvalidInput" and "RecursionError" in bad.failure["message"]
        for job_id in ordinary:
            assert _wait(platform, who, job_id, timeout=30).status == "completed"
    finally:
        platform.stop()


def test_a_batch_whose_process_dies_completes_all_but_the_culprit(settings, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A task that kills its simulator process (a segfault, an OOM kill) is run alone after the
    crash; its batch-mates complete, and the culprit fails with ``AttemptsExhausted`` at the cap."""
    from qumulus.runtime import executor as executor_module

    platform, _ = make_platform(settings)
    who = _principal(platform)
    ordinary = [_submit(platform, who, BELL) for _ in range(4)]
    culprit = _submit(platform, who, BELL)
    culprit_execution: list[str] = []
    with platform.db.read() as session:
        culprit_execution.append(session.scalar(select(Execution.id).where(Execution.job_id == culprit)))
    real_run = executor_module._Slot.run

    def run(slot, tasks):  # type: ignore[no-untyped-def]
        if any(t.execution_id in culprit_execution for t in tasks):
            slot.process.kill()  # the process dies under this batch
            slot.process.join()
        return real_run(slot, tasks)

    monkeypatch.setattr(executor_module._Slot, "run", run)
    platform.start_runtime()
    try:
        for job_id in ordinary:
            assert _wait(platform, who, job_id, timeout=60).status == "completed"
        bad = _wait(platform, who, culprit, timeout=60)
        assert bad.status == "failed" and bad.failure["code"] == "AttemptsExhausted", bad.failure
        with platform.db.read() as session:
            assert session.scalar(select(Execution.attempt).where(Execution.job_id == culprit)) == 3
    finally:
        platform.stop()


def test_the_reaper_fails_work_out_of_attempts_instead_of_requeuing_it_forever(settings) -> None:  # type: ignore[no-untyped-def]
    """A worker that dies with the job every time (the ``qumulus worker`` of issue 17.1): after
    ``max_attempts`` expired leases the maintenance round fails the job (one code path for the
    embedded server, ``qumulus worker`` and ``qumulus scheduler``), and a graceful release gives
    the attempt back."""
    from datetime import timedelta

    from qumulus.runtime.maintenance import Scheduler, run_round
    from qumulus.timeutil import utcnow

    platform, _ = make_platform(settings)
    who = _principal(platform)
    job_id = _submit(platform, who, BELL)
    tasks = Scheduler(platform.db, max_attempts=3).tasks
    later = utcnow() + timedelta(hours=1)
    with platform.db.write() as session:
        queue.claim(session, owner="w0", backends=None, limit=1, lease_seconds=60, postgres=False)
    with platform.db.write() as session:  # a graceful stop: the attempt is given back
        assert len(queue.release(session, owner="w0")) == 1
    for attempt in (1, 2, 3):
        with platform.db.write() as session:
            claimed = queue.claim(session, owner=f"w{attempt}", backends=None, limit=1, lease_seconds=1,
                                  postgres=False, now=utcnow() - timedelta(seconds=10))  # fmt: skip
        assert [c.attempt for c in claimed] == [attempt]
        assert jobs.get_job(platform, who, job_id).job.status == "started"
        run_round(platform.db, tasks)  # the lease expired: requeued, or failed at the cap
    assert later > utcnow()
    job = jobs.get_job(platform, who, job_id).job
    assert job.status == "failed" and job.failure["code"] == "AttemptsExhausted", job.failure
    with platform.db.read() as session:
        assert session.scalar(select(Execution.state).where(Execution.job_id == job_id)) == "failed"
    platform.stop()
