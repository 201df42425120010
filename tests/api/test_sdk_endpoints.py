"""The SDK's server endpoints on both databases (SQLite and PostgreSQL): the tag filter is the one
piece of dialect-specific SQL, job sets the one multi-job transaction."""

from __future__ import annotations

from tests.api.conftest import BELL, bell_job
from tests.conftest import Api


def test_tag_name_and_set_filters(api: Api) -> None:
    ids = []
    for i, tags in enumerate((["x", "y"], ["x"], ["y"], [])):
        created = api.post("/v0.4/jobs", json=bell_job(name=f"Tagged_{i}", tags=tags)).json()
        ids.append(created["id"])
    listed = lambda **params: [j["id"] for j in api.get("/v0.4/jobs", params=params).json()["jobs"]]  # noqa: E731
    assert listed(tags="x") == [ids[1], ids[0]]
    assert listed(tags=["x", "y"]) == [ids[0]]
    assert listed(tags=["x", "y"], tags_any="true") == [ids[2], ids[1], ids[0]]
    assert listed(name="tagged_2") == [ids[2]]
    assert listed(name="%") == []  # LIKE wildcards are matched literally
    assert listed(tags="x", limit=1) == [ids[1]]


def test_job_set_on_this_database(api: Api) -> None:
    body = {"backend": "simulator", "circuits": [BELL, BELL, BELL], "max_experiments_per_job": 2, "name": "s"}
    created = api.post("/v0.4/job_sets", json=body)
    assert created.status_code == 201, created.text
    job_set = created.json()
    assert [m["experiments"] for m in job_set["jobs"]] == [[0, 2], [2, 3]]
    for member in job_set["jobs"]:
        assert api.wait(member["id"])["status"] == "completed"
    summary = api.get(f"/v0.4/job_sets/{job_set['id']}").json()
    assert summary["status"] == "completed" and summary["counts"] == {"completed": 2}
    statuses = api.post("/v0.4/jobs/status", json={"ids": [m["id"] for m in job_set["jobs"]]}).json()
    assert [s["status"] for s in statuses["jobs"]] == ["completed", "completed"]
    renamed = api.client.patch(
        f"/v0.4/jobs/{job_set['jobs'][0]['id']}", json={"name": "n", "tags": ["t"]}, headers=api.headers
    ).json()
    assert renamed["name"] == "n" and renamed["tags"] == ["t"] and renamed["job_set_id"] == job_set["id"]
    # IBMQ's job_sets(name=): filtered on the server, before the cursor
    other = api.post("/v0.4/job_sets", json={**body, "name": "other"}).json()

    def named(name: str, **params: int) -> list[str]:
        listed = api.get("/v0.4/job_sets", params={"name": name, **params}).json()["job_sets"]
        return [s["id"] for s in listed]

    assert named("s") == [job_set["id"]] and named("other", limit=1) == [other["id"]] and named("S") == []
    too_long = api.get("/v0.4/job_sets", params={"name": "x" * 1001})
    assert too_long.status_code == 400 and too_long.json()["message"].startswith("name:")
