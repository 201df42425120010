"""The user CLI (login, profiles, backends, submit, jobs, jobsets, usage) against a live server."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from qumulus.cli.main import app
from tests.conftest import LiveServer

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
BELL_QASM = (
    'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[2];\ncreg c[2];\nh q[0];\ncx q[0],q[1];\nmeasure q -> c;\n'
)


@pytest.fixture
def cli(live_server: LiveServer, sdk_home: Path):  # type: ignore[no-untyped-def]
    """A runner logged in to the live server (profile ``default`` in an isolated SDK home)."""
    runner = CliRunner()

    def run(*args: str, code: int = 0) -> str:
        result = runner.invoke(app, list(args), env={"COLUMNS": "200"})
        assert result.exit_code == code, (args, result.output, result.exception)
        return result.output

    out = run("login", "--key", live_server.key, "--url", live_server.url)
    assert "Saved profile default" in out
    return run


def test_login_rejects_a_wrong_key_and_profiles_mask_the_key(cli, live_server, sdk_home) -> None:  # type: ignore[no-untyped-def]
    out = cli("login", "--key", "qmk_wrong_key_123456", "--url", live_server.url, "--name", "bad", code=1)
    assert "401" in out or "key" in out.lower()
    profiles = cli("profiles")
    assert "default" in profiles and live_server.url in profiles and "bad" not in profiles
    assert live_server.key not in profiles  # masked
    assert cli("logout", "default").startswith("Deleted")
    assert "No saved profiles" in cli("profiles")


def test_backends_table_lists_the_simulator(cli) -> None:  # type: ignore[no-untyped-def]
    out = cli("backends")
    assert re.search(r"simulator\s+│\s+simulator\s+│\s+29", out)
    assert "qpu.harmony" in out


def test_submit_ionq_json_waits_and_draws_a_histogram(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "flip.json"
    path.write_text(json.dumps({"qubits": 2, "circuit": [{"gate": "x", "targets": [1]}]}))
    out = cli("submit", str(path), "--shots", "40", "--tag", "cli")
    job_id = UUID.search(out).group(0)
    assert f"job {job_id}: DONE" in out
    assert re.search(r"10\s+█+\s+40\s+100.0%", out)
    assert job_id in cli("jobs", "list", "--status", "DONE")
    shown = cli("jobs", "show", job_id)
    assert "DONE" in shown and "flip" in shown and "cli" in shown
    counts = json.loads(cli("jobs", "results", job_id, "--json"))
    assert counts["results"][0]["counts"] == {"10": 40}
    assert "already finished" in cli("jobs", "cancel", job_id, code=1)


def test_submit_openqasm_then_wait_and_results(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "bell.qasm"
    path.write_text(BELL_QASM)
    out = cli("submit", str(path), "--shots", "200", "--no-wait")
    job_id = UUID.search(out).group(0)
    assert "DONE" not in out  # --no-wait returns at submission
    assert f"job {job_id}: DONE" in cli("jobs", "wait", job_id, "--timeout", "60")
    histogram = cli("jobs", "results", job_id)
    rows = dict(re.findall(r"^(00|11)\s+█+\s+(\d+)", histogram, re.MULTILINE))
    assert set(rows) == {"00", "11"} and sum(map(int, rows.values())) == 200
    assert "01" not in re.findall(r"^(\d\d)\s", histogram, re.MULTILINE)


def test_unknown_job_is_one_red_line_and_exit_1(cli) -> None:  # type: ignore[no-untyped-def]
    out = cli("jobs", "show", "00000000-0000-0000-0000-000000000000", code=1)
    assert "Traceback" not in out and ("404" in out or "not found" in out.lower())


def test_jobsets_list_and_show(cli, live_server) -> None:  # type: ignore[no-untyped-def]
    from qumulus import JobManager, Qumulus

    provider = Qumulus.load_account()
    flip = {"qubits": 1, "circuit": [{"gate": "x", "targets": [0]}]}
    job_set = JobManager(provider).run([flip] * 3, name="cli-set", max_experiments_per_job=2)
    job_set.results(timeout=60)
    listed = cli("jobsets", "list")
    assert job_set.id in listed and "cli-set" in listed
    report = cli("jobsets", "show", job_set.id)
    assert "2 jobs, 3 experiments" in report


def test_usage_show_reports_this_projects_jobs(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "one.json"
    path.write_text(json.dumps({"qubits": 1, "circuit": [{"gate": "x", "targets": [0]}]}))
    cli("submit", str(path), "--shots", "10")
    path_out = cli("usage", "show", "--group-by", "backend")
    if "does not report usage" in path_out:  # a server without billing: said, not a traceback
        return
    assert "Usage by backend" in path_out
    assert re.search(r"simulator\s*│\s*[1-9]\d*\s*│", path_out), path_out  # our job is counted
    assert "report" in cli("usage", "--help")  # the admin report still lives beside it


def test_wait_times_out_with_exit_2_then_cancel(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    qubits = 22  # seconds of simulation: still running after POST's own wait and the 0.2 s timeout
    layer = [{"gate": "h", "targets": [q]} for q in range(qubits)] + [
        {"gate": "t", "targets": [0]}
    ]  # not Clifford
    layer += [{"gate": "cnot", "controls": [q], "targets": [q + 1]} for q in range(qubits - 1)]
    path = tmp_path / "long.json"
    path.write_text(json.dumps({"qubits": qubits, "circuit": layer * 60}))
    job_id = UUID.search(cli("submit", str(path), "--no-wait", "--shots", "10")).group(0)
    assert "still" in cli("jobs", "wait", job_id, "--timeout", "0.2", code=2)
    assert f"job {job_id}: CANCELLED" in cli("jobs", "cancel", job_id)
    assert "CANCELLED" in cli("jobs", "show", job_id)
    cli("jobs", "results", job_id, code=1)  # no results for a canceled job
