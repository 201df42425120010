"""Contracts: QPUs need one, allocations refuse and report, only platform admins set prices."""

from __future__ import annotations

import threading

from sqlalchemy import select

from qumulus.store.models import AuditEvent
from tests.api._billing import as_key, key_for, ledger, new_tenant, open_qpu, whoami
from tests.api.conftest import BELL, bell_job
from tests.conftest import Api


def qpu_job(shots: int = 100) -> dict:
    return {"type": "ionq.circuit.v1", "backend": "qpu.aria-1", "shots": shots, "input": BELL}


def test_a_qpu_refuses_organizations_without_a_contract_and_accepts_once_there_is_one(idle_api: Api) -> None:
    open_qpu(idle_api.platform)
    org, _, owner_key = new_tenant(idle_api.platform)
    owner = as_key(idle_api, owner_key)
    refused = owner.post("/v0.4/jobs", json=qpu_job())
    assert refused.status_code == 403
    assert "no contract" in refused.json()["message"] and "qpu.aria-1" in refused.json()["message"]
    assert refused.json()["validation"]["keys"] == ["backend"]
    assert owner.post("/v0.4/jobs", json=bell_job()).status_code == 201  # the simulator needs none
    made = idle_api.post(
        f"/v0.4/organizations/{org}/contracts", json={"backend": "qpu.*", "rate_per_second": 2}
    )
    assert made.status_code == 201, made.text
    assert made.json()["rate_per_second"] == "2.000000" and made.json()["organization_id"] == org
    assert owner.post("/v0.4/jobs", json=qpu_job()).status_code == 201
    # the bootstrap organization has the demo contract: QPUs work for it as soon as they accept jobs
    assert idle_api.post("/v0.4/jobs", json=qpu_job()).status_code == 201


def test_an_expired_contract_does_not_count(idle_api: Api) -> None:
    open_qpu(idle_api.platform)
    org, _, owner_key = new_tenant(idle_api.platform)
    made = idle_api.post(
        f"/v0.4/organizations/{org}/contracts",
        json={"backend": "qpu.aria-1", "rate_per_second": 1, "starts_at": "2020-01-01T00:00:00Z",
              "ends_at": "2021-01-01T00:00:00Z"},
    )  # fmt: skip
    assert made.status_code == 201
    assert as_key(idle_api, owner_key).post("/v0.4/jobs", json=qpu_job()).status_code == 403


def test_a_job_beyond_a_hard_allocation_is_refused_with_what_is_left(idle_api: Api) -> None:
    open_qpu(idle_api.platform)
    org, _, owner_key = new_tenant(idle_api.platform)
    idle_api.post(
        f"/v0.4/organizations/{org}/contracts",
        json={"backend": "qpu.*", "rate_per_second": 1, "allocation_seconds": 1.0},
    )
    owner = as_key(idle_api, owner_key)
    # Aria, Bell pair, compiled to native gates on the timing model (what the job is billed):
    # 1000 shots ≈ 1.690 s > 1 s
    refused = owner.post("/v0.4/jobs", json=qpu_job(shots=1000))
    assert refused.status_code == 402
    message = refused.json()["message"]
    assert message.startswith("allocation:") and "1.000 s left" in message and "1.690 s" in message
    assert owner.post("/v0.4/jobs", json=qpu_job(shots=100)).status_code == 201


def test_queued_jobs_count_against_the_allocation_until_they_finish(idle_api: Api) -> None:
    open_qpu(idle_api.platform)
    org, _, owner_key = new_tenant(idle_api.platform)
    idle_api.post(
        f"/v0.4/organizations/{org}/contracts",
        json={"backend": "qpu.*", "rate_per_second": 1, "allocation_seconds": 3.5},
    )
    owner = as_key(idle_api, owner_key)
    first = owner.post("/v0.4/jobs", json=qpu_job(shots=1000))  # ≈ 1.690 s each
    assert first.status_code == 201
    assert owner.post("/v0.4/jobs", json=qpu_job(shots=1000)).status_code == 201
    third = owner.post("/v0.4/jobs", json=qpu_job(shots=1000))
    assert third.status_code == 402 and "3.380 s are used or held" in third.json()["message"]
    assert owner.put(f"/v0.4/jobs/{first.json()['id']}/status/cancel").status_code == 200
    assert owner.post("/v0.4/jobs", json=qpu_job(shots=1000)).status_code == 201  # room again


def test_allocations_report_used_and_left_from_the_ledger(api: Api) -> None:
    org = whoami(api)["organization_id"]
    contracts = api.get(f"/v0.4/organizations/{org}/contracts").json()["contracts"]
    assert sorted(c["backend"] for c in contracts) == ["qpu.*", "simulator"]  # the bootstrap demo terms
    simulator = next(c for c in contracts if c["backend"] == "simulator")
    patched = api.client.patch(
        f"/v0.4/organizations/{org}/contracts/{simulator['id']}",
        json={"allocation_seconds": 100},
        headers=api.headers,
    )
    assert patched.status_code == 200 and patched.json()["allocation_seconds"] == 100
    for _ in range(3):
        assert api.wait(api.post("/v0.4/jobs", json=bell_job()).json()["id"])["status"] == "completed"
    used = sum(r.usage_seconds for r in ledger(api.platform))
    report = {
        a["backend"]: a for a in api.get(f"/v0.4/organizations/{org}/allocations").json()["allocations"]
    }
    assert abs(report["simulator"]["used_seconds"] - used) < 1e-6
    assert abs(report["simulator"]["left_seconds"] - (100 - used)) < 1e-6
    assert report["qpu.*"]["allocation_seconds"] == 3600 and report["qpu.*"]["used_seconds"] == 0
    assert report["qpu.*"]["period"] == "month" and report["qpu.*"]["in_force"] is True


def test_only_platform_admins_set_contracts_owners_read_them_strangers_get_404(idle_api: Api) -> None:
    org, project, owner_key = new_tenant(idle_api.platform)
    owner = as_key(idle_api, owner_key)
    denied = owner.post(
        f"/v0.4/organizations/{org}/contracts", json={"backend": "qpu.*", "rate_per_second": 0}
    )
    assert denied.status_code == 403 and "contract.manage" in denied.json()["message"]
    made = idle_api.post(
        f"/v0.4/organizations/{org}/contracts", json={"backend": "simulator", "rate_per_second": 1}
    )
    contract = made.json()["id"]
    assert [c["id"] for c in owner.get(f"/v0.4/organizations/{org}/contracts").json()["contracts"]] == [
        contract
    ]
    assert owner.get(f"/v0.4/organizations/{org}/allocations").status_code == 200
    member = as_key(idle_api, key_for(idle_api.platform, project, project_role="admin"))
    assert member.get(f"/v0.4/organizations/{org}/contracts").status_code == 403
    home = whoami(idle_api)["organization_id"]
    assert owner.get(f"/v0.4/organizations/{home}/contracts").status_code == 404
    assert owner.get(f"/v0.4/organizations/{org}/contracts/{contract}x").status_code == 404
    home_contract = idle_api.get(f"/v0.4/organizations/{home}/contracts").json()["contracts"][0]["id"]
    assert owner.get(f"/v0.4/organizations/{org}/contracts/{home_contract}").status_code == 404


def test_contract_changes_are_validated_and_audited(idle_api: Api) -> None:
    org = whoami(idle_api)["organization_id"]
    base = f"/v0.4/organizations/{org}/contracts"
    for body, field in (
        ({"backend": "qpu.nope", "rate_per_second": 1}, "backend"),
        ({"backend": "qpu.*", "rate_per_second": -1}, "rate_per_second"),
        ({"backend": "qpu.*", "rate_per_second": 1, "period": "fortnight"}, "period"),
        ({"backend": "qpu.*", "rate_per_second": 1, "id": "mine"}, "id"),
        ({"backend": "qpu.*", "rate_per_second": 1, "organization_id": "other"}, "organization_id"),
        ({"backend": "qpu.*"}, "rate_per_second"),
        (
            {"backend": "qpu.*", "rate_per_second": 1, "starts_at": "2027-01-01", "ends_at": "2026-01-01"},
            "ends_at",
        ),
    ):
        response = idle_api.post(base, json=body)
        assert response.status_code == 400, (body, response.text)
        assert response.json()["message"].startswith(f"{field}:"), response.json()
    made = idle_api.post(base, json={"backend": "qpu.aria-1", "rate_per_second": "0.25"}).json()
    url = f"{base}/{made['id']}"
    changed = idle_api.client.patch(url, json={"rate_per_second": "0.3"}, headers=idle_api.headers)
    assert changed.status_code == 200 and changed.json()["rate_per_second"] == "0.300000"
    assert idle_api.client.patch(url, json={"created_at": "x"}, headers=idle_api.headers).status_code == 400
    assert idle_api.delete(url).status_code == 200
    assert idle_api.get(url).status_code == 404
    with idle_api.platform.db.read() as session:
        actions = session.scalars(select(AuditEvent.action).where(AuditEvent.target_id == made["id"])).all()
    assert sorted(actions) == ["contract.create", "contract.delete", "contract.update"]


def test_parallel_submissions_cannot_overrun_an_allocation(two_apps: tuple[Api, Api]) -> None:
    one, two = two_apps
    open_qpu(one.platform)
    two.platform.backends.invalidate()
    org, _, owner_key = new_tenant(one.platform)
    one.post(
        f"/v0.4/organizations/{org}/contracts",
        json={"backend": "qpu.*", "rate_per_second": 1, "allocation_seconds": 3.5},
    )
    clients = [as_key(one, owner_key), as_key(two, owner_key)]
    start = threading.Barrier(12)
    statuses: list[int] = []

    def submit(n: int) -> None:
        start.wait()
        statuses.append(clients[n % 2].post("/v0.4/jobs", json=qpu_job(shots=1000)).status_code)

    threads = [threading.Thread(target=submit, args=(n,)) for n in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [201] * 2 + [402] * 10
