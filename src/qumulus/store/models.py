"""SQLAlchemy models for the whole domain model (DESIGN §3).

One table per concept. Identifiers are UUID strings so rows can be created by any process without
coordination. Timestamps are timezone-aware UTC. JSON columns hold what the platform echoes back
verbatim (job metadata) or does not query by (settings, characterization figures).
"""

from __future__ import annotations

import os
import threading
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from qumulus.timeutil import utcnow

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every database (SQLite stores naive text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            from datetime import timezone

            return value.replace(tzinfo=timezone.utc)
        return value


_RANDOM = bytearray()
_RANDOM_LOCK = threading.Lock()


def new_id() -> str:
    """A random (version 4) UUID, from urandom read 4 KiB at a time.

    ``uuid.uuid4()`` makes one system call per id, and each one lets go of the GIL: on the tiny-job
    path (three ids per job) getting it back showed up in profiles. Same randomness, fewer calls.
    """
    global _RANDOM
    with _RANDOM_LOCK:
        if len(_RANDOM) < 16:
            _RANDOM = bytearray(os.urandom(4096))
        raw = bytes(_RANDOM[-16:])
        del _RANDOM[-16:]
    return str(uuid.UUID(bytes=raw, version=4))


def _forget_random_after_fork() -> None:
    """A forked child must not hand out the ids its parent still holds."""
    global _RANDOM
    _RANDOM = bytearray()


os.register_at_fork(after_in_child=_forget_random_after_fork)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


Money = Numeric(18, 6)


class Organization(Base):
    __tablename__ = "organizations"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class User(Base):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str | None] = mapped_column(String(200), nullable=True)
    #: Platform administrator (approves reservations, sets backend status, priority tier).
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    notify_on_failure: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OrganizationMember(Base):
    __tablename__ = "organization_members"

    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), primary_key=True)
    #: ``owner`` or ``member``.
    role: Mapped[str] = mapped_column(String(20), default="member")


class Project(Base):
    __tablename__ = "projects"
    __table_args__ = (UniqueConstraint("organization_id", "name"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    #: Share weight inside the organization for the fair-share queue.
    share: Mapped[float] = mapped_column(Float, default=1.0)
    max_queued_jobs: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class ProjectMember(Base):
    __tablename__ = "project_members"

    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id"), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), primary_key=True)
    #: ``owner`` or ``member``.
    role: Mapped[str] = mapped_column(String(20), default="member")


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    #: Public identifier embedded in the key; what a request is looked up by.
    key_id: Mapped[str] = mapped_column(String(32), unique=True)
    #: HMAC-SHA256 of the whole key under the server secret (hex). The key itself is never stored.
    secret_hash: Mapped[str] = mapped_column(String(64))
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id"), index=True)
    user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    scopes: Mapped[list[str]] = mapped_column(JSON, default=lambda: ["jobs:read", "jobs:write", "manage"])
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Contract(Base):
    __tablename__ = "contracts"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), index=True)
    #: A backend name (``qpu.aria-1``) or a class pattern (``qpu.*``, ``simulator``).
    backend: Mapped[str] = mapped_column(String(100))
    rate_per_second: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    currency: Mapped[str] = mapped_column(String(8), default="USD")
    #: Seconds of usage granted per period (``None`` = unlimited).
    allocation_seconds: Mapped[float | None] = mapped_column(Float, nullable=True)
    #: ``month``, ``quarter``, ``year`` or ``none``.
    period: Mapped[str] = mapped_column(String(16), default="month")
    share: Mapped[float] = mapped_column(Float, default=1.0)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Budget(Base):
    __tablename__ = "budgets"
    __table_args__ = (UniqueConstraint("project_id", "period_start"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id"), index=True)
    period_start: Mapped[datetime] = mapped_column(UTCDateTime)
    period_end: Mapped[datetime] = mapped_column(UTCDateTime)
    limit_amount: Mapped[Decimal] = mapped_column(Money)
    spent: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    held: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    currency: Mapped[str] = mapped_column(String(8), default="USD")
    #: ``day``, ``week``, ``month`` or ``custom`` (see accounting/periods.py).
    period: Mapped[str] = mapped_column(String(16), default="custom")
    #: A recurring budget starts its next period, with the same limit, when this one ends.
    recurring: Mapped[bool] = mapped_column(Boolean, default=False)


class Backend(Base):
    __tablename__ = "backends"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    #: ``simulator`` or ``qpu``.
    kind: Mapped[str] = mapped_column(String(20))
    qubits: Mapped[int] = mapped_column(Integer)
    gatesets: Mapped[list[str]] = mapped_column(JSON, default=lambda: ["qis", "native"])
    #: ``operational``, ``degraded``, ``partial_outage``, ``major_outage``, ``maintenance``,
    #: ``retired`` (mapped to each client's wire values in api/).
    status: Mapped[str] = mapped_column(String(20), default="operational")
    status_message: Mapped[str] = mapped_column(Text, default="")
    #: Whether jobs may be submitted at all (an emulated QPU not yet enabled refuses them).
    accepting_jobs: Mapped[bool] = mapped_column(Boolean, default=True)
    average_queue_time_ms: Mapped[int] = mapped_column(BigInteger, default=0)
    characterization_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    description: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Characterization(Base):
    __tablename__ = "characterizations"
    __table_args__ = (Index("ix_characterizations_backend_date", "backend", "date"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    backend: Mapped[str] = mapped_column(ForeignKey("backends.name"))
    date: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    qubits: Mapped[int] = mapped_column(Integer)
    #: ``{"fidelity": ..., "timing": ..., "connectivity": ..., "per_qubit": ..., "per_pair": ...}``.
    data: Mapped[dict[str, Any]] = mapped_column(JSON)


class BackendStatusEvent(Base):
    """One change of a backend's status (append-only): the status page's history."""

    __tablename__ = "backend_status_events"
    __table_args__ = (Index("ix_backend_status_events_backend_at", "backend", "at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    backend: Mapped[str] = mapped_column(ForeignKey("backends.name"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status: Mapped[str] = mapped_column(String(20))
    previous: Mapped[str] = mapped_column(String(20), default="")
    message: Mapped[str] = mapped_column(Text, default="")
    actor_user_id: Mapped[str | None] = mapped_column(String(36), nullable=True)


class MaintenanceWindow(Base):
    """A scheduled maintenance: the backend is in ``maintenance`` (starts nothing) inside it."""

    __tablename__ = "maintenance_windows"
    __table_args__ = (Index("ix_maintenance_windows_backend_ends", "backend", "ends_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    backend: Mapped[str] = mapped_column(ForeignKey("backends.name"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    message: Mapped[str] = mapped_column(Text, default="")
    #: ``scheduled`` or ``canceled``.
    status: Mapped[str] = mapped_column(String(20), default="scheduled")
    created_by: Mapped[str | None] = mapped_column(String(36), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class JobSet(Base):
    __tablename__ = "job_sets"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id"), index=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Session(Base):
    """A project's iterative-work container on one backend (IonQ sessions)."""

    __tablename__ = "sessions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id"), index=True)
    backend: Mapped[str] = mapped_column(ForeignKey("backends.name"))
    creator_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: ``created``, ``started``, ``ended``.
    status: Mapped[str] = mapped_column(String(20), default="created")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    ender_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"), nullable=True)


class Job(Base):
    __tablename__ = "jobs"
    __table_args__ = (
        UniqueConstraint("project_id", "idempotency_key"),
        Index("ix_jobs_project_listing", "project_id", "deleted_at", "submitted_at"),
        #: Covers the active-jobs count of the queued-job limit (services/limits.py).
        Index("ix_jobs_project_active", "project_id", "status", "parent_id"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id"))
    submitter_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    api_key_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    backend: Mapped[str] = mapped_column(ForeignKey("backends.name"))
    #: The wire ``type`` (``ionq.circuit.v1``, ``ionq.multi-circuit.v1``); children are circuit.v1.
    type: Mapped[str] = mapped_column(String(64))
    name: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    shots: Mapped[int] = mapped_column(Integer, default=100)
    #: Echoed verbatim to clients (qiskit and cirq rebuild results from it).
    job_metadata: Mapped[dict[str, Any]] = mapped_column("metadata", JSON, default=dict)
    #: The circuit(s) as submitted (``input`` of the request), for execution and inspection.
    input: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True, deferred=True)
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    noise: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    dry_run: Mapped[bool] = mapped_column(Boolean, default=False)
    #: ``submitted``, ``ready``, ``started``, ``completed``, ``failed``, ``canceled``.
    status: Mapped[str] = mapped_column(String(20), default="submitted", index=True)
    #: ``{"qubits": n, "circuits": k, "gate_counts": {...}}``.
    stats: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ready_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    canceled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("jobs.id"), nullable=True, index=True)
    #: Position of a child in its parent's circuit list (circuit order matters to every client).
    child_index: Mapped[int | None] = mapped_column(Integer, nullable=True)
    session_id: Mapped[str | None] = mapped_column(ForeignKey("sessions.id"), nullable=True, index=True)
    job_set_id: Mapped[str | None] = mapped_column(ForeignKey("job_sets.id"), nullable=True, index=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(255), nullable=True)
    #: SHA-256 of the request that used ``idempotency_key``: a retry must send the same request.
    idempotency_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    priority: Mapped[int] = mapped_column(Integer, default=0)
    #: ``{"code": ..., "error": ..., "message": ...}`` when failed.
    failure: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    execution_duration_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    usage_seconds: Mapped[float | None] = mapped_column(Float, nullable=True)
    cost: Mapped[Decimal | None] = mapped_column(Money, nullable=True)
    #: Which engine ran it (for benchmarks and support).
    engine: Mapped[str | None] = mapped_column(String(40), nullable=True)
    #: The budget this job's estimated cost is held against (services/charging.py), and the amount
    #: still held: set on executable jobs (a multi-circuit parent has none), cleared never: a job
    #: leaves the held set exactly once, when its status becomes final.
    budget_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    budget_hold: Mapped[Decimal | None] = mapped_column(Money, nullable=True)
    #: Usage estimated at submission (accounting/estimate.py): allocation checks count queued and
    #: running work by it; the scheduler may use it too.
    estimated_seconds: Mapped[float | None] = mapped_column(Float, nullable=True)
    #: The job's native compilation (``{"ionq.native.v1": {"qubits", "circuit"}}``), written at
    #: submission for dry runs and QPU jobs; served by ``GET /jobs/{id}/artifacts/{id}``. Deferred:
    #: a compiled circuit can hold thousands of gates and no hot read needs it.
    compiled: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True, deferred=True)


class Execution(Base):
    """One run of one circuit: what the queue schedules and what usage is measured on."""

    __tablename__ = "executions"
    __table_args__ = (
        Index("ix_executions_claim", "backend", "state", "priority", "created_at"),
        # Partial indexes over live rows only, read by the fair-share claim (runtime.fairshare):
        # queued rows in claim order per (backend, project), and running rows per project.
        Index(
            "ix_executions_queued",
            "backend",
            "project_id",
            text("priority DESC"),
            "created_at",
            "id",
            sqlite_where=text("state = 'queued'"),
            postgresql_where=text("state = 'queued'"),
        ),
        Index(
            "ix_executions_running",
            "backend",
            "project_id",
            "organization_id",
            sqlite_where=text("state = 'running'"),
            postgresql_where=text("state = 'running'"),
        ),
        # Executions at a provider and not final there (driver-served backends): re-attachment,
        # the outstanding count and cancels to forward read this small set only.
        Index(
            "ix_executions_at_provider",
            "backend",
            "state",
            sqlite_where=text("provider_status IN ('queued', 'running')"),
            postgresql_where=text("provider_status IN ('queued', 'running')"),
        ),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id"), index=True)
    backend: Mapped[str] = mapped_column(String(100))
    project_id: Mapped[str] = mapped_column(String(36))
    organization_id: Mapped[str] = mapped_column(String(36))
    #: ``queued``, ``running``, ``done``, ``failed``, ``canceled``.
    state: Mapped[str] = mapped_column(String(20), default="queued")
    priority: Mapped[int] = mapped_column(Integer, default=0)
    #: Fencing token: incremented by every claim; completion must present the same value.
    attempt: Mapped[int] = mapped_column(Integer, default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(100), nullable=True)
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    usage_seconds: Mapped[float | None] = mapped_column(Float, nullable=True)
    #: Driver-served backends: the provider's job id, committed before the job is followed (a later
    #: attempt re-attaches to it instead of submitting again), and its last known status there
    #: (``queued``, ``running``, then ``completed``, ``failed`` or ``canceled``).
    provider_job_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    provider_status: Mapped[str | None] = mapped_column(String(20), nullable=True)


class BackendDriver(Base):
    """How a driver-served backend reaches its device (docs/drivers.md): the declaration, from the
    backends file or the admin API. The credential is a *reference* (an environment variable or a
    file), never the key itself."""

    __tablename__ = "backend_drivers"

    backend: Mapped[str] = mapped_column(ForeignKey("backends.name"), primary_key=True)
    driver: Mapped[str] = mapped_column(String(100))
    #: The whole declaration as validated (``drivers.config.BackendDecl``), credential reference
    #: included: options, limits, billing, contract defaults, timing.
    declaration: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: ``file`` (``QUMULUS_BACKENDS_FILE``, re-read at start) or ``admin`` (API / CLI).
    source: Mapped[str] = mapped_column(String(16), default="file")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Result(Base):
    """A job's output: small distributions inline, large ones as a file reference."""

    __tablename__ = "results"

    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id"), primary_key=True)
    qubits: Mapped[int] = mapped_column(Integer)
    #: ``{"indices": [...], "values": [...]}`` for small results.
    probabilities: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    #: Sampled runs (emulated QPUs): ``{"outcomes": [little-endian ints in shot order],
    #: "variants": [shots per debiasing variant]}``.
    shots: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    #: Path relative to the data directory for results too large to keep inline.
    path: Mapped[str | None] = mapped_column(String(500), nullable=True)
    #: Whether the probabilities are sampled frequencies (histogram advertised) or exact.
    sampled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Reservation(Base):
    __tablename__ = "reservations"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    backend: Mapped[str] = mapped_column(ForeignKey("backends.name"))
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: ``requested``, ``approved``, ``canceled``.
    status: Mapped[str] = mapped_column(String(20), default="requested")
    created_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class UsageLedger(Base):
    """Exactly one row per charged job, written in the completion transaction."""

    __tablename__ = "usage_ledger"
    # allocation usage: one organization's seconds on the backends a contract covers, since a date
    __table_args__ = (Index("ix_usage_ledger_org_backend_at", "organization_id", "backend", "recorded_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id"), unique=True)
    project_id: Mapped[str] = mapped_column(String(36), index=True)
    organization_id: Mapped[str] = mapped_column(String(36), index=True)
    user_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    backend: Mapped[str] = mapped_column(String(100))
    usage_seconds: Mapped[float] = mapped_column(Float)
    rate_per_second: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    cost: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class AuditEvent(Base):
    """Append-only record of administrative changes, written in the same transaction as the change."""

    __tablename__ = "audit_events"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_user_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    actor_key_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    organization_id: Mapped[str | None] = mapped_column(String(36), nullable=True, index=True)
    project_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    action: Mapped[str] = mapped_column(String(100))
    target_type: Mapped[str] = mapped_column(String(50), default="")
    target_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class ProjectWebhook(Base):
    """A URL that receives a project's job events (completed, failed, canceled), signed with ``secret``."""

    __tablename__ = "project_webhooks"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id"), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    #: Subset of ``job.completed``, ``job.failed``, ``job.canceled``.
    events: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: HMAC-SHA256 key for the ``X-Qumulus-Signature`` header; shown once, at creation.
    secret: Mapped[str] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str | None] = mapped_column(String(36), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class NotificationOutbox(Base):
    """One notification to deliver (an email or a webhook call), written in the transaction that
    caused it and delivered afterwards by the notifier thread, with retries."""

    __tablename__ = "notification_outbox"
    __table_args__ = (Index("ix_notification_outbox_due", "status", "next_attempt_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    #: ``email`` or ``webhook``.
    channel: Mapped[str] = mapped_column(String(20))
    #: ``job.completed``, ``job.failed``, ``job.canceled``.
    event: Mapped[str] = mapped_column(String(40))
    job_id: Mapped[str] = mapped_column(String(36))
    project_id: Mapped[str] = mapped_column(String(36))
    #: An email address, or a ``project_webhooks.id``.
    target: Mapped[str] = mapped_column(String(2000))
    #: ``pending``, ``delivered``, ``dead`` (gave up after the last retry; kept for inspection).
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class FairShareUsage(Base):
    """Forward-decayed usage per organization, project or backend, per backend (scheduling.decay).

    ``g`` is Σ seconds · 2^((t - epoch) / half-life); ``n`` the same sum of execution counts (for the
    backend's run-time estimate). Updated by the completion transaction, read by the claim.
    """

    __tablename__ = "fairshare_usage"

    #: ``org``, ``project`` or ``backend``.
    kind: Mapped[str] = mapped_column(String(10), primary_key=True)
    entity_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    backend: Mapped[str] = mapped_column(String(100), primary_key=True)
    g: Mapped[float] = mapped_column(Float, default=0.0)
    n: Mapped[float] = mapped_column(Float, default=0.0)
    #: Unix seconds the weights are relative to (rebased now and then; see scheduling.decay).
    epoch: Mapped[float] = mapped_column(Float)


class ConsoleSession(Base):
    """A console login: the cookie carries a random token, only its SHA-256 is stored here, so a
    leaked database cannot log anyone in, and logout (``revoked_at``) ends the session everywhere."""

    __tablename__ = "console_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 hex of the cookie token
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    #: The project the console acts in (jobs are always one project's, like an API key's).
    project_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Workload(Base):
    """The loop of a ``quantum-function`` or ``optimization`` job (docs/workloads.md).

    One row per workload job: a piece of work a runner claims with a lease (``attempt`` + 1 is the
    fencing token, as for executions), renews while it runs, and that the reaper gives to another
    runner when the lease expires. The loop's circuits are ordinary child jobs of the workload job.
    """

    __tablename__ = "workloads"
    __table_args__ = (Index("ix_workloads_state", "state", "lease_expires_at"),)

    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id"), primary_key=True)
    backend: Mapped[str] = mapped_column(String(100))
    #: ``queued``, ``running``, ``done`` (completed, failed or canceled: the job row says which).
    state: Mapped[str] = mapped_column(String(20), default="queued")
    attempt: Mapped[int] = mapped_column(Integer, default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(100), nullable=True)
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: Evaluations finished (each has a ``workload_progress`` row).
    evaluations: Mapped[int] = mapped_column(Integer, default=0)
    #: ``{"value", "variance"}`` or ``{"solution": {"minimum_value", "optimal_parameters"}}``.
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    best_value: Mapped[float | None] = mapped_column(Float, nullable=True)
    best_params: Mapped[list[float] | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class WorkloadProgress(Base):
    """One finished evaluation of a workload (``GET /jobs/{id}/progress``); written as it finishes,
    and what a resumed runner replays instead of running the circuits again."""

    __tablename__ = "workload_progress"
    __table_args__ = (UniqueConstraint("workload_id", "iteration"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    workload_id: Mapped[str] = mapped_column(ForeignKey("jobs.id"), index=True)
    #: 1, 2, ...: the evaluation's number.
    iteration: Mapped[int] = mapped_column(Integer)
    #: The first circuit job of the evaluation (its circuits are consecutive children).
    job_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    status: Mapped[str] = mapped_column(String(20), default="completed")
    value: Mapped[float | None] = mapped_column(Float, nullable=True)
    variance: Mapped[float | None] = mapped_column(Float, nullable=True)
    params: Mapped[list[float]] = mapped_column(JSON)
    usage_seconds: Mapped[float | None] = mapped_column(Float, nullable=True)
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
