"""The SDK installs and imports light: nothing from the server stack, no FastAPI or SQLAlchemy."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import ROOT

BLOCKED = ("qumulus.api", "qumulus.services", "qumulus.store", "qumulus.runtime", "qumulus.sim")
HEAVY = ("fastapi", "sqlalchemy", "uvicorn", "qiskit", "cirq")
PROGRAM = f"""
import sys
class Blocker:
    def find_spec(self, name, path=None, target=None):
        if name.startswith({BLOCKED!r}) or name.split(".")[0] in {HEAVY!r}:
            raise ImportError(f"the client imported {{name}}")
sys.meta_path.insert(0, Blocker())
import qumulus
assert "qumulus.client" not in sys.modules  # import qumulus stays light
from qumulus import Qumulus, JobManager, least_busy, JobStatus, Circuit
import qumulus.client
import qumulus.client.events, qumulus.client.journal, qumulus.client.job_sets, qumulus.client.aio
from qumulus.client.errors import QumulusClientError
from qumulus.client.programs import prepare
assert prepare(Circuit(1).x(0)).circuits[0]["circuit"] == [{{"gate": "x", "targets": [0]}}]
# one OpenQASM program goes to the server as it is: no Qiskit needed on this machine
program = prepare("OPENQASM 2.0; qreg q[1];")
assert program.job_type == "ionq.qasm3.v1" and program.input == {{"data": "OPENQASM 2.0; qreg q[1];"}}
try:  # a list of programs is converted here, through Qiskit, which this install does not have
    prepare(["OPENQASM 2.0; qreg q[1];", "OPENQASM 2.0; qreg q[1];"])
except QumulusClientError as exc:
    assert "pip install 'qumulus[qiskit]'" in str(exc), exc
else:
    raise AssertionError("OpenQASM without Qiskit did not say what to install")
print("ok", JobStatus.DONE, Circuit(1).x(0).to_ionq()["circuit"])
"""


def test_client_imports_no_server_code() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    done = subprocess.run(
        [sys.executable, "-c", PROGRAM], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok DONE [{'gate': 'x', 'targets': [0]}]"
