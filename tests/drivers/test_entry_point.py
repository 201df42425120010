"""A driver package written outside Qumulus is found through the ``qumulus.drivers`` entry point."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from qumulus.drivers import registry

PROBE = """
import json, threading
from qumulus.drivers import DriverConfig, ProviderJob
from qumulus.drivers.backoff import PollSchedule
from qumulus.drivers.forward import Retry, follow, submit_once
from qumulus.drivers.registry import build, installed

driver = build("toy", DriverConfig(backend="lab.toy", options={"price": "0.25"}))
work = ProviderJob(token="t-1", type="ionq.multi-circuit.v1", shots=10, input={"qubits": 3, "circuits": [
    {"circuit": [{"gate": "x", "targets": [0]}, {"gate": "cnot", "control": 0, "target": 2}]},
    {"circuit": [{"gate": "x", "targets": [1]}, {"gate": "swap", "targets": [1, 2]}]}]})
retry = Retry(stop=threading.Event())
pid = submit_once(driver, work, known_id=None, record=lambda _: None, retry=retry)
state = follow(driver, pid, retry=retry, schedule=PollSchedule(first=0.01, cap=0.01))
print(json.dumps({"installed": installed(), "cls": type(driver).__module__, "status": state.status,
                  "results": [r.probabilities for r in state.results], "cost": str(state.cost)}))
"""


def test_a_third_party_driver_is_found_and_runs_with_no_change_to_qumulus(toy_site: Path) -> None:
    assert "toy" not in registry.installed()  # not part of Qumulus
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(toy_site), os.environ.get("PYTHONPATH", "")])}
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    seen = json.loads(out.stdout)
    assert seen["installed"]["toy"] == "qumulus_toy_driver:ToyDriver" and "ionq" in seen["installed"]
    assert seen["cls"] == "qumulus_toy_driver"
    assert seen["status"] == "completed"
    assert seen["results"] == [{"5": 1.0}, {"4": 1.0}]  # |101> and |100>, little-endian keys
    assert seen["cost"] == "0.50"
