"""Crashes in distributed mode (PostgreSQL, real processes): no job lost, none charged twice.

* Workers killed with SIGKILL and frozen with SIGSTOP while they hold work: their leases expire, the
  scheduler requeues the work, other workers finish it; the frozen worker, resumed, completes late
  and its completion is refused by the fencing token (attempt + owner).
* ``qumulus serve`` killed with SIGKILL while clients submit: every job whose id a client received
  exists after the restart and completes.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from qumulus.services import jobs
from qumulus.store.db import Database
from qumulus.store.models import Execution, Job, Result, UsageLedger
from tests.conftest import start_server, stop_server
from tests.distributed._cluster import Cluster, random_circuit

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

JOBS = 200


def _running_by_pid(platform, pids: list[int]) -> dict[int, dict[str, int]]:  # type: ignore[no-untyped-def]
    """Executions now running, by worker pid (owners are ``host:pid:suffix``): id -> attempt."""
    with platform.db.read() as session:
        rows = session.execute(
            select(Execution.id, Execution.attempt, Execution.lease_owner).where(Execution.state == "running")
        ).all()
    held: dict[int, dict[str, int]] = {pid: {} for pid in pids}
    for row in rows:
        pid = int(row.lease_owner.split(":")[1])
        if pid in held:
            held[pid][row.id] = row.attempt
    return held


def _finished(platform) -> int:  # type: ignore[no-untyped-def]
    with platform.db.read() as session:
        return session.scalar(select(func.count()).select_from(Job).where(Job.status.in_(jobs.TERMINAL)))


def _hit_while_holding(platform, pids: list[int], sig: int) -> tuple[int, dict[str, int]]:  # type: ignore[no-untyped-def]
    """Send ``sig`` to a worker the moment it holds work; returns its pid and what it held."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for pid, held in _running_by_pid(platform, pids).items():
            if held:
                os.kill(pid, sig)
                # what it still holds now that it cannot act (it may have finished some in between)
                still = _running_by_pid(platform, [pid])[pid]
                if still or sig == signal.SIGKILL:
                    return pid, still
                os.kill(pid, signal.SIGCONT)
        time.sleep(0.005)
    raise AssertionError("no worker was ever seen holding work")


def test_killed_and_frozen_workers_lose_no_job_and_charge_none_twice(cluster: Cluster, platform) -> None:  # type: ignore[no-untyped-def]
    cluster.scheduler(interval=0.3)
    args = ("--lease-seconds", "1.5", "--poll-seconds", "0.5")
    workers = [cluster.worker(*args, ready=False) for _ in range(3)]  # start together: faster
    for proc in workers:
        proc.wait_for("worker ready")
    pids = [w.pid for w in workers]
    who = platform.test_principal
    # 14-qubit random circuits (~10 ms each, 32 per claimed batch) and a few 17-qubit ones (run alone)
    ids = [
        jobs.submit_job(
            platform,
            who,
            jobs.JobSpec(
                backend="simulator",
                job_type="ionq.circuit.v1",
                input=random_circuit(17 if n % 20 == 0 else 14, 10, seed=n),
            ),
        ).job.id
        for n in range(JOBS)
    ]
    killed, lost_with_it = _hit_while_holding(platform, pids, signal.SIGKILL)
    frozen, held_when_frozen = _hit_while_holding(platform, [p for p in pids if p != killed], signal.SIGSTOP)
    assert held_when_frozen, "the frozen worker held nothing"
    try:
        deadline = time.monotonic() + 120
        while _finished(platform) < JOBS and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _finished(platform) == JOBS, "jobs were lost"
    finally:
        os.kill(frozen, signal.SIGCONT)
    # the frozen worker wakes up holding finished simulations and tries to complete them
    time.sleep(3)
    frozen_proc = next(w for w in workers if w.pid == frozen)
    assert frozen_proc.process.poll() is None, "the resumed worker died"

    with platform.db.read() as session:
        statuses = dict(session.execute(select(Job.status, func.count()).group_by(Job.status)).all())
        ledger = session.execute(select(UsageLedger.job_id, func.count()).group_by(UsageLedger.job_id)).all()
        results = session.scalar(select(func.count()).select_from(Result))
        redone = session.execute(
            select(Execution.id, Execution.attempt, Execution.lease_owner, Execution.state).where(
                Execution.id.in_(list(held_when_frozen) + list(lost_with_it))
            )
        ).all()
    assert statuses == {"completed": JOBS}
    assert len(ledger) == JOBS and {n for _, n in ledger} == {1}, "a job was charged twice (or not at all)"
    assert {job_id for job_id, _ in ledger} == set(ids)
    assert results == JOBS
    before = {**held_when_frozen, **lost_with_it}
    for row in redone:  # finished by someone else, on a later attempt; the late completion refused
        assert row.state == "done"
        assert row.attempt > before[row.id]
        assert f":{frozen}:" not in row.lease_owner and f":{killed}:" not in row.lease_owner


def test_a_server_killed_while_clients_submit_loses_no_accepted_job(pg_url: str, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    env = {"QUMULUS_DATABASE_URL": pg_url, "QUMULUS_SECRET_KEY": "test-secret", "QUMULUS_WARM_ENGINES": "0"}
    server = start_server(data_dir, env=env)
    accepted: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def client(n: int) -> None:
        with httpx.Client(base_url=server.v04, headers={"Authorization": f"apiKey {server.key}"}) as http:
            seq = 0
            while not stop.is_set():
                seq += 1
                body = {
                    "backend": "simulator",
                    "shots": 10,
                    "input": random_circuit(6, 3, seed=n * 10_000 + seq),
                }
                try:
                    response = http.post("/jobs", json=body, timeout=10)
                except httpx.HTTPError:
                    return  # the server is gone: a job whose id we never got may or may not exist
                if response.status_code == 201:
                    with lock:
                        accepted.append(response.json()["id"])

    clients = [threading.Thread(target=client, args=(n,)) for n in range(4)]
    for thread in clients:
        thread.start()
    time.sleep(3)
    server.process.send_signal(signal.SIGKILL)
    server.process.wait(10)
    stop.set()
    for thread in clients:
        thread.join(15)
    assert len(accepted) > 20, "too few submissions before the kill to mean anything"

    restarted = start_server(data_dir, env=env)
    try:
        with httpx.Client(
            base_url=restarted.v04, headers={"Authorization": f"apiKey {restarted.key}"}
        ) as http:
            for job_id in accepted:
                response = http.get(f"/jobs/{job_id}", params={"wait": 30}, timeout=40)
                assert response.status_code == 200, (job_id, response.text)
                assert response.json()["status"] == "completed", response.json()
    finally:
        stop_server(restarted)
    db = Database(pg_url)
    try:
        with db.read() as session:
            charged = dict(
                session.execute(select(UsageLedger.job_id, func.count()).group_by(UsageLedger.job_id)).all()
            )
    finally:
        db.dispose()
    assert all(charged.get(job_id) == 1 for job_id in accepted), (
        "an accepted job was not charged exactly once"
    )
