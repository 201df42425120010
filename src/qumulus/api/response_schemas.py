"""Response schemas of the operations :mod:`qumulus.api.schemas` does not cover: results, estimates,
characterizations, billing, scheduling, status, job sets, the drivers' admin routes, the v0.3 job.

They document what the wire functions (:mod:`qumulus.wire`) and the routes really send: the required
keys are those every answer has, a key that can be null says so, and every object stays open (a
newer server may add keys; clients ignore what they do not know). ``tests/api/
test_openapi_responses.py`` validates a real answer of every operation against them, and
schemathesis (``tests/api/test_schemathesis.py``) every 2xx it provokes.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, RootModel

from qumulus.api.schemas import Backend, _Open

# --- results ---------------------------------------------------------------------------------


class Probabilities(RootModel[dict[str, float | dict[str, float]]]):
    """Outcome (basis-state index as a string) → probability; a multi-circuit job: child id → that."""


class AggregatedProbabilities(RootModel[dict[str, dict[str, float]]]):
    """Child job id (or the job's own id) → its probabilities."""


class Histogram(RootModel[dict[str, int | dict[str, int]]]):
    """Outcome → count of shots; a multi-circuit job: child id → that."""


class Shots(RootModel[list[int] | dict[str, list[int]]]):
    """Each shot's outcome (basis-state index), in order; a multi-circuit job: child id → that."""


class Artifact(_Open):
    """``ionq.result.shots.json.v2`` (``shots``: per-shot registers) or ``ionq.native.v1``
    (``qubits`` and the native ``circuit``)."""

    shots: list[dict[str, Any]] | None = None
    qubits: int | None = None
    circuit: list[dict[str, Any]] | None = None


class Progress(_Open):
    """A workload's iterations (the ``ionq`` package's ``JobProgress``); empty for a circuit job."""

    progress: list[dict[str, Any]]
    status: str
    evaluations: int
    log_interval: int
    best: dict[str, Any] | None


class Estimate(_Open):
    """What a job would cost and take (``estimated_cost`` in ``cost_unit``, seconds)."""

    input_values: dict[str, Any]
    estimated_cost: float
    estimated_total_cost: float
    cost_unit: str
    estimated_execution_time: float
    estimated_execution_time_ms: int
    estimated_at: str
    rate_information: dict[str, Any]


class JobV03(_Open):
    """A job in the v0.3 shape (``target``, epoch seconds, ``cost_usd``)."""

    id: str
    status: str
    target: str
    name: str | None
    metadata: dict[str, Any]
    request: int | None
    shots: int | None


class JobV03List(_Open):
    jobs: list[JobV03]
    next: str | None = None


class BulkChange(_Open):
    """Bulk cancel or delete: the jobs it changed (``id``: the first, for single-job clients)."""

    id: str
    ids: list[str]
    status: str


class JobStatuses(_Open):
    jobs: list[dict[str, Any]] = Field(description="{id, status, name, backend} per job asked for")


class QueuePlace(_Open):
    id: str
    status: str
    position: int | None
    jobs_ahead: int
    estimated_start_time: str | None
    estimated_complete_time: str | None


class JobLimit(_Open):
    maximum_jobs: int
    active_jobs: int


class PriorityChange(_Open):
    id: str
    tier: int
    queued_executions: int


class JobSet(_Open):
    id: str
    name: str
    tags: list[str]
    created_at: str
    status: str
    counts: dict[str, int]
    experiments: int
    superseded_job_ids: list[str]
    jobs: list[dict[str, Any]] | None = Field(None, description="Its jobs (on the single-set answers)")


# --- identity --------------------------------------------------------------------------------


class Whoami(_Open):
    organization_id: str
    project_id: str
    user_id: str | None
    api_key_id: str | None
    scopes: list[str]


class User(_Open):
    id: str
    email: str
    name: str | None
    is_admin: bool
    notify_on_failure: bool


class MemberRemoved(_Open):
    user_id: str
    status: str
    revoked_keys: list[str]


class AuditEvent(_Open):
    id: str
    at: str
    action: str
    actor_user_id: str | None
    actor_key_id: str | None
    organization_id: str | None
    project_id: str | None
    target_type: str | None
    target_id: str | None
    details: dict[str, Any] | None


class Health(_Open):
    status: str
    version: str


# --- backends --------------------------------------------------------------------------------


class BackendList(RootModel[list[Backend]]):
    """Every backend the caller can see."""


class Characterization(_Open):
    """A device's characterization: ``date`` is ISO 8601 on the v0.4 paths, epoch seconds on the
    legacy ``/characterizations/…`` ones; the legacy ``/calibrations`` names the backend ``target``."""

    id: str
    date: str | int
    qubits: int
    connectivity: list[list[int]]
    fidelity: dict[str, Any]
    timing: dict[str, Any]


class BackendProperties(_Open):
    backend: str
    qubits: int


class BackendStatus(_Open):
    backend: str
    status: str
    wire_status: str
    message: str
    updated_at: str | None
    maintenance: list[dict[str, Any]]


class StatusPage(_Open):
    updated_at: str
    backends: list[BackendStatus]


class StatusHistory(_Open):
    backend: str
    history: list[dict[str, Any]] = Field(description="{at, status, previous, message}, newest first")
    maintenance: list[dict[str, Any]]


class MaintenanceWindow(_Open):
    id: str
    backend: str
    starts_at: str
    ends_at: str
    message: str
    status: str


class Declaration(_Open):
    """A driver-served backend's declaration: ``credential`` is its place (``env:NAME``,
    ``file:/path``), never a key."""

    name: str
    driver: str
    qubits: int
    kind: str
    max_outstanding: int
    billing: str
    credential: str | None
    options: dict[str, Any]
    source: str
    status: str


# --- billing and scheduling --------------------------------------------------------------------


class Contract(_Open):
    id: str
    organization_id: str
    backend: str
    rate_per_second: str = Field(description="Decimal, as a string")
    currency: str
    allocation_seconds: float | None
    period: str
    share: float
    starts_at: str | None
    ends_at: str | None


class Allocation(_Open):
    contract_id: str
    backend: str
    period: str
    allocation_seconds: float | None
    used_seconds: float
    left_seconds: float | None
    share: float
    in_force: bool


class Usage(_Open):
    group_by: list[str]
    rows: list[dict[str, Any]]
    total: dict[str, Any]


class Reservation(_Open):
    id: str
    organization_id: str
    backend: str
    starts_at: str
    ends_at: str
    status: str
    created_by: str | None
    created_at: str
