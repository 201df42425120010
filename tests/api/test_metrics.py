"""``GET /metrics``: what an operator's Prometheus scrape shows, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select

import qumulus
from tests.api.conftest import bell_job
from tests.conftest import Api, make_platform


def scrape(api: Api) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of one scrape (no key sent), by (name, sorted labels)."""
    response = api.client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == CONTENT_TYPE_LATEST
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: dict, name: str, **labels: str) -> float:
    return samples[(name, tuple(sorted(labels.items())))]


MULTI = {
    "type": "ionq.multi-circuit.v1",
    "backend": "simulator",
    "input": {"qubits": 1, "circuits": [{"circuit": [{"gate": "x", "target": 0}]}] * 3},
}


def in_flight(samples: dict) -> float:
    return sum(value(samples, "qumulus_jobs", status=s) for s in ("submitted", "ready", "started"))


def test_finished_jobs_leave_the_figures(api: Api) -> None:
    before = scrape(api)
    assert value(before, "qumulus_build_info", version=qumulus.__version__) == 1
    ids = [api.post("/v0.4/jobs", json=bell_job()).json()["id"] for _ in range(3)]
    ids.append(api.post("/v0.4/jobs", json=MULTI).json()["id"])
    assert [api.wait(i)["status"] for i in ids] == ["completed"] * 4
    after = scrape(api)
    assert in_flight(after) == 0
    assert ("qumulus_jobs", (("status", "completed"),)) not in after  # history is not re-counted
    assert value(after, "qumulus_executions_queued", backend="simulator") == 0
    assert value(after, "qumulus_executions_running", backend="simulator") == 0
    assert value(after, "qumulus_worker_threads") == api.platform.settings.worker_threads  # type: ignore[attr-defined]
    assert value(after, "qumulus_simulator_processes") == 1
    assert value(after, "process_start_time_seconds") > 0


def test_queued_jobs_show_until_canceled_and_deleted_jobs_leave(idle_api: Api) -> None:
    api = idle_api
    before = scrape(api)
    assert value(before, "qumulus_worker_threads") == 0  # no runtime in this process
    ids = [api.post("/v0.4/jobs", json=bell_job()).json()["id"] for _ in range(2)]
    ids.append(api.post("/v0.4/jobs", json=MULTI).json()["id"])
    queued = scrape(api)
    # five executions (one per circuit), three jobs: the multi-circuit job counts once
    assert value(queued, "qumulus_executions_queued", backend="simulator") == 5
    assert value(queued, "qumulus_executions_queued", backend="qpu.aria-1") == 0
    assert in_flight(queued) == 3
    if api.platform.db.is_sqlite:  # type: ignore[attr-defined]
        # SQLite submissions go through the group committer; PostgreSQL's do not.
        grew = value(queued, "qumulus_group_commit_items_total") - value(
            before, "qumulus_group_commit_items_total"
        )
        assert grew >= 2

    assert api.put(f"/v0.4/jobs/{ids[0]}/status/cancel").status_code == 200
    canceled = scrape(api)
    assert value(canceled, "qumulus_executions_queued", backend="simulator") == 4
    assert in_flight(canceled) == 2

    assert api.delete(f"/v0.4/jobs/{ids[1]}").status_code == 200  # deleting a queued job
    assert in_flight(scrape(api)) == 1


def test_backend_status_is_one_series_per_backend(idle_api: Api) -> None:
    assert value(scrape(idle_api), "qumulus_backend_status", backend="qpu.aria-1", status="operational") == 1
    changed = idle_api.put("/v0.4/backends/qpu.aria-1/status", json={"status": "degraded", "message": "x"})
    assert changed.status_code == 200, changed.text
    samples = scrape(idle_api)
    assert value(samples, "qumulus_backend_status", backend="qpu.aria-1", status="degraded") == 1
    aria = [k for k in samples if k[0] == "qumulus_backend_status" and ("backend", "qpu.aria-1") in k[1]]
    assert len(aria) == 1
    assert value(samples, "qumulus_backend_status", backend="simulator", status="operational") == 1


def test_no_tenant_appears_in_the_figures(api: Api) -> None:
    from qumulus.store.models import ApiKey, Job, Organization, Project, User

    api.wait(api.post("/v0.4/jobs", json=bell_job(name="secret-name")).json()["id"])
    text = api.client.get("/metrics").text
    with api.platform.db.read() as session:  # type: ignore[attr-defined]
        names = [
            *session.scalars(select(Organization.id)),
            *session.scalars(select(Organization.slug)),
            *session.scalars(select(Project.id)),
            *session.scalars(select(User.id)),
            *session.scalars(select(User.email)),
            *session.scalars(select(ApiKey.key_id)),
            *session.scalars(select(Job.id)),
        ]
    assert len(names) >= 7
    for name in [*names, "secret-name", "Default Organization", "Default Project"]:
        assert name not in text
    labels = {
        label
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        for label in sample.labels
    }
    assert labels <= {"status", "backend", "version"}


def test_figures_are_computed_at_scrape_time_off_the_event_loop(
    idle_api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Requests other than a scrape run nothing of the collector; a scrape runs it once, in a
    thread without an event loop (its queries block)."""
    from qumulus.platform import metrics

    calls: list[bool] = []
    original = metrics.PlatformCollector.collect

    def counting(self):  # type: ignore[no-untyped-def]
        try:
            asyncio.get_running_loop()
            calls.append(True)
        except RuntimeError:
            calls.append(False)
        yield from original(self)

    monkeypatch.setattr(metrics.PlatformCollector, "collect", counting)
    job_id = idle_api.post("/v0.4/jobs", json=bell_job()).json()["id"]
    for _ in range(3):
        assert idle_api.get(f"/v0.4/jobs/{job_id}").status_code == 200
    assert idle_api.client.get("/health").status_code == 200
    assert calls == []
    scrape(idle_api)
    assert calls == [False]


def test_the_figures_are_not_on_the_global_registry(idle_api: Api) -> None:
    """Each app has its own registry: many apps in one process (tests, two API instances) do not
    collide, and a library scraping the default registry does not query the database."""
    from prometheus_client import REGISTRY, generate_latest

    scrape(idle_api)
    assert b"qumulus_" not in generate_latest(REGISTRY)


def test_metrics_can_be_turned_off(settings, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    from qumulus.api.app import create_app
    from qumulus.config import Settings

    monkeypatch.delenv("QUMULUS_METRICS", raising=False)
    assert Settings.from_env(data_dir=settings.data_dir).metrics is True
    monkeypatch.setenv("QUMULUS_METRICS", "0")
    same = {f.name: getattr(settings, f.name) for f in dataclasses.fields(settings) if f.name != "metrics"}
    off = Settings.from_env(**same)
    assert off.metrics is False
    platform, _ = make_platform(off)
    with TestClient(create_app(platform, run_jobs=False), raise_server_exceptions=False) as client:
        assert client.get("/metrics").status_code == 404
        assert client.get("/health").status_code == 200
