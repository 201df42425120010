"""Listing jobs by backend, status, dates, tags and name with cursor paging; bulk status; bad filters."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from qumulus import JobStatus
from tests.client.conftest import bell
from tests.conftest import LiveServer


def test_filters_and_paging(simulator, provider) -> None:  # type: ignore[no-untyped-def]
    mark = uuid.uuid4().hex[:8]
    before = datetime.now(timezone.utc) - timedelta(seconds=1)
    jobs = [
        simulator.run(bell(), shots=10, name=f"scan-{mark}-{i}", tags=[mark, "even" if i % 2 == 0 else "odd"])
        for i in range(5)
    ]
    for job in jobs:
        job.wait_for_final_state(timeout=60)
    ids = [j.job_id() for j in reversed(jobs)]  # newest first

    assert [j.job_id() for j in provider.jobs(limit=None, tags=[mark])] == ids
    assert [j.job_id() for j in provider.jobs(limit=None, tags=[mark, "even"])] == ids[::2]
    either = provider.jobs(limit=None, tags=["even", "odd"], tags_operator="OR", name=mark)
    assert [j.job_id() for j in either] == ids
    assert [j.job_id() for j in provider.jobs(limit=None, tags=[mark, "even", "odd"])] == []
    assert [j.job_id() for j in provider.jobs(limit=None, name=f"{mark}-3".upper())] == [jobs[3].job_id()]
    assert len(provider.jobs(limit=2, tags=[mark])) == 2
    paged = list(provider.iter_jobs(page_size=2, tags=[mark]))  # three pages of a cursor
    assert [j.job_id() for j in paged] == ids
    window = provider.jobs(
        limit=None, tags=[mark], created_after=before, created_before=datetime.now(timezone.utc)
    )
    assert len(window) == 5
    assert provider.jobs(limit=None, tags=[mark], created_before=before) == []
    assert len(provider.jobs(limit=None, tags=[mark], status=JobStatus.DONE, backend_name="simulator")) == 5
    assert provider.jobs(limit=None, tags=[mark], status=[JobStatus.QUEUED, "RUNNING"]) == []
    assert provider.jobs(limit=None, tags=[mark], backend_name="qpu.aria-1") == []
    assert len(simulator.jobs(limit=None, tags=[mark])) == 5


def test_bulk_status_in_one_request(simulator, provider) -> None:  # type: ignore[no-untyped-def]
    jobs = [simulator.run(bell(), shots=10) for _ in range(3)]
    for job in jobs:
        job.wait_for_final_state(timeout=60)
    missing = str(uuid.uuid4())
    statuses = provider.job_statuses([j.job_id() for j in jobs] + [missing])
    assert statuses == {j.job_id(): JobStatus.DONE for j in jobs}


def test_retrieve_job_by_id_from_a_fresh_provider(simulator, sdk_server: LiveServer) -> None:  # type: ignore[no-untyped-def]
    from qumulus.client import Provider
    from qumulus.client.accounts import Account

    job = simulator.run(bell(), shots=10, name="lookup")
    job.result(timeout=60)
    fresh = Provider(Account("other-session", sdk_server.url, sdk_server.key))
    again = fresh.retrieve_job(job.job_id())
    assert again.name() == "lookup" and again.backend_name == "simulator"
    assert again.result().get_counts() == job.result().get_counts()


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "field"),
    [
        ("GET", "/v0.4/jobs", {"params": {"created_after": "yesterday"}}, "created_after"),
        ("GET", "/v0.4/jobs", {"params": {"created_before": "1e400"}}, "created_before"),
        ("POST", "/v0.4/jobs/status", {"json": {"ids": "abc"}}, "ids"),
        ("POST", "/v0.4/jobs/status", {"json": {"ids": ["a"] * 1001}}, "ids"),
        ("POST", "/v0.4/jobs/status", {"json": [1, 2]}, "ids"),
        ("PATCH", "/v0.4/jobs/{job}", {"json": {"status": "completed"}}, "status"),
        ("PATCH", "/v0.4/jobs/{job}", {"json": {"tags": "one"}}, "tags"),
        ("PATCH", "/v0.4/jobs/{job}", {"json": {"name": 5}}, "name"),
        ("PATCH", "/v0.4/jobs/{job}", {"json": {}}, "body"),
        ("GET", "/v0.4/jobs/{job}/events", {"params": {"timeout": "0"}}, "timeout"),
        ("GET", "/v0.4/jobs/{job}/events", {"params": {"timeout": "soon"}}, "timeout"),
        ("GET", "/v0.4/backends/qpu.aria-1/properties", {"params": {"at": "noon"}}, "at"),
        ("POST", "/v0.4/job_sets", {"json": {"backend": "simulator"}}, "circuits"),
        ("POST", "/v0.4/job_sets", {"json": {"backend": "simulator", "circuits": [1]}}, "circuits[0]"),
        ("POST", "/v0.4/job_sets", {"json": {"circuits": [{"circuit": []}]}}, "backend"),
        (
            "POST",
            "/v0.4/job_sets",
            {"json": {"backend": "simulator", "circuits": [{"circuit": []}], "max_experiments_per_job": 0}},
            "max_experiments_per_job",
        ),
        (
            "POST",
            "/v0.4/job_sets",
            {"json": {"backend": "simulator", "circuits": [{}], "colour": 1}},
            "colour",
        ),
    ],
)
def test_bad_input_is_a_400_naming_the_field(
    sdk_server: LiveServer, simulator, method: str, path: str, kwargs: dict, field: str
) -> None:  # type: ignore[no-untyped-def]
    job = simulator.run(bell(), shots=10)
    headers = {"Authorization": f"apiKey {sdk_server.key}"}
    response = httpx.request(
        method, sdk_server.url + path.format(job=job.job_id()), headers=headers, **kwargs
    )
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["statusCode"] == 400 and body["validation"]["keys"] == [field]
    assert field.split("[")[0] in body["message"]


def test_unknown_ids_are_404(sdk_server: LiveServer) -> None:
    headers = {"Authorization": f"apiKey {sdk_server.key}"}
    missing = str(uuid.uuid4())
    for method, path in (
        ("PATCH", f"/v0.4/jobs/{missing}"),
        ("GET", f"/v0.4/jobs/{missing}/queue"),
        ("GET", f"/v0.4/jobs/{missing}/events"),
        ("GET", f"/v0.4/job_sets/{missing}"),
        ("PUT", f"/v0.4/job_sets/{missing}/status/cancel"),
        ("POST", f"/v0.4/job_sets/{missing}/rerun"),
    ):
        kwargs = {"json": {"name": "x"}} if method == "PATCH" else {}
        response = httpx.request(method, sdk_server.url + path, headers=headers, **kwargs)
        assert response.status_code == 404, (path, response.text)
        assert response.json()["statusCode"] == 404
