"""The runtime's side of driver-served backends, in process, on SQLite and on PostgreSQL: the
outstanding limit, completion into the ledger, cancels forwarded, and re-attachment after the
process that followed the jobs is gone. The provider is the toy driver package (installed with pip,
found through its entry point), whose device keeps its jobs on disk and can be held busy."""

from __future__ import annotations

import dataclasses
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from qumulus.auth.principal import Principal
from qumulus.services import jobs
from qumulus.services.billing.contracts import add_contract
from qumulus.store.models import Contract, Execution, Project, UsageLedger
from tests.conftest import make_platform

X0 = {"qubits": 2, "circuit": [{"gate": "x", "targets": [0]}]}
LIMIT = 2


@pytest.fixture
def device(tmp_path: Path, toy_site: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """The toy package on the path (as if installed) and a backends file declaring ``lab.toy``."""
    monkeypatch.syspath_prepend(str(toy_site))
    paths = {"state": tmp_path / "toy-state", "hold": tmp_path / "busy", "file": tmp_path / "backends.toml"}
    paths["file"].write_text(
        f"""
[[backend]]
name = "lab.toy"
driver = "toy"
qubits = 8
max_outstanding = {LIMIT}
[backend.options]
state_dir = "{paths["state"]}"
hold_file = "{paths["hold"]}"
[backend.timing]
poll_first = 0.02
poll_cap = 0.05
mirror_every = 0.5
"""
    )
    return paths


def _platform(settings: Any, device: dict[str, Path]) -> tuple[Any, Principal]:
    # No engine warm-up: nothing is simulated here, and a warm-up costs seconds per platform.
    platform, _ = make_platform(
        dataclasses.replace(settings, backends_file=device["file"], warm_engines=False)
    )
    with platform.db.write() as session:
        project = session.scalars(select(Project)).one()
        if not session.scalar(select(func.count()).where(Contract.backend == "lab.*")):
            add_contract(
                session, project.organization_id, {"backend": "lab.*", "rate_per_second": Decimal(0)}
            )
    who = Principal(
        organization_id=project.organization_id,
        project_id=project.id,
        user_id=None,
        api_key_id=None,
        project_role="admin",
    )
    platform.start_runtime()
    return platform, who


def _submit(platform: Any, who: Principal) -> str:
    spec = jobs.JobSpec(backend="lab.toy", job_type="ionq.circuit.v1", input=X0, shots=10)
    return jobs.submit_job(platform, who, spec).job.id


def _toy_jobs(device: dict[str, Path]) -> list[Path]:
    return sorted(device["state"].glob("job-*.json"))


def _until(check: Any, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def _running(platform: Any) -> int:
    with platform.db.read() as session:
        return int(session.scalar(select(func.count()).where(Execution.state == "running")) or 0)


def test_jobs_are_released_within_the_limit_and_completed_into_the_ledger(settings, device) -> None:  # type: ignore[no-untyped-def]
    device["hold"].touch()  # the device is busy: what is released stays outstanding
    platform, who = _platform(settings, device)
    try:
        ids = [_submit(platform, who) for _ in range(5)]
        _until(lambda: len(_toy_jobs(device)) == LIMIT)
        for _ in range(20):  # held there: the broker never goes past the limit
            assert len(_toy_jobs(device)) <= LIMIT and _running(platform) <= LIMIT
            time.sleep(0.02)
        device["hold"].unlink()
        _until(lambda: all(jobs.get_job(platform, who, j).job.status == "completed" for j in ids))
        assert len(_toy_jobs(device)) == 5
        with platform.db.read() as session:
            costs = session.scalars(select(UsageLedger.cost).where(UsageLedger.job_id.in_(ids))).all()
        assert sorted(costs) == [Decimal("0.01")] * 5  # the device's own price, one row each
        view = jobs.get_job(platform, who, ids[0]).job
        assert view.engine == "driver:toy+shots" and view.usage_seconds == 0.01
    finally:
        platform.stop()


def test_a_cancel_reaches_the_device(settings, device) -> None:  # type: ignore[no-untyped-def]
    device["hold"].touch()
    platform, who = _platform(settings, device)
    try:
        job_id = _submit(platform, who)
        _until(lambda: len(_toy_jobs(device)) == 1)
        jobs.cancel_job(platform, who, job_id)
        _until(lambda: '"canceled": true' in _toy_jobs(device)[0].read_text())

        def recorded() -> bool:
            with platform.db.read() as session:
                status = session.scalar(select(Execution.provider_status).where(Execution.job_id == job_id))
            return status == "canceled"

        _until(recorded)  # nothing left to follow or cancel there
    finally:
        platform.stop()


def test_jobs_at_the_device_are_re_attached_by_the_next_process_never_resubmitted(settings, device) -> None:  # type: ignore[no-untyped-def]
    device["hold"].touch()
    first, who = _platform(settings, device)
    ids = [_submit(first, who) for _ in range(3)]
    _until(lambda: len(_toy_jobs(device)) == LIMIT)
    first.stop()  # the process that followed them is gone (its executions still say running)
    second, who = _platform(settings, device)
    try:
        device["hold"].unlink()
        _until(lambda: all(jobs.get_job(second, who, j).job.status == "completed" for j in ids))
        tokens = [p.read_text() for p in _toy_jobs(device)]
        assert len(tokens) == 3  # two re-attached, one submitted by the second process
        with second.db.read() as session:
            attempts = sorted(session.scalars(select(Execution.attempt).where(Execution.job_id.in_(ids))))
            ledger = session.scalar(select(func.count()).where(UsageLedger.job_id.in_(ids)))
        assert attempts == [1, 2, 2] and ledger == 3
    finally:
        second.stop()
