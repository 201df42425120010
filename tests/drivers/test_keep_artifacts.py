"""Where a driver-served job keeps its provider's artifacts, on SQLite and PostgreSQL: the bodies
with the job (the provider's compilation replacing the one made at submission), the local ids in
its stats, and ``GET …/artifacts/{local id}`` serving them verbatim."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from qumulus.auth.principal import Principal
from qumulus.errors import NotFound
from qumulus.runtime.forwarding import gather_compilations, keep_artifacts
from qumulus.services import jobs
from qumulus.services.jobs.artifacts import artifact
from qumulus.store.models import Job, Project
from tests.conftest import make_platform

NATIVE = {"qubits": 2, "circuit": [{"gate": "ms", "targets": [0, 1], "phases": [0, 0]}]}
REGISTERS = {"shots": [{"registers": {"c": [1, 0]}}, {"registers": {"c": [0, 0]}}]}


def _admin(platform: Any) -> Principal:
    with platform.db.read() as session:
        project = session.scalars(select(Project)).one()
        return Principal(
            organization_id=project.organization_id,
            project_id=project.id,
            user_id=None,
            api_key_id=None,
            project_role="admin",
        )


def test_kept_artifacts_are_served_under_local_ids(settings: Any) -> None:
    platform, _ = make_platform(settings)
    who = _admin(platform)
    spec = jobs.JobSpec(
        backend="qpu.aria-1",
        job_type="ionq.circuit.v1",
        input={"qubits": 2, "circuit": [{"gate": "h", "targets": [0]}]},
        shots=10,
    )
    job_id = jobs.submit_job(platform, who, spec).job.id
    mine = artifact(platform, who, job_id, "native")  # compiled here at submission
    provided = {
        "ionq.native.v1": NATIVE,
        "ionq.result.shots.json.v2": REGISTERS,
        "vendor.extra.v1": {"x": 1},
        "a/b": {"dropped": True},  # not a URL segment: not kept
    }
    with platform.db.begin() as conn:
        held = keep_artifacts(conn, job_id, provided)
    assert held == {
        "ionq.native.v1": "native",
        "ionq.result.shots.json.v2": "shots",
        "vendor.extra.v1": "vendor.extra.v1",
    }
    assert mine != NATIVE and artifact(platform, who, job_id, "native") == NATIVE  # the provider's wins
    assert artifact(platform, who, job_id, "shots") == REGISTERS  # verbatim, even on a gate-list job
    assert artifact(platform, who, job_id, "vendor.extra.v1") == {"x": 1}
    with pytest.raises(NotFound):
        artifact(platform, who, job_id, "a/b")
    with platform.db.read() as session:
        stats = session.scalar(select(Job.stats).where(Job.id == job_id))
    assert stats["artifacts"] == held and stats["qubits"] == 2  # the rest of the stats kept
    platform.stop()


def test_a_multi_circuit_parent_gathers_its_childrens_compilations_in_order(settings: Any) -> None:
    platform, _ = make_platform(settings)
    who = _admin(platform)
    one = {"qubits": 2, "circuit": [{"gate": "h", "targets": [0]}]}
    spec = jobs.JobSpec(
        backend="qpu.aria-1", job_type="ionq.multi-circuit.v1", input={"circuits": [one, one]}, shots=10
    )
    view = jobs.submit_job(platform, who, spec)
    first, second = view.child_ids or []
    theirs = [{**NATIVE, "n": i} for i in range(2)]
    with platform.db.begin() as conn:
        keep_artifacts(conn, second, {"ionq.native.v1": theirs[1]})
        assert not gather_compilations(conn, view.job.id)  # not every child has one yet
        keep_artifacts(conn, first, {"ionq.native.v1": theirs[0]})
        assert gather_compilations(conn, view.job.id)
    assert artifact(platform, who, view.job.id, "native") == theirs  # circuit order, not arrival
    platform.stop()
