"""IBM's "Access systems with your account" tutorial (seed 004), as docs/sdk.md gives it, runs
against a live server: only the import and account lines (and this server's backend names) differ.

The code is read from the docs page itself, so the page can never drift from what runs.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import datetime

import pytest

pytest.importorskip("qiskit")

from qumulus import JobStatus, Qumulus
from tests.conftest import ROOT, LiveServer

MARKER = "<!-- executed by tests/integrations/test_ibmq_tutorial.py"


def tutorial_block() -> str:
    page = (ROOT / "docs" / "sdk.md").read_text()
    after = page[page.index(MARKER) :]
    match = re.search(r"```python\n(.*?)```", after, re.S)
    assert match is not None, "the tutorial's code block follows the marker in docs/sdk.md"
    return match.group(1)


RETRIEVE = """
import sys
from qumulus import Qumulus as IBMQ, JobManager as IBMQJobManager
provider = IBMQ.load_account()
job_set = IBMQJobManager().retrieve_job_set(job_set_id=sys.argv[1], provider=provider)
results = job_set.results()
print(job_set.name(), len(job_set.jobs()), results.get_counts(1), results.get_counts(19))
"""


def test_the_seed_tutorial_runs_as_written(live_server: LiveServer, sdk_home, capsys) -> None:  # type: ignore[no-untyped-def]
    Qumulus.save_account(live_server.key, url=live_server.url)  # the tutorial's commented-out line
    namespace: dict = {"__name__": "tutorial"}
    exec(compile(tutorial_block(), "docs/sdk.md (IBMQ tutorial)", "exec"), namespace)
    printed = capsys.readouterr().out
    ns = namespace

    # backends: filters, least_busy among the 25-qubit devices, calibration
    assert {b.name for b in ns["small_devices"]} == {"qpu.aria-1", "qpu.aria-2"}
    assert ns["backend"].name == "simulator" and ns["backend_temp"].name == "simulator"
    assert "Qubit 0 has a" in printed and "resonant frequency of 12.64" in printed

    # one job: transpiled CCX, IBMQ's keyword names, status, dates, counts
    job = ns["job"]
    assert job.name() == "x" and job.tags() == ["y"]
    assert job.status() is JobStatus.DONE
    assert ns["counts"] == {"101": 1024}  # X X, CCX sets q2, CX clears q1: clbits c2 c1 c0 = 101
    created, steps = job.creation_date(), job.time_per_step()
    assert isinstance(created, datetime) and created.tzinfo is not None
    assert steps["INITIALIZING"] == created <= steps["DONE"]
    assert list(steps) == sorted(steps, key=steps.get)  # in the order the job went through them

    # the job manager: 20 circuits in one job, then in 10 jobs of 2
    assert len(ns["job_set"].jobs()) == 1
    multiple = ns["job_set_multiple"]
    assert len(ns["jobs"]) == 10 and ns["job0"].job_id() == ns["jobs"][0].job_id()
    assert [j.name() for j in ns["jobs"]] == [f"bar_{i}" for i in range(10)]
    assert "This is the histogram data for experiment 1: {'101': 100}" in printed
    assert ns["results"].get_counts(1) == ns["results"].get_counts(19) == {"101": 100}
    assert "10 jobs, 20 experiments" in multiple.report() and "experiments 18-19" in multiple.report()
    assert ns["retrieved_job_set"].job_set_id() == ns["job_set_id"] == multiple.job_set_id()
    manager = ns["job_manager"]
    assert [s.job_set_id() for s in manager.job_sets(name="bar")] == [ns["job_set_id"]]
    assert "Total managed job sets: 2" in manager.report(detailed=True)

    # the set by id from a new process
    env = {
        **os.environ,
        "QUMULUS_CONFIG_DIR": str(sdk_home),
        "PYTHONPATH": f"{ROOT / 'src'}:{ROOT}",
    }
    other = subprocess.run(
        [sys.executable, "-c", RETRIEVE, ns["job_set_id"]],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert other.returncode == 0, other.stderr
    assert other.stdout.strip() == "bar 10 {'101': 100} {'101': 100}"
