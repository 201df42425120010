"""The alpha ``ionq`` package (0.0.0a15) against a live ``qumulus serve`` (wire spec §12.4).

The package pins pydantic<2, so it cannot share this venv: it lives in ``.venv-ionq`` (the Makefile's
``$(IONQ_VENV)/.installed`` target). ``scripts/ionq_pkg_probe.py`` runs there once for the module and
prints a JSON summary; each test below asserts one part of it. Without that venv the tests skip.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.compat

ROOT = Path(__file__).resolve().parents[2]
IONQ_PYTHON = ROOT / ".venv-ionq" / "bin" / "python"
PROBE = ROOT / "scripts" / "ionq_pkg_probe.py"
PREFIX = "IONQ_PROBE_SUMMARY "
ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


@pytest.fixture(scope="module")
def probe(request: pytest.FixtureRequest) -> dict[str, Any]:
    if not IONQ_PYTHON.exists():
        pytest.skip(
            f"{IONQ_PYTHON} is missing: run `make .venv-ionq/.installed` (the ionq package needs pydantic<2)"
        )
    check = subprocess.run(
        [str(IONQ_PYTHON), "-c", "import ionq"], capture_output=True, text=True, timeout=120
    )
    if check.returncode != 0:
        pytest.skip(f"{IONQ_PYTHON} cannot import ionq: {check.stderr.strip()[-500:]}")
    live_server = request.getfixturevalue("live_server")  # only once the venv is known to work
    env = {**os.environ, "IONQ_BASE_URL": live_server.v04, "IONQ_API_KEY": live_server.key}
    run = subprocess.run(
        [str(IONQ_PYTHON), str(PROBE)], capture_output=True, text=True, timeout=180, env=env, cwd=ROOT
    )
    lines = [line for line in run.stdout.splitlines() if line.startswith(PREFIX)]
    assert run.returncode == 0 and lines, f"probe failed (rc {run.returncode}):\n{run.stdout}\n{run.stderr}"
    summary = json.loads(lines[-1][len(PREFIX) :])
    assert summary["import"].get("ok"), summary["import"]
    return summary


def part(probe: dict[str, Any], name: str) -> Any:
    value = probe[name]
    if isinstance(value, dict) and "error" in value:
        pytest.fail(f"ionq step {name!r} raised {value['error']}\n{value.get('trace', '')}")
    return value


def test_bell_probabilities(probe: dict[str, Any]) -> None:
    bell = part(probe, "bell")
    assert set(bell["probabilities"]) == {"0", "3"}
    for key in ("0", "3"):
        assert bell["probabilities"][key] == pytest.approx(0.5, abs=1e-12)


def test_bell_counts_add_up_to_shots(probe: dict[str, Any]) -> None:
    # The package computes counts as int(p * shots): exact ideal probabilities give {'0': 50, '3': 50}
    # (spec §12.4); 0.4999999999999999 gives 49 + 49 = 98 counts for 100 shots.
    bell = part(probe, "bell")
    assert bell["counts"] == {"0": 50, "3": 50}


def test_bell_job_details_validate(probe: dict[str, Any]) -> None:
    bell = part(probe, "bell")  # the strict JobDetails model parsed it, or the step would have raised
    assert bell["status"] == "completed"
    assert bell["type"] == "ionq.circuit.v1"
    assert bell["backend"] == "simulator"
    assert bell["stats_qubits"] == 2
    assert ISO_MS.match(bell["submitted_at"]), bell["submitted_at"]
    # Ideal jobs advertise only probabilities: the package would prefer a histogram if one were listed.
    assert bell["results_keys"] == ["probabilities"]


def test_endianness(probe: dict[str, Any]) -> None:
    result = part(probe, "endianness")
    assert result["probabilities"] == {"1": 1.0}  # X on qubit 0 of 3: little-endian key 1
    assert result["counts"] == {"1": 10}


def test_backends(probe: dict[str, Any]) -> None:
    backends = {b["backend"]: b for b in part(probe, "backends")}
    assert {"simulator", "qpu.aria-1", "qpu.aria-2", "qpu.forte-1", "qpu.harmony"} <= set(backends)
    assert backends["simulator"]["status"] == "available"
    assert backends["qpu.aria-1"]["status"] == "available"  # emulated
    assert all(isinstance(b["last_updated"], int) for b in backends.values())


def test_current_characterization(probe: dict[str, Any]) -> None:
    char = part(probe, "characterization")
    assert char["backend"] == "qpu.aria-1"
    assert char["qubits"] == 25
    assert isinstance(char["date"], int) and char["date"] > 1_600_000_000
    assert char["connectivity_pairs"] == 25 * 24 // 2
    assert 0.9 < char["spam_mean"] <= 1
    assert char["readout"] > 0 and char["t1"] > 0 and char["t2"] > 0
    assert char["history_ids"][0] == char["id"]
    assert char["by_id_matches"]


def test_multi_circuit(probe: dict[str, Any]) -> None:
    multi = part(probe, "multi")
    assert multi["type"] == "ionq.multi-circuit.v1"
    assert len(multi["children"]) == 3
    probabilities = multi["probabilities"]
    assert probabilities[0] == {"1": 1.0}
    assert set(probabilities[1]) == {"0", "3"}
    assert probabilities[2] == {"2": 1.0}
    assert multi["counts"][0] == {"1": 100}
    assert multi["counts"][2] == {"2": 100}


def test_cancel(probe: dict[str, Any]) -> None:
    cancel = part(probe, "cancel")
    assert cancel["update_id"] == cancel["id"]
    assert cancel["update_status"] == "canceled"
    assert cancel["status_after"] == "canceled"
    assert cancel["results_after"] is None


def test_delete(probe: dict[str, Any]) -> None:
    delete = part(probe, "delete")
    assert delete["update_id"] == delete["id"]
    assert delete["update_status"] == "deleted"
    assert delete["get_after"] == 404


def test_get_jobs(probe: dict[str, Any]) -> None:
    # Every listed job passed the package's strict JobDetails model, whichever client created it.
    listed = part(probe, "get_jobs")
    bell, multi, cancel = probe["bell"], probe["multi"], probe["cancel"]
    assert 1 <= listed["count"] <= 25
    assert {bell["id"], multi["id"], cancel["id"]} <= set(listed["ids"])
    assert probe["delete"]["id"] not in listed["ids"]
    assert listed["statuses"][cancel["id"]] == "canceled"
    assert listed["by_id"] == [bell["id"]]


def test_bulk_delete(probe: dict[str, Any]) -> None:
    bulk = part(probe, "bulk_delete")
    assert bulk["update_status"] == "deleted"
    assert bulk["update_id"] in bulk["ids"]
    assert bulk["get_after"] == [404, 404]
