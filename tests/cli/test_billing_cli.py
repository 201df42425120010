"""`qumulus contracts|budgets|usage` on a data directory, as an operator runs them."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select

from qumulus.accounting.budget import money
from qumulus.auth.principal import Principal
from qumulus.config import Settings
from qumulus.services import jobs
from qumulus.store.models import AuditEvent, Budget, Contract, Project, UsageLedger
from tests.conftest import make_platform

BELL = {"qubits": 2, "circuit": [{"gate": "h", "target": 0}, {"gate": "cnot", "control": 0, "target": 1}]}


def qumulus(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "qumulus.cli.main", *args, "--data-dir", str(data_dir)],
        capture_output=True, text=True, timeout=120,
        env={**os.environ, "COLUMNS": "250", "QUMULUS_WARM_ENGINES": "0"},
    )  # fmt: skip


def test_contracts_budgets_and_usage_from_the_command_line(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    settings = Settings.from_env(data_dir=data_dir, pool_processes=1, warm_engines=False)
    platform, _ = make_platform(settings)
    with platform.db.read() as session:
        project = session.scalars(select(Project)).one()
    who = Principal(project.organization_id, project.id, None, None, project_role="admin")

    made = qumulus(data_dir, "contracts", "create", "--backend", "simulator", "--rate", "100")
    assert made.returncode == 0, made.stderr
    assert "simulator at 100.000000 USD/s" in made.stdout
    bad = qumulus(data_dir, "contracts", "create", "--backend", "qpu.nope", "--rate", "1")
    assert bad.returncode == 1 and "backend:" in bad.stdout
    listed = qumulus(data_dir, "contracts", "list")
    assert listed.returncode == 0 and "qpu.*" in listed.stdout and "100.000000 USD" in listed.stdout

    assert qumulus(data_dir, "budgets", "set", "--limit", "50").returncode == 0
    again = qumulus(data_dir, "budgets", "set", "--limit", "75")
    assert (
        again.returncode == 0
        and again.stdout.startswith("Updated budget")
        and "75.000000 USD" in again.stdout
    )
    with platform.db.read() as session:
        (budget,) = session.scalars(select(Budget)).all()
        assert money(budget.limit_amount) == Decimal("75") and budget.recurring and budget.period == "month"
        actions = set(session.scalars(select(AuditEvent.action)))
        assert {"contract.create", "budget.create", "budget.update"} <= actions
        assert len(session.scalars(select(Contract)).all()) == 3  # two demo contracts + ours

    platform.start_runtime()
    try:
        ids = [jobs.submit_job(platform, who, jobs.JobSpec("simulator", None, BELL)).job.id for _ in range(2)]
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if all(jobs.get_job(platform, who, i).job.status == "completed" for i in ids):
                break
            time.sleep(0.05)
    finally:
        platform.stop()
    platform, _ = make_platform(settings)
    with platform.db.read() as session:
        rows = session.scalars(select(UsageLedger)).all()
        spent = money(session.scalars(select(Budget)).one().spent)
    assert len(rows) == 2 and spent == sum((money(r.cost) for r in rows), Decimal(0)) > 0
    platform.db.dispose()

    report = qumulus(data_dir, "usage", "report", "--group-by", "project,backend", "--csv")
    assert report.returncode == 0, report.stderr
    (line,) = list(csv.DictReader(io.StringIO(report.stdout)))
    assert line["project_name"] == "Default Project" and line["backend"] == "simulator"
    assert int(line["jobs"]) == 2 and Decimal(line["cost"]) == spent
    table = qumulus(data_dir, "usage", "report", "--group-by", "period", "--period", "day")
    assert table.returncode == 0 and "Total: 2 jobs" in table.stdout and str(spent) in table.stdout
    shown = qumulus(data_dir, "budgets", "list")
    assert shown.returncode == 0 and str(spent) in shown.stdout
