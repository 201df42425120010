"""The claim follows the fair-share policy on a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

from sqlalchemy import select

from qumulus.auth.principal import Principal
from qumulus.runtime import fairshare, queue
from qumulus.runtime.completion import complete
from qumulus.runtime.tasks import Outcome
from qumulus.services import jobs
from qumulus.services.backends import reservations
from qumulus.services.jobs import priority
from qumulus.services.tenancy import organizations, projects
from qumulus.services.tenancy.access import CLI_ADMIN
from qumulus.store.models import Contract, FairShareUsage, UsageLedger
from qumulus.timeutil import utcnow
from tests.conftest import make_platform

BELL = {"qubits": 2, "circuit": [{"gate": "h", "target": 0}, {"gate": "cnot", "control": 0, "target": 1}]}


def _tenant(platform, slug: str, share: float | None = None) -> Principal:  # type: ignore[no-untyped-def]
    org = organizations.create_organization(
        platform, CLI_ADMIN, name=f"Org {slug}", slug=slug, owner_email=f"owner@{slug}.test"
    )
    project = projects.create_project(platform, CLI_ADMIN, org.id, name=f"{slug} main")
    if share is not None:
        with platform.db.write() as session:
            session.add(Contract(organization_id=org.id, backend="simulator", share=share))
        fairshare.invalidate()
    return Principal(org.id, project.id, None, None, project_role="admin")


def _submit(platform, who: Principal, n: int) -> list[str]:  # type: ignore[no-untyped-def]
    spec = jobs.JobSpec("simulator", "ionq.circuit.v1", BELL)
    return [jobs.submit_job(platform, who, spec).job.id for _ in range(n)]


def _postgres(platform) -> bool:  # type: ignore[no-untyped-def]
    return platform.db.engine.dialect.name == "postgresql"


def _claim(platform, owner: str, limit: int) -> list[queue.Claimed]:  # type: ignore[no-untyped-def]
    with platform.db.write(durable=False) as session:
        return queue.claim(
            session, owner=owner, backends=None, limit=limit, lease_seconds=60, postgres=_postgres(platform)
        )


def _finish(platform, owner: str, claimed: list[queue.Claimed], seconds: float) -> None:  # type: ignore[no-untyped-def]
    by_id = {c.execution_id: c for c in claimed}
    outcomes = [
        Outcome(
            c.execution_id,
            ok=True,
            seconds=seconds,
            qubits=2,
            engine="qulacs",
            indices=[0, 3],
            values=[0.5, 0.5],
        )
        for c in claimed
    ]
    with platform.db.write(durable=False) as session:
        complete(session, owner=owner, claimed=by_id, outcomes=outcomes, data_dir=platform.settings.data_dir)


def test_claims_follow_a_3_to_1_contract_share_between_two_backlogged_organizations(settings) -> None:  # type: ignore[no-untyped-def]
    platform, _ = make_platform(settings)
    a = _tenant(platform, "alpha", share=3.0)
    b = _tenant(platform, "beta", share=1.0)
    _submit(platform, b, 30)  # b's backlog is older: FIFO would serve b first
    _submit(platform, a, 30)
    served: list[str] = []
    for _ in range(20):
        (item,) = _claim(platform, "w1", 1)
        served.append(item.organization_id)
        _finish(platform, "w1", [item], seconds=2.0)
    counts = Counter(served)
    assert counts[a.organization_id] == 15 and counts[b.organization_id] == 5
    assert served[0] == b.organization_id  # equal (zero) usage: the older head job goes first
    # and the two interleave instead of one running its whole backlog first
    assert (
        max(len(run) for run in "".join("a" if o == a.organization_id else "b" for o in served).split("b"))
        <= 4
    )


def test_one_batch_claim_spreads_across_organizations_by_share(settings) -> None:  # type: ignore[no-untyped-def]
    platform, _ = make_platform(settings)
    a = _tenant(platform, "alpha", share=1.0)
    b = _tenant(platform, "beta", share=1.0)
    _submit(platform, a, 20)  # a floods first
    _submit(platform, b, 4)
    batch = _claim(platform, "w1", 8)
    counts = Counter(c.organization_id for c in batch)
    assert counts[a.organization_id] == 4 and counts[b.organization_id] == 4


def test_usage_is_charged_to_the_decayed_accumulators_at_completion(settings) -> None:  # type: ignore[no-untyped-def]
    platform, _ = make_platform(settings)
    a = _tenant(platform, "alpha")
    _submit(platform, a, 3)
    _finish(platform, "w1", _claim(platform, "w1", 3), seconds=1.5)
    with platform.db.read() as session:
        rows = {(r.kind, r.entity_id): r for r in session.scalars(select(FairShareUsage))}
    now = utcnow().timestamp()
    org = rows[("org", a.organization_id)]
    decayed = org.g * 2.0 ** ((org.epoch - now) / fairshare.HALF_LIFE_S)
    assert abs(decayed - 4.5) < 0.01
    assert abs(rows[("project", a.project_id)].g - org.g) < 1e-9
    assert rows[("backend", "simulator")].n > 2.99


def test_inside_an_approved_window_only_the_reserving_organization_starts(settings) -> None:  # type: ignore[no-untyped-def]
    platform, _ = make_platform(settings)
    a = _tenant(platform, "alpha")
    b = _tenant(platform, "beta")
    _submit(platform, a, 5)
    _submit(platform, b, 3)
    now = utcnow()
    reservations.create_reservation(
        platform,
        CLI_ADMIN,
        b.organization_id,
        backend="simulator",
        starts_at=now - timedelta(minutes=1),
        ends_at=now + timedelta(hours=1),
    )
    first = _claim(platform, "w1", 10)
    assert {c.organization_id for c in first} == {b.organization_id} and len(first) == 3
    assert _claim(platform, "w1", 10) == []  # a's work waits for the window to end
    _finish(platform, "w1", first, seconds=2.0)
    with platform.db.read() as session:
        charged = session.scalars(
            select(FairShareUsage).where(FairShareUsage.entity_id == b.organization_id)
        ).all()
        billed = session.scalars(
            select(UsageLedger).where(UsageLedger.organization_id == b.organization_id)
        ).all()
    assert len(billed) == 3  # billed as usual ...
    assert all(r.g == 0.0 for r in charged)  # ... but reserved usage does not count against fair share


def test_a_requested_reservation_does_not_block_until_approved(settings) -> None:  # type: ignore[no-untyped-def]
    platform, _ = make_platform(settings)
    a = _tenant(platform, "alpha")
    b = _tenant(platform, "beta")
    _submit(platform, a, 2)
    now = utcnow()
    with platform.db.write() as session:
        from qumulus.store.models import Reservation

        session.add(
            Reservation(
                backend="simulator",
                organization_id=b.organization_id,
                status="requested",
                starts_at=now - timedelta(minutes=1),
                ends_at=now + timedelta(hours=1),
            )
        )
    fairshare.invalidate()
    assert len(_claim(platform, "w1", 10)) == 2


def test_an_administrators_tier_goes_ahead_of_fair_share(settings) -> None:  # type: ignore[no-untyped-def]
    platform, _ = make_platform(settings)
    a = _tenant(platform, "alpha")
    ids = _submit(platform, a, 5)
    priority.set_tier(platform, CLI_ADMIN, ids[3], 2)
    (item,) = _claim(platform, "w1", 1)
    assert item.job_id == ids[3]


def test_concurrent_claims_never_take_the_same_execution(settings) -> None:  # type: ignore[no-untyped-def]
    platform, _ = make_platform(settings)
    tenants = [_tenant(platform, f"t{i}") for i in range(3)]
    for who in tenants:
        _submit(platform, who, 40)
    taken: list[str] = []
    lock = threading.Lock()
    errors: list[BaseException] = []

    def worker(name: str) -> None:
        try:
            while True:
                got = _claim(platform, name, 5)
                if not got:
                    return
                with lock:
                    taken.extend(c.execution_id for c in got)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    assert len(taken) == 120 and len(set(taken)) == 120


def test_a_hard_allocation_stops_claims_once_period_usage_would_pass_it(settings) -> None:  # type: ignore[no-untyped-def]
    platform, _ = make_platform(settings)
    a = _tenant(platform, "alpha")
    b = _tenant(platform, "beta")
    with platform.db.write() as session:
        session.add(
            Contract(organization_id=a.organization_id, backend="*", allocation_seconds=5.0, period="month")
        )
    fairshare.invalidate()
    _submit(platform, a, 10)
    _submit(platform, b, 2)
    first = _claim(platform, "w1", 20)  # the prediction is 1 s per execution with no history yet
    assert Counter(c.organization_id for c in first) == {a.organization_id: 5, b.organization_id: 2}
    _finish(platform, "w1", first, seconds=1.0)
    fairshare.invalidate()
    assert _claim(platform, "w1", 20) == []  # 5 s used of 5: a's other 5 jobs stay queued


def test_the_allocation_in_force_is_the_most_specific_contracts(settings) -> None:  # type: ignore[no-untyped-def]
    """An exhausted ``*`` allocation does not hold back work a more specific contract without a cap
    admits (admission and billing pick the most specific contract; the scheduler must agree)."""
    platform, _ = make_platform(settings)
    a = _tenant(platform, "alpha")
    with platform.db.write() as session:
        session.add(
            Contract(organization_id=a.organization_id, backend="*", allocation_seconds=1.0, period="month")
        )
    fairshare.invalidate()
    _submit(platform, a, 4)
    first = _claim(platform, "w1", 20)
    assert len(first) == 1  # the 1 s cap admits one 1-s prediction
    _finish(platform, "w1", first, seconds=1.0)
    fairshare.invalidate()
    assert _claim(platform, "w1", 20) == []
    backend = first[0].backend
    with platform.db.write() as session:
        session.add(Contract(organization_id=a.organization_id, backend=backend, allocation_seconds=None))
    fairshare.invalidate()
    assert len(_claim(platform, "w1", 20)) == 3  # the exact contract, uncapped, is in force
