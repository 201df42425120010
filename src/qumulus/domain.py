"""The platform's value types that cross layers: what a job request is, and how a job, a session, an
API key or a member is seen.

Services build them, the wire package (``qumulus.wire``) renders them, and neither has to import
the other to agree on their shape. Plain dataclasses over store rows; no I/O here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from qumulus.backends.status import Effective, Planned
from qumulus.store.models import Job

#: Job types whose loop runs on the server (docs/workloads.md): their circuits are child jobs the
#: runner creates evaluation by evaluation, so they are never rolled up when their children finish.
WORKLOAD_TYPES = ("quantum-function", "optimization")

#: Job statuses before and after the end of a job's life.
ACTIVE = ("submitted", "ready", "started")
TERMINAL = ("completed", "failed", "canceled")


def provider_engine(driver: str, *, sampled: bool) -> str:
    """The ``engine`` of a job a driver-served backend ran: ``driver:<name>``, with ``+shots`` when
    the provider returned per-shot outcomes (histogram and shots are then advertised)."""
    return f"driver:{driver}{'+shots' if sampled else ''}"[:40]


def sampled_by_provider(engine: str | None) -> bool:
    return engine is not None and engine.startswith("driver:") and engine.endswith("+shots")


#: A session's status once it takes no more jobs.
SESSION_ENDED = "ended"


@dataclass
class JobSpec:
    """A job request in the platform's terms (no wire quirks left)."""

    backend: str
    job_type: str | None
    input: dict[str, Any]
    shots: int = 100
    name: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    noise: dict[str, Any] | None = None
    dry_run: bool = False
    session_id: str | None = None
    tags: list[str] = field(default_factory=list)
    idempotency_key: str | None = None
    #: SHA-256 of the request body (:func:`qumulus.wire.requests.request_digest`), kept with the key.
    idempotency_hash: str | None = None
    submitted_at: datetime | None = None
    #: Chosen by the caller when it wants to wait for this id before the insert happens.
    job_id: str | None = None
    #: A job set member: the set's id, and ``{"index", "first_experiment"}`` (kept in ``stats``).
    job_set_id: str | None = None
    job_set_member: dict[str, int] | None = None


@dataclass
class JobView:
    """A job as callers see it: the row plus its children in circuit order."""

    job: Job
    child_ids: list[str] | None = None
    #: Queue figures of an active job (services/queue_view.py), set by the v0.4 GET route.
    queue: dict[str, Any] | None = None
    #: A workload job's results, inline (``{"value", "variance"}`` or ``{"solution": ...}``).
    results: dict[str, Any] | None = None
    #: A child of a multi-circuit job: its parent's ``metadata``, ``settings`` and ``tags``, stored
    #: once on the parent (services/jobs/queries.inherit).
    inherited: dict[str, Any] | None = None

    def metadata(self) -> dict[str, Any]:
        return self.job.job_metadata or (self.inherited or {}).get("metadata") or {}

    def settings(self) -> dict[str, Any]:
        return self.job.settings or (self.inherited or {}).get("settings") or {}

    def tags(self) -> list[str]:
        return self.job.tags or (self.inherited or {}).get("tags") or []


@dataclass(frozen=True, slots=True)
class SessionView:
    """A session row with the figures the wire shape shows."""

    #: The ``sessions`` row (a Core row: attribute access).
    row: Any
    job_count: int
    usage_seconds: float
    cost: Decimal


@dataclass(frozen=True)
class KeyView:
    """A key as listed: the public parts only."""

    id: str
    key_id: str
    prefix: str
    name: str
    project_id: str
    user_id: str | None
    user_email: str | None
    scopes: list[str]
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


@dataclass(frozen=True)
class MemberView:
    """A user as a member of an organization or project."""

    user_id: str
    email: str
    name: str
    role: str


@dataclass(frozen=True)
class BackendState:
    """One backend on the status page."""

    backend: str
    stored: str
    current: Effective
    updated_at: datetime
    upcoming: list[Planned]


@dataclass
class WebhookView:
    id: str
    project_id: str
    url: str
    events: list[str]
    active: bool
    created_at: datetime
    #: Only when just created: the signing secret is shown once.
    secret: str | None = None
