"""Shapes the OpenAPI document describes that the routes do not declare as parameters.

Job bodies (every type), the error body, and the main response objects. They document; the edge
validates (:mod:`qumulus.wire.requests` for jobs, :mod:`qumulus.api.bodies` for the rest), and
``tests/api/test_schemathesis.py`` holds the two together: it sends what these schemas allow and
checks every answer against the response schemas and the documented status codes.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Open(BaseModel):
    """A documented object that may carry more keys than listed (clients add their own)."""

    model_config = ConfigDict(extra="allow")


class ErrorBody(BaseModel):
    """Every error: ``statusCode`` and ``error`` (qiskit-ionq parses them), ``message`` naming the field."""

    statusCode: int
    error: str
    message: str
    validation: dict[str, Any] | None = Field(None, description="``{keys: [field], source: 'body'}``")


# --- job bodies ---------------------------------------------------------------------------------


class Gate(_Open):
    """One gate (wire spec §10): QIS names (``h``, ``cnot``, ``rx``, ``pauliexp`` …) or native ones."""

    gate: str = Field(max_length=32)
    target: int | None = Field(None, ge=0, le=64)
    targets: list[int] | None = Field(None, max_length=8)
    control: int | None = Field(None, ge=0, le=64)
    controls: list[int] | None = Field(None, max_length=8)
    rotation: float | None = None
    phase: float | None = None
    phases: list[float] | None = Field(None, max_length=2)
    angle: float | None = None
    terms: list[str] | None = Field(None, max_length=8)
    coefficients: list[float] | None = Field(None, max_length=8)
    time: float | None = None


class CircuitInput(_Open):
    gateset: Literal["qis", "native"] = "qis"
    qubits: int | None = Field(None, ge=1, le=64)
    circuit: list[Gate] = Field(max_length=64)


class NamedCircuit(_Open):
    circuit: list[Gate] = Field(max_length=64)
    name: str | None = None
    gateset: Literal["qis", "native"] | None = None
    qubits: int | None = Field(None, ge=1, le=64)


class MultiCircuitInput(_Open):
    gateset: Literal["qis", "native"] = "qis"
    qubits: int | None = Field(None, ge=1, le=64)
    circuits: list[NamedCircuit] = Field(min_length=1, max_length=16)


class QasmInput(_Open):
    qubits: int | None = Field(None, ge=1, le=64)
    data: str = Field(max_length=4096, description="An OpenQASM 2 or 3 program")


class Noise(BaseModel):
    model_config = ConfigDict(extra="forbid")
    model: Literal["ideal", "harmony", "aria-1", "aria-2", "forte-1", "forte-enterprise-1"] = "ideal"
    seed: int | None = Field(None, ge=0, le=(1 << 63) - 1)


class ErrorMitigation(BaseModel):
    model_config = ConfigDict(extra="forbid")
    debiasing: bool | None = None
    symmetry_verification: bool | None = None


class JobSettings(_Open):
    error_mitigation: ErrorMitigation | None = None
    compilation: dict[str, Any] | None = None


class _JobBody(_Open):
    """Fields every job type shares. Unknown top-level keys are accepted (qiskit and cirq merge
    ``extra_query_params`` into the body; cirq sends ``lang``); server-owned ones (``id``,
    ``status``, ``project_id`` …) are a 400."""

    backend: str = Field(min_length=1, max_length=100, examples=["simulator", "qpu.forte-1"])
    shots: int | str | None = Field(100, description="An integer (cirq sends it as a string)")
    name: str | None = Field(None, max_length=200)
    metadata: dict[str, Any] | None = None
    settings: JobSettings | None = None
    noise: Noise | None = None
    dry_run: bool | None = False
    session_id: str | None = None
    tags: list[str] | None = Field(None, max_length=50)


class CircuitJob(_JobBody):
    type: Literal["ionq.circuit.v1"] = "ionq.circuit.v1"
    input: CircuitInput


class MultiCircuitJob(_JobBody):
    type: Literal["ionq.multi-circuit.v1"]
    input: MultiCircuitInput


class Qasm3Job(_JobBody):
    type: Literal["ionq.qasm3.v1"]
    input: QasmInput


class JobSetCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    backend: str
    circuits: list[NamedCircuit] = Field(min_length=1, max_length=16)
    name: str | None = None
    tags: list[str] | None = None
    shots: int | str | None = 100
    gateset: Literal["qis", "native"] = "qis"
    max_experiments_per_job: int | None = Field(None, ge=1)
    metadata: dict[str, Any] | None = None
    settings: JobSettings | None = None
    noise: Noise | None = None


class Ids(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ids: list[str] = Field(min_length=1, max_length=1000)


class JobUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = None
    tags: list[str] | None = None


# --- responses ------------------------------------------------------------------------------------


class JobCreated(_Open):
    id: str
    status: str
    session_id: str | None = None


class JobStatusChange(_Open):
    id: str
    status: str


class Job(_Open):
    """A job (wire spec §4): keys without a value (``failure``, ``warning``) are omitted."""

    id: str
    type: str
    status: Literal["submitted", "ready", "started", "completed", "failed", "canceled"]
    backend: str
    name: str | None
    metadata: dict[str, Any]
    shots: int
    settings: dict[str, Any]
    tags: list[str]
    submitted_at: str | None
    results: dict[str, Any] | None
    failure: dict[str, Any] | None = None


class JobList(_Open):
    jobs: list[Job]
    next: str | None = Field(None, description="Omitted on the last page")


class Session(_Open):
    id: str
    backend: str
    status: Literal["created", "started", "ended"]
    state: str
    settings: dict[str, Any]


class SessionList(_Open):
    sessions: list[Session]
    next: str | None = None


class Organization(_Open):
    id: str
    name: str
    slug: str


class Project(_Open):
    id: str
    name: str
    organization_id: str


class Member(_Open):
    user_id: str
    email: str
    role: str


class Key(_Open):
    key_id: str
    name: str
    project_id: str
    scopes: list[str]


class Backend(_Open):
    backend: str
    status: str
    qubits: int
    average_queue_time: int
    kind: str


class Budget(_Open):
    id: str
    project_id: str
    period: Literal["day", "week", "month", "custom"]
    limit: str = Field(description="Decimal, as a string")
    spent: str
    held: str
    remaining: str
    currency: str
    in_force: bool


class Webhook(_Open):
    id: str
    project_id: str
    url: str
    events: list[str]
    active: bool


class Deleted(_Open):
    id: str
    status: str


#: (method, path) → the model of its JSON request body (job bodies: :data:`JOB_BODIES`).
JOB_BODIES = (CircuitJob, MultiCircuitJob, Qasm3Job)
