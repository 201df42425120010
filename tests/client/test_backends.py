"""Provider and backends: filters, least_busy, status, configuration, properties (now and past), limits."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta, timezone

import pytest

from qumulus import least_busy
from qumulus.client import QumulusClientError
from tests.client.conftest import bell


def test_backend_filters(provider) -> None:  # type: ignore[no-untyped-def]
    names = {b.name for b in provider.backends()}
    assert {"simulator", "qpu.aria-1", "qpu.forte-1"} <= names
    assert [b.name for b in provider.backends(simulator=True)] == ["simulator"]
    assert "simulator" not in {b.name for b in provider.backends(simulator=False)}
    assert {b.name for b in provider.backends(min_num_qubits=30)} == {"qpu.forte-1", "qpu.forte-enterprise-1"}
    assert [b.name for b in provider.backends(name="qpu.aria-1")] == ["qpu.aria-1"]
    assert {b.name for b in provider.backends(filters=lambda b: b.num_qubits == 25)} == {
        "qpu.aria-1",
        "qpu.aria-2",
    }
    assert [b.name for b in provider.backends(n_qubits=11)] == ["qpu.harmony"]  # configuration attribute
    operational = {b.name for b in provider.backends(operational=True)}
    assert "simulator" in operational
    with pytest.raises(QumulusClientError, match=r"no backend named .qpu\.nope."):
        provider.get_backend("qpu.nope")


def test_each_backend_is_an_attribute_of_provider_backends(provider) -> None:  # type: ignore[no-untyped-def]
    """docs/sdk.md's IBMQ table: ``provider.backends.<name>``, with ``.`` and ``-`` written ``_``;
    the attribute is the same backend ``get_backend`` gives, it runs jobs, and a wrong name says
    which names exist."""
    aria = provider.backends.qpu_aria_1
    assert aria.name == "qpu.aria-1"
    assert aria.configuration().n_qubits == provider.get_backend("qpu.aria-1").configuration().n_qubits == 25
    assert provider.backend.qpu_forte_1.name == "qpu.forte-1"  # IBMQ's singular spelling too
    assert {"simulator", "qpu_aria_1", "qpu_forte_1"} <= set(dir(provider.backends))
    counts = provider.backends.simulator.run(bell(), shots=200).result().get_counts()
    assert set(counts) <= {"00", "11"} and sum(counts.values()) == 200
    with pytest.raises(AttributeError, match=r"no backend 'qpu_nope' \(there are: .*qpu_aria_1"):
        provider.backends.qpu_nope  # noqa: B018


def test_least_busy_skips_backends_that_are_not_operational(provider) -> None:  # type: ignore[no-untyped-def]
    everything = provider.backends()
    chosen = least_busy(everything)
    assert chosen.status().operational
    down = [b for b in everything if not b.status().operational]
    if down:  # QPUs not accepting jobs in this release must never be picked
        assert chosen not in down
        with pytest.raises(Exception, match="none of these backends is operational"):
            least_busy(down)


def test_status_and_configuration(simulator) -> None:  # type: ignore[no-untyped-def]
    status = simulator.status()
    assert status.backend_name == "simulator" and status.operational and status.pending_jobs >= 0
    assert status.status_msg == "active"
    config = simulator.configuration()
    assert config.n_qubits == 29 and config.simulator and "cnot" in config.basis_gates


def test_properties_per_qubit_and_pair_and_at_a_past_date(provider) -> None:  # type: ignore[no-untyped-def]
    aria = provider.get_backend("qpu.aria-1")
    props = aria.properties()
    assert props is not None and props.n_qubits == 25
    assert props.t1(0) == pytest.approx(100.0, rel=0.5) and props.t2(3) > 0
    assert 0 < props.readout_error(5) < 0.05
    assert 0 < props.gate_error("gpi2", 7) < 0.01
    assert 0 < props.gate_error("cx", (3, 17)) < 0.05  # every pair is connected on an ion trap
    assert props.gate_error("ms", [17, 3]) == props.gate_error("ms", [3, 17])
    assert props.gate_length("ms", [0, 1]) == pytest.approx(600e-6)
    assert props.readout_length(0) == pytest.approx(300e-6)
    # ¹⁷¹Yb⁺'s clock transition, shifted per qubit by its characterized detuning (Hz, a few Hz)
    frequencies = [props.frequency(q) for q in range(25)]
    assert all(abs(f - 12_642_812_118.466) < 100 for f in frequencies) and len(set(frequencies)) > 1
    with pytest.raises(ValueError, match=r"not on qpu\.aria-1"):
        props.t1(25)
    past = aria.properties(datetime=datetime.now(timezone.utc) + timedelta(seconds=1))
    assert past is not None and past.characterization_id == props.characterization_id
    assert aria.properties(datetime=datetime(2001, 1, 1, tzinfo=timezone.utc)) is None  # nothing that old
    assert provider.get_backend("simulator").properties() is None  # simulators have no calibration


def test_job_limit_and_remaining(sdk_server, simulator, blocker) -> None:  # type: ignore[no-untyped-def]
    assert simulator.job_limit().active_jobs >= 1  # the blocker
    assert blocker.job_id() in [j.job_id() for j in simulator.active_jobs(limit=None)]
    assert all(j.cached_status().name in ("QUEUED", "RUNNING") for j in simulator.active_jobs())
    # The cap is set by an administrator (no API for it yet): straight in the server's database.
    with sqlite3.connect(sdk_server.data_dir / "qumulus.db") as db:
        db.execute("UPDATE projects SET max_queued_jobs = 7")
    try:
        limit = simulator.job_limit()
        assert limit.maximum_jobs == 7
        assert simulator.remaining_jobs_count() == 7 - limit.active_jobs
    finally:
        with sqlite3.connect(sdk_server.data_dir / "qumulus.db") as db:
            db.execute("UPDATE projects SET max_queued_jobs = NULL")


def test_least_busy_skips_a_backend_reserved_within_the_hour(tmp_path, sdk_home) -> None:  # type: ignore[no-untyped-def]
    """The backend list shows approved windows (times only), and least_busy avoids one starting soon."""
    from datetime import UTC, datetime, timedelta

    import httpx

    from qumulus import Qumulus
    from tests.conftest import start_server, stop_server

    server = start_server(tmp_path / "data")  # its own server: a reservation would hold others' jobs
    try:
        headers = {"Authorization": f"apiKey {server.key}"}
        org = httpx.get(f"{server.url}/v0.4/whoami", headers=headers).json()["organization_id"]
        start = datetime.now(UTC) + timedelta(minutes=30)
        window = {
            "backend": "qpu.aria-1",
            "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(hours=2)).isoformat(),
        }
        made = httpx.post(f"{server.url}/v0.4/organizations/{org}/reservations", json=window, headers=headers)
        assert made.status_code == 201, made.text
        provider = Qumulus.enable_account(server.key, url=server.url)
        arias = [provider.get_backend("qpu.aria-1"), provider.get_backend("qpu.aria-2")]
        assert least_busy(arias).name == "qpu.aria-2"  # equally idle, but aria-1 is reserved in 30 min
        (shown,) = arias[0].reservations()
        assert abs(shown[0] - start) < timedelta(seconds=1) and shown[1] - shown[0] == timedelta(hours=2)
        assert least_busy(arias, reservation_lookahead=timedelta(minutes=10)).name == "qpu.aria-1"
    finally:
        stop_server(server)
