"""The driver interface: what Qumulus asks of a real device behind it, and what it gets back.

A driver stands for *one upstream device* (a QPU at a provider, or a backend of another IonQ-compatible
server). Qumulus keeps its own queue, fair share, budgets and ledger; the driver only moves a job that
local policy has released to the provider and brings back what the provider says about it. So the
interface is small and synchronous, and every call may be repeated:

* :meth:`Driver.submit` hands a job over and returns the provider's job id. The job carries a
  ``token`` that is the same for every attempt of one local execution; a driver whose provider honours
  it as an idempotency key (``idempotent_submit``) returns the *same* provider job when called again,
  which is what makes "submitted at most once" hold even when a worker dies between the provider
  accepting the job and Qumulus recording its id.
* :meth:`Driver.poll` reads the job's state, and once it is final its results, usage and cost.
  :meth:`Driver.wait` is the same with push: it may block up to ``timeout`` for a change (Server-Sent
  Events, a long poll) where the provider offers it; the default polls once.
* :meth:`Driver.cancel` forwards a cancel; :meth:`Driver.characterization` and :meth:`Driver.status`
  describe the device, for the local backend's mirror.

Errors say what the caller should do, not what went wrong on the wire: :class:`Transient` (try again
later, after ``retry_after`` if the provider said so), :class:`Rejected` (the provider refused this
job: it fails, with the provider's reason), :class:`UnknownJob` (the provider has no such job).

This module is pure data and an abstract class: it imports nothing of the platform, so a driver
package written elsewhere depends only on ``qumulus.drivers``.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

#: A job's state at the provider, in the platform's words (each driver maps its provider's names).
ProviderStatus = Literal["queued", "running", "completed", "failed", "canceled"]
FINAL: frozenset[str] = frozenset({"completed", "failed", "canceled"})

#: A device's status, in the platform's vocabulary (``qumulus.backends.status``).
DeviceState = Literal["operational", "degraded", "partial_outage", "major_outage", "maintenance", "retired"]


@dataclass(frozen=True)
class ProviderJob:
    """What is handed to a provider: one local job (or one circuit of it), already admitted.

    ``input`` is the job's ``input`` in IonQ's v1 shape (``circuit`` or ``circuits``; for an OpenQASM
    3 program ``data``, the program text as submitted, and ``qubits``), as Qumulus validated and
    stored it; ``type`` says which (``ionq.circuit.v1``, ``ionq.multi-circuit.v1``,
    ``ionq.qasm3.v1`` — the last only for a driver that lists it in ``Driver.job_types``).
    ``token`` is stable across attempts of one local execution: pass it to the provider as an
    idempotency key where it has one.
    """

    token: str
    type: str
    input: Mapping[str, Any]
    shots: int
    name: str | None = None
    settings: Mapping[str, Any] = field(default_factory=dict)
    noise: Mapping[str, Any] | None = None
    #: Small string tags the provider stores with the job (where the local job came from).
    tags: Mapping[str, str] = field(default_factory=dict)

    @property
    def circuits(self) -> int:
        circuits = self.input.get("circuits")
        return len(circuits) if isinstance(circuits, list) else 1


@dataclass(frozen=True)
class CircuitResult:
    """One circuit's result, keys little-endian as on IonQ's wire (qubit 0 = least significant bit)."""

    qubits: int
    probabilities: dict[int, float]
    #: Per-shot outcomes in execution order, when the provider gives them (sampled runs).
    shots: list[int] | None = None
    #: Integer counts per outcome, when the provider gives them.
    histogram: dict[int, int] | None = None


@dataclass(frozen=True)
class Failure:
    """Why a job failed, with an IonQ failure code (``InvalidInput``, ``QuantumComputerError``...)."""

    code: str
    message: str


@dataclass(frozen=True)
class JobState:
    """What the provider says about a job now. Results, usage and cost are set once it is final."""

    status: ProviderStatus
    #: The provider's own status word, for logs and support.
    provider_status: str = ""
    #: One entry per circuit, in circuit order; None until completed (and for dry runs).
    results: list[CircuitResult] | None = None
    #: Device time the provider reports having used, in seconds.
    usage_seconds: float | None = None
    #: What the provider charged for the job, in ``currency``.
    cost: Decimal | None = None
    currency: str | None = None
    failure: Failure | None = None
    #: Provider artifacts fetched with the results, by format (``ionq.native.v1``: the compiled
    #: circuit; ``ionq.result.shots.json.v2``: an OpenQASM job's per-shot registers), each the
    #: artifact's JSON body. The local job keeps them and serves them under its own ids.
    artifacts: dict[str, Any] = field(default_factory=dict)

    @property
    def final(self) -> bool:
        return self.status in FINAL


@dataclass(frozen=True)
class DeviceCharacterization:
    """A dated snapshot of the device, in the platform's shape (``fidelity``, ``timing``,
    ``connectivity``: the figures IonQ publishes; fidelities as fractions, times in seconds)."""

    provider_id: str | None
    date: datetime | None
    qubits: int
    data: dict[str, Any]


@dataclass(frozen=True)
class DeviceStatus:
    """The device's status now, mapped to the platform's vocabulary."""

    status: DeviceState
    message: str = ""
    qubits: int | None = None
    #: The provider's average queue time, when it publishes one.
    average_queue_ms: int | None = None
    #: The provider's own status word.
    provider_status: str = ""


class DriverError(Exception):
    """Base of what a driver raises on purpose."""


class Transient(DriverError):
    """Try again later: rate limited, unavailable, timed out, unreachable. Nothing is lost.

    ``retry_after`` is the provider's own ``Retry-After`` in seconds, when it gave one.
    """

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Rejected(DriverError):
    """The provider refused this job for good (invalid for it, over its quota): the job fails."""

    def __init__(self, failure: Failure) -> None:
        super().__init__(f"{failure.code}: {failure.message}")
        self.failure = failure


class UnknownJob(DriverError):
    """The provider has no job with this id (deleted there, or another account's)."""


class ConfigError(DriverError, ValueError):
    """A backend's driver options are wrong; the message names the option."""


@dataclass(frozen=True)
class DriverConfig:
    """What a driver is built from: the local backend it serves and its declared options.

    ``credential`` is already resolved (from an environment variable or a file, never the
    database); ``options`` are the driver's own keys from the backend's declaration.
    """

    backend: str
    options: Mapping[str, Any]
    credential: str | None = field(default=None, repr=False)


class Driver(abc.ABC):
    """One upstream device. Subclass it and register the class under the ``qumulus.drivers``
    entry-point group; Qumulus builds it with ``cls(config)`` for each backend that names it.

    Every method may be called from several threads at once and may be repeated; a method that
    cannot reach the provider raises :class:`Transient` rather than blocking for long.
    """

    #: Whether ``submit`` with an already-used ``job.token`` returns the provider job made the first
    #: time (the provider honours it as an idempotency key). Without it a worker that dies between
    #: the provider accepting a job and Qumulus recording its id may submit it once more.
    idempotent_submit: bool = False

    #: The job types the driver can hand to its provider (``ProviderJob.type``): Qumulus refuses
    #: any other type for the backend at submission (400), before it is stored or charged. Gate
    #: lists by default; a driver whose provider takes OpenQASM 3 text adds ``ionq.qasm3.v1``
    #: (then ``input`` is ``{"data": program, "qubits": n}``).
    job_types: frozenset[str] = frozenset({"ionq.circuit.v1", "ionq.multi-circuit.v1"})

    def __init__(self, config: DriverConfig) -> None:
        self.config = config

    @abc.abstractmethod
    def submit(self, job: ProviderJob) -> str:
        """Hand the job to the provider; returns the provider's job id."""

    @abc.abstractmethod
    def poll(self, provider_job_id: str) -> JobState:
        """The job's state now; with results, usage and cost once it is final."""

    def wait(self, provider_job_id: str, *, known: str | None, timeout: float) -> JobState:
        """Like :meth:`poll`, but may block up to ``timeout`` seconds for the status to differ from
        ``known`` (push). The default does not block: it polls once, and the caller backs off."""
        return self.poll(provider_job_id)

    @property
    def pushes(self) -> bool:
        """Whether :meth:`wait` blocks for changes (then the caller need not sleep between calls)."""
        return False

    @abc.abstractmethod
    def cancel(self, provider_job_id: str) -> None:
        """Ask the provider to cancel; a job already final or unknown there is not an error."""

    @abc.abstractmethod
    def characterization(self) -> DeviceCharacterization | None:
        """The device's newest characterization, or None if the provider publishes none."""

    @abc.abstractmethod
    def status(self) -> DeviceStatus:
        """The device's status now."""

    def find(self, token: str) -> str | None:
        """The provider job submitted with ``token``, if the provider can search by it (re-attach
        without resubmitting). The default cannot, and says so with None."""
        return None

    def close(self) -> None:  # noqa: B027 - optional hook: most drivers hold nothing to close
        """Release connections."""
