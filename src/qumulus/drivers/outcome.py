"""A provider's final word on a job → what the local completion records: pure rules.

* ``completed`` → a successful outcome with the provider's distribution (little-endian keys, kept as
  sorted index/value lists like a local simulation's), its per-shot outcomes when it gave them, the
  usage it reported as the execution's seconds (fair share and allocations count them) and, with
  ``billing = "upstream"``, its cost as the local charge (a provider that reports no cost is charged
  at the local contract's rate × usage instead, ``cost = None``), and its artifacts by format (the
  compiled circuit, an OpenQASM job's per-shot registers), which the local job keeps and serves;
* ``failed`` → a failed outcome with the provider's code and message;
* ``canceled`` *by the provider* (a local cancel never gets here: the lease is gone first) → failed
  with ``SystemCancel``, since the user did not ask for it.

A provider's cost is charged even for a failed job when it reports one: the site pays it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from qumulus.drivers.base import Failure, JobState, Rejected

Billing = Literal["upstream", "contract"]


@dataclass(frozen=True)
class Settled:
    ok: bool
    seconds: float
    qubits: int = 0
    indices: list[int] | None = None
    values: list[float] | None = None
    shots: list[int] | None = None
    #: The charge when the provider's cost is passed through (None: local rate × seconds).
    cost: Decimal | None = None
    failure: dict[str, str] | None = None
    #: The provider's artifacts by format (compiled circuit, per-shot registers), kept with the job.
    artifacts: dict[str, Any] = field(default_factory=dict)


def settle(state: JobState, billing: Billing) -> Settled:
    """The local outcome of a final provider state (one circuit: executions are per circuit)."""
    if not state.final:
        raise ValueError(f"a job still {state.status} at the provider has no outcome yet")
    seconds = max(0.0, state.usage_seconds or 0.0)
    cost = state.cost if billing == "upstream" else None
    if cost is not None:
        cost = max(Decimal(0), cost)
    if state.status == "completed":
        if not state.results:
            return failed(
                Failure("QuantumComputerError", "provider: completed without results"), seconds, cost
            )
        result = state.results[0]
        keys = sorted(result.probabilities)
        return Settled(
            ok=True,
            seconds=seconds,
            qubits=result.qubits,
            indices=keys,
            values=[float(result.probabilities[k]) for k in keys],
            shots=result.shots,
            cost=cost,
            artifacts=dict(state.artifacts),
        )
    if state.status == "canceled":
        return failed(Failure("SystemCancel", "provider: the provider canceled the job"), seconds, cost)
    return failed(state.failure or Failure("QuantumComputerError", "provider: the job failed"), seconds, cost)


def rejected(error: Rejected, billing: Billing) -> Settled:
    """The provider refused the job at submission: nothing ran, nothing is charged."""
    return failed(error.failure, 0.0, Decimal(0) if billing == "upstream" else None)


def failed(failure: Failure, seconds: float = 0.0, cost: Decimal | None = None) -> Settled:
    return Settled(
        ok=False, seconds=seconds, cost=cost, failure={"code": failure.code, "message": failure.message}
    )
