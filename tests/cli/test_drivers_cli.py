"""`qumulus backends declare|declared|retire` and contracts from a declaration's terms, on a data
directory, as an operator runs them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from qumulus.config import Settings
from qumulus.store.models import AuditEvent, Backend
from tests.conftest import make_platform

SITE = """
[[backend]]
name = "site.aria-1"
driver = "ionq"
qubits = 25
max_outstanding = 3
[backend.credential]
file = "/run/secrets/ionq"
[backend.options]
url = "https://api.ionq.co"
target = "qpu.aria-1"
[backend.contract]
rate_per_second = "0.40"
"""


def qumulus(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "qumulus.cli.main", *args, "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "250", "QUMULUS_WARM_ENGINES": "0"},
    )


def test_declare_list_contract_and_retire_from_the_command_line(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    platform, _ = make_platform(Settings.from_env(data_dir=data_dir, pool_processes=1, warm_engines=False))
    (tmp_path / "site.toml").write_text(SITE)
    made = qumulus(data_dir, "backends", "declare", "--file", str(tmp_path / "site.toml"))
    assert made.returncode == 0, made.stderr
    assert "site.aria-1: served by the ionq driver (at most 3 at once)" in made.stdout
    listed = qumulus(data_dir, "backends", "declared")
    assert (
        listed.returncode == 0 and "file:/run/secrets/ionq" in listed.stdout and "qpu.aria-1" in listed.stdout
    )

    contract = qumulus(data_dir, "contracts", "create", "--backend", "site.aria-1")
    assert contract.returncode == 0, contract.stdout
    assert "site.aria-1 at 0.400000 USD/s" in contract.stdout  # the declaration's terms

    (tmp_path / "bad.toml").write_text(SITE.replace("max_outstanding = 3", "max_outstanding = -3"))
    bad = qumulus(data_dir, "backends", "declare", "--file", str(tmp_path / "bad.toml"))
    assert bad.returncode == 1 and "backend[0] (site.aria-1).max_outstanding" in bad.stdout

    assert qumulus(data_dir, "backends", "retire", "site.aria-1").returncode == 0
    with platform.db.read() as session:
        backend = session.get(Backend, "site.aria-1")
        assert backend is not None and backend.status == "retired" and not backend.accepting_jobs
        actions = set(session.scalars(select(AuditEvent.action)))
    assert {"backend.declare", "backend.retire", "contract.create"} <= actions
    platform.db.dispose()
