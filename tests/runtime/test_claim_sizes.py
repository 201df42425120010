"""A claim takes many small circuits but one large one at most, so large work spreads over workers."""

from __future__ import annotations

from sqlalchemy import select

from qumulus.auth.principal import Principal
from qumulus.runtime import queue
from qumulus.services import jobs
from qumulus.store.models import Project
from tests.conftest import make_platform

BELL = {"qubits": 2, "circuit": [{"gate": "h", "target": 0}, {"gate": "cnot", "control": 0, "target": 1}]}
LARGE = {"qubits": 20, "circuit": [{"gate": "h", "target": q} for q in range(20)]}


def test_one_claim_takes_all_small_circuits_and_a_single_large_one(settings) -> None:  # type: ignore[no-untyped-def]
    platform, _ = make_platform(settings)
    with platform.db.read() as session:
        project = session.scalars(select(Project)).one()
    who = Principal(project.organization_id, project.id, None, None, project_role="admin")
    submitted = {}
    for payload in (LARGE, BELL, LARGE, BELL, LARGE, BELL):
        job = jobs.submit_job(platform, who, jobs.JobSpec("simulator", "ionq.circuit.v1", payload)).job
        submitted[job.id] = payload["qubits"]

    def claim(owner: str) -> list[int]:
        with platform.db.write(durable=False) as session:
            taken = queue.claim(
                session, owner=owner, backends=None, limit=32, lease_seconds=60, postgres=False
            )
        return sorted(submitted[c.job_id] for c in taken)

    assert claim("w1") == [2, 2, 2, 20]  # every Bell job, and one of the three large circuits
    assert claim("w2") == [20]  # the next worker gets the next large one instead of idling
    assert claim("w3") == [20]
    assert claim("w4") == []
