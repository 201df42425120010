"""First start: the backend catalog, and demo tenancy (organization, project, user, key)."""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from qumulus.backends.catalog import CATALOG, BackendSpec
from qumulus.services.tenancy.keys import create_api_key
from qumulus.store.models import (
    AuditEvent,
    Backend,
    Characterization,
    Organization,
    OrganizationMember,
    Project,
    ProjectMember,
    User,
)

DEFAULT_ORG_SLUG = "default"
DEFAULT_USER_EMAIL = "admin@localhost"


def seed_backends(session: Session) -> None:
    """Insert catalog backends that are missing, each QPU with a first characterization.

    Existing rows are left alone: an administrator may have changed their status.
    """
    existing = set(session.scalars(select(Backend.name)))
    for spec in CATALOG:
        if spec.name in existing:
            _enable_emulation(session, spec)
            continue
        backend = Backend(
            name=spec.name,
            kind=spec.kind,
            qubits=spec.qubits,
            gatesets=["qis", "native"],
            status=spec.status,
            status_message=spec.status_message,
            accepting_jobs=spec.accepting_jobs,
            description=spec.description,
        )
        session.add(backend)
        session.flush()
        if spec.medians:
            snapshot = Characterization(backend=spec.name, qubits=spec.qubits, data=spec.characterization())
            session.add(snapshot)
            session.flush()
            backend.characterization_id = snapshot.id


#: How releases before emulated QPUs parked their QPUs (a status no administrator chose).
_PRE_EMULATION_MESSAGE = "Emulation of this QPU is not enabled in this release"


def _enable_emulation(session: Session, spec: BackendSpec) -> None:
    """Upgrade a QPU left in the pre-emulation parking state: operational, with a per-qubit snapshot.

    Only that exact state is touched; a status an administrator set is kept.
    """
    backend = session.get(Backend, spec.name)
    if backend is None or not backend.status_message.startswith(_PRE_EMULATION_MESSAGE):
        return
    backend.status, backend.status_message, backend.accepting_jobs = spec.status, "", spec.accepting_jobs
    backend.description = spec.description
    snapshot = Characterization(backend=spec.name, qubits=spec.qubits, data=spec.characterization())
    session.add(snapshot)
    session.flush()
    backend.characterization_id = snapshot.id


def bootstrap_tenancy(session: Session, *, secret: bytes) -> str | None:
    """On an empty database create the default organization, project, user and key.

    Returns the new key (to be shown once), or None when the database already had tenants.
    """
    if session.scalar(select(func.count()).select_from(Organization)):
        return None
    org = Organization(name="Default Organization", slug=DEFAULT_ORG_SLUG)
    user = User(email=DEFAULT_USER_EMAIL, name="Administrator", is_admin=True)
    session.add_all([org, user])
    session.flush()
    project = Project(organization_id=org.id, name="Default Project")
    session.add(project)
    session.flush()
    session.add_all(
        [
            OrganizationMember(organization_id=org.id, user_id=user.id, role="owner"),
            ProjectMember(project_id=project.id, user_id=user.id, role="admin"),
            AuditEvent(
                action="bootstrap",
                organization_id=org.id,
                project_id=project.id,
                target_type="organization",
                target_id=org.id,
                details={"user": user.email},
            ),
        ]
    )
    _, key = create_api_key(session, secret=secret, project_id=project.id, user_id=user.id, name="bootstrap")
    seed_demo_contracts(session, org.id)
    return key


#: Demo terms for the bootstrap organization: the simulator free, every QPU at a demo rate with a
#: monthly allocation (so QPUs can be used as soon as they accept jobs). Not anyone's real price.
DEMO_QPU_RATE_PER_SECOND = Decimal("0.50")
DEMO_QPU_ALLOCATION_SECONDS = 3600.0


def seed_demo_contracts(session: Session, organization_id: str) -> None:
    from qumulus.services.billing.contracts import add_contract

    add_contract(session, organization_id, {"backend": "simulator", "rate_per_second": Decimal(0)})
    add_contract(
        session,
        organization_id,
        {
            "backend": "qpu.*",
            "rate_per_second": DEMO_QPU_RATE_PER_SECOND,
            "allocation_seconds": DEMO_QPU_ALLOCATION_SECONDS,
            "period": "month",
        },
    )


def write_bootstrap_key(data_dir: Path, key: str) -> Path:
    """``<data-dir>/bootstrap-key``, mode 0600, for scripted set-ups."""
    path = data_dir / "bootstrap-key"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key + "\n")
    os.chmod(path, 0o600)
    return path
