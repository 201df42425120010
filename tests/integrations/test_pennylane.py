"""PennyLane on a live server: Bell expectations, a batch as one job, the job id, the timeout, and
the device names registered in pyproject."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import tomllib

qml = pytest.importorskip("pennylane")

from qumulus.client import JobTimeoutError  # noqa: E402
from qumulus.pennylane import QumulusSimulatorDevice  # noqa: E402
from tests.conftest import ROOT  # noqa: E402

SHOTS = 2000


@pytest.fixture
def device(live_server, sdk_home):  # type: ignore[no-untyped-def]
    return QumulusSimulatorDevice(wires=2, url=live_server.url, api_key=live_server.key, seed=5)


def test_bell_expectations_are_close_to_exact(device) -> None:  # type: ignore[no-untyped-def]
    @qml.set_shots(SHOTS)
    @qml.qnode(device)
    def bell():  # type: ignore[no-untyped-def]
        qml.Hadamard(0)
        qml.CNOT([0, 1])
        return (
            qml.expval(qml.PauliZ(0) @ qml.PauliZ(1)),
            qml.expval(qml.PauliX(0) @ qml.PauliX(1)),
            qml.expval(qml.PauliZ(0)),
        )

    zz, xx, z0 = bell()
    assert zz == 1.0 and xx == 1.0  # perfectly correlated in both bases: exact even with shots
    assert abs(z0) <= 5 / SHOTS**0.5
    assert len(device.job_ids) == 1  # ZZ and XX do not commute: 2 tapes, still one job


def test_batch_of_tapes_is_one_job_with_its_id_exposed(device, live_server) -> None:  # type: ignore[no-untyped-def]
    tapes = [
        qml.tape.QuantumScript([qml.RY(angle, 0)], [qml.expval(qml.PauliZ(0))], shots=SHOTS)
        for angle in (0.0, 3.141592653589793, 1.0471975511965976)
    ]
    results = qml.execute(tapes, device)
    assert results[0] == 1.0 and results[1] == -1.0
    assert abs(results[2] - 0.5) <= 5 * (0.75 / SHOTS) ** 0.5  # cos(π/3), binomial error
    assert len(device.job_ids) == 1 and device.last_job_id == device.job_ids[0]
    job = device.provider.retrieve_job(device.last_job_id)
    assert len(job.data["child_job_ids"]) == 3 and job.tags() == ["pennylane"]


def test_gradient_by_parameter_shift(device) -> None:  # type: ignore[no-untyped-def]
    from pennylane import numpy as pnp

    @qml.set_shots(SHOTS)
    @qml.qnode(device, diff_method="parameter-shift")
    def f(x):  # type: ignore[no-untyped-def]
        qml.RX(x, 0)
        return qml.expval(qml.PauliZ(0))

    grad = qml.grad(f)(pnp.array(0.7, requires_grad=True))
    assert abs(grad - (-0.644217687)) <= 5 * (2 / SHOTS) ** 0.5  # -sin(0.7)


def test_analytic_mode_is_refused_with_a_clear_message(device) -> None:  # type: ignore[no-untyped-def]
    @qml.qnode(device)
    def f():  # type: ignore[no-untyped-def]
        qml.Hadamard(0)
        return qml.expval(qml.PauliZ(0))

    with pytest.raises(Exception, match=r"(?i)analytic|shots"):
        f()


def test_timeout_raises_instead_of_hanging(live_server, sdk_home) -> None:  # type: ignore[no-untyped-def]
    wires = 22  # seconds of simulation: still running when the 0.01 s timeout (and POST's own wait) ends
    device = QumulusSimulatorDevice(wires=wires, url=live_server.url, api_key=live_server.key, timeout=0.01)
    ops = (
        [qml.Hadamard(w) for w in range(wires)]
        + [qml.T(0)]
        + [qml.CNOT([w, w + 1]) for w in range(wires - 1)]
    ) * 60
    tape = qml.tape.QuantumScript(ops, [qml.expval(qml.PauliZ(0))], shots=100)
    with pytest.raises(JobTimeoutError):
        qml.execute([tape], device)
    job = device.provider.retrieve_job(device.last_job_id)  # the id is known even after a timeout
    job.cancel()


def test_entry_points_name_the_devices(tmp_path: Path, live_server, sdk_home, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """``qml.device("qumulus.simulator")`` through the entry points pyproject declares (installed here
    as a throwaway dist-info, since the test venv's install may predate them)."""
    entries = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["entry-points"][
        "pennylane.plugins"
    ]
    assert set(entries) == {"qumulus.simulator", "qumulus.qpu"}
    dist = tmp_path / "qumulus_plugins-0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: qumulus-plugins\nVersion: 0\n")
    lines = "".join(f"{name} = {target}\n" for name, target in entries.items())
    (dist / "entry_points.txt").write_text(f"[pennylane.plugins]\n{lines}")
    monkeypatch.setattr(sys, "path", [str(tmp_path), *sys.path])
    qml.refresh_devices()
    try:
        dev = qml.device("qumulus.simulator", wires=1, url=live_server.url, api_key=live_server.key)
        assert isinstance(dev, QumulusSimulatorDevice)
        qpu = qml.device("qumulus.qpu", wires=1, url=live_server.url, api_key=live_server.key)
        assert qpu.backend.name == "qpu.aria-1"
    finally:
        monkeypatch.undo()
        qml.refresh_devices()
