"""Characterization history and recalibration, as clients see them: every recalibration is a new
snapshot that all client shapes list, the old ones stay readable, and the emulator uses the newest."""

from __future__ import annotations

import time
from datetime import timedelta

from sqlalchemy import func, select

from tests.api.tenants import as_key, make_tenant, ok
from tests.cli.test_admin_cli import cli  # noqa: F401 - the fixture
from tests.conftest import Api


def _recalibrate(api: Api, backend: str) -> dict:
    return ok(api.post(f"/v0.4/backends/{backend}/recalibrate"), 201)


def test_recalibrations_build_a_history_every_client_shape_lists(idle_api: Api) -> None:
    api = idle_api
    first = ok(api.client.get("/v0.4/backends/qpu.aria-1/characterizations?limit=1"))["characterizations"][0]
    second = _recalibrate(api, "qpu.aria-1")
    third = _recalibrate(api, "qpu.aria-1")
    assert len({first["id"], second["id"], third["id"]}) == 3
    assert third["fidelity"] != first["fidelity"] and third["connectivity"] == first["connectivity"]
    # qiskit's list: newest first, ISO dates; the backend points at the newest
    listed = ok(api.client.get("/v0.4/backends/qpu.aria-1/characterizations?limit=10"))
    assert [c["id"] for c in listed["characterizations"]] == [third["id"], second["id"], first["id"]]
    assert ok(api.client.get("/v0.4/backends/qpu.aria-1"))["characterization_id"] == third["id"]
    # a window: from the second snapshot on
    since = ok(
        api.client.get("/v0.4/backends/qpu.aria-1/characterizations", params={"start": second["date"]})
    )
    assert [c["id"] for c in since["characterizations"]] == [third["id"], second["id"]]
    paged = ok(api.client.get("/v0.4/backends/qpu.aria-1/characterizations?limit=2&page=2"))
    assert [c["id"] for c in paged["characterizations"]] == [first["id"]] and paged["pages"] == 2
    # an old snapshot stays readable by id, unchanged
    old = ok(api.client.get(f"/v0.4/backends/qpu.aria-1/characterizations/{first['id']}"))
    assert old["fidelity"] == first["fidelity"]
    # the ionq package: epoch-int dates on its own paths
    current = ok(api.get("/v0.4/characterizations/backends/qpu.aria-1/current"))
    assert current["id"] == third["id"] and isinstance(current["date"], int)
    history = ok(api.get("/v0.4/characterizations/backends/qpu.aria-1"))["characterizations"]
    assert [c["id"] for c in history] == [third["id"], second["id"], first["id"]]
    assert all(isinstance(c["date"], int) and "mean" in c["fidelity"]["spam"] for c in history)
    # cirq: ISO dates with fractional seconds, ``target``
    calibrations = ok(api.get("/v0.4/calibrations"))["calibrations"]
    assert [c["id"] for c in calibrations] == [third["id"], second["id"], first["id"]]
    assert all(c["target"] == "qpu.aria-1" and "." in c["date"] for c in calibrations)


def test_the_emulator_takes_the_newest_snapshot(idle_api: Api) -> None:
    from qumulus.runtime.characterizations import CharacterizationCache

    made = _recalibrate(idle_api, "qpu.harmony")
    snapshot = CharacterizationCache(idle_api.platform.db).get("qpu.harmony")  # type: ignore[attr-defined]
    assert snapshot is not None and snapshot.id == made["id"]
    assert snapshot.data["fidelity"] == made["fidelity"]


def test_only_administrators_recalibrate_and_only_emulated_qpus(idle_api: Api) -> None:
    api = idle_api
    tenant = make_tenant(api, "alpha")
    refused = api.post("/v0.4/backends/qpu.aria-1/recalibrate", headers=as_key(api, tenant.keys["owner"]))
    assert refused.status_code == 403
    simulator = api.post("/v0.4/backends/simulator/recalibrate")
    assert simulator.status_code == 400 and "simulator" in simulator.json()["message"]
    assert api.post("/v0.4/backends/qpu.nope/recalibrate").status_code == 404
    from qumulus.store.models import AuditEvent

    _recalibrate(api, "qpu.aria-2")
    with api.platform.db.read() as session:  # type: ignore[attr-defined]
        actions = session.scalars(
            select(AuditEvent.target_id).where(AuditEvent.action == "backend.recalibrate")
        )
        assert list(actions) == ["qpu.aria-2"]


def test_the_periodic_recalibrator_writes_snapshots_and_a_recent_one_is_not_redone(idle_api: Api) -> None:
    from qumulus.services.backends.calibration import Recalibrator, recalibrate
    from qumulus.store.models import Characterization

    platform = idle_api.platform

    def count() -> int:
        with platform.db.read() as session:  # type: ignore[attr-defined]
            return session.scalar(
                select(func.count())
                .select_from(Characterization)
                .where(Characterization.backend == "qpu.forte-1")
            )

    assert count() == 1
    timer = Recalibrator(platform, 0.3)  # type: ignore[arg-type]
    timer.start()
    try:
        deadline = time.monotonic() + 20
        while count() < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        timer.stop()
    assert count() >= 3
    before = count()
    assert recalibrate(platform, min_age=timedelta(hours=1)) == []  # type: ignore[arg-type]
    assert count() == before


def test_the_admin_cli_sets_a_status_and_recalibrates(cli) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    run, _, _ = cli
    code, out = run("backends", "set-status", "qpu.aria-1", "maintenance", "-m", "Ion chain reload")
    assert code == 0 and "maintenance" in out, out
    code, out = run("backends", "status")
    assert code == 0 and "Ion chain reload" in out, out
    code, out = run("backends", "set-status", "qpu.aria-1", "asleep")
    assert code == 1 and "status" in out
    code, out = run("backends", "recalibrate", "qpu.harmony")
    assert code == 0 and out.startswith("qpu.harmony:"), out
    code, out = run("backends", "recalibrate", "simulator")
    assert code == 1 and "not an emulated QPU" in out
