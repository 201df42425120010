"""``/jobs/estimate``: what a job would cost and how long it would run, before submitting it.

Two forms:

* from gate counts (qiskit-ionq's ``estimate_job``: ``1q_gates``, ``2q_gates``, ``qubits``, ``shots``):
  the backend's timing model with the gates run one after another (an upper bound on the critical
  path, which a count cannot know) plus readout and reset per shot and the job overhead;
* from a whole job body (``POST``): validated exactly as a submission would be, then priced by
  :func:`qumulus.services.billing.charging.estimate_job_seconds` — the function the budget hold at
  submission uses — so for an emulated QPU job the estimate *is* the bill (the compiled circuit
  scheduled on the device's timing model), to the cent.

For an emulated QPU (``qpu.*``, or ``simulator`` with a QPU noise model) both forms also give the
emulator's predicted wall time (``emulation_seconds``: the cost model of ``qumulus.sim.cost``, as on the
job's ``predicted_emulation_duration_ms``, trajectory-budget mode included) and the server's limit, so
a client learns before submitting whether the job would fail with ``TooLongPredictedExecutionTime``.

Cost is seconds × the rate of the caller's contract in force for the backend (zero when none: a
QPU job would then be refused at submission, and the estimate says so in ``rate_information``).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from qumulus.accounting.budget import estimated_cost
from qumulus.accounting.contracts import in_force
from qumulus.auth.permissions import Action
from qumulus.auth.principal import Principal
from qumulus.backends.catalog import emulation_target, resolve_backend_name
from qumulus.domain import JobSpec
from qumulus.errors import InvalidRequest
from qumulus.services.billing import charging
from qumulus.services.context import Context
from qumulus.timeutil import utcnow


@dataclass(frozen=True)
class Estimate:
    backend: str
    seconds: float
    cost: Decimal
    rate: Decimal
    contract_id: str | None
    inputs: dict[str, Any]
    #: The emulator's predicted wall seconds (slowest circuit; None: not emulated or not predictable).
    emulation_seconds: float | None = None
    #: ``Settings.max_emulation_seconds`` (0 = no limit).
    emulation_limit: float = 0.0


def from_counts(
    platform: Context,
    principal: Principal,
    *,
    backend: str,
    one_qubit: int,
    two_qubit: int,
    qubits: int,
    shots: int,
    inputs: dict[str, Any],
) -> Estimate:
    """The estimate of a circuit known only by its gate counts (qiskit-ionq's query)."""
    principal.require(Action.JOB_SUBMIT)
    from qumulus.services.jobs.submission import backend_row

    row = backend_row(platform, resolve_backend_name(backend))
    for name, value in (
        ("1q_gates", one_qubit),
        ("2q_gates", two_qubit),
        ("qubits", qubits),
        ("shots", shots),
    ):
        if value < 0:
            raise InvalidRequest(f"{name}: must be ≥ 0, got {value}", field=name)
    if row.kind == "qpu":
        from qumulus.accounting.estimate import Timing, estimate_usage_seconds

        timing = charging.backend_timing(row.name)
        overhead = _overhead(row.name)
        counts = {"1q": one_qubit, "2q": two_qubit}
        seconds = overhead + estimate_usage_seconds("qpu", qubits, counts, shots, 1, timing or Timing())
        from qumulus.services.jobs.emulation import predicted_from_counts

        limit = platform.settings.max_emulation_seconds
        debias = bool(inputs.get("error_mitigation"))
        emulated = predicted_from_counts(row.name, qubits, one_qubit, two_qubit, shots, debias, limit)
        found = priced(platform, principal, row.name, [seconds], inputs)
        return with_emulation(found, [emulated], limit)
    else:
        from qumulus.accounting.estimate import estimate_usage_seconds

        seconds = estimate_usage_seconds(row.kind, qubits, {"1q": one_qubit, "2q": two_qubit}, shots)
    return priced(platform, principal, row.name, [seconds], inputs)


def from_body(platform: Context, principal: Principal, spec: JobSpec) -> Estimate:
    """The estimate of a whole job body: the same validation and the same figure as its hold."""
    from qumulus.services.jobs import emulation, submission

    backend, batch, noise = submission.validate(platform, principal, spec)
    emulated = emulation_target(backend.name, noise)
    limit = platform.settings.max_emulation_seconds
    predicted = emulation.predictions(backend.name, noise, batch, spec.shots, spec.settings, limit)
    seconds = charging.estimate_job_seconds(backend, batch, spec.shots, emulated)
    inputs = {
        "backend": backend.name,
        "type": spec.job_type,
        "qubits": batch.qubits,
        "circuits": len(batch.circuits),
        "shots": spec.shots,
        "1q_gates": batch.gate_counts().get("1q", 0),
        "2q_gates": sum(v for k, v in batch.gate_counts().items() if k != "1q"),
        "error_mitigation": bool(((spec.settings or {}).get("error_mitigation") or {}).get("debiasing")),
        "session": spec.session_id is not None,
    }
    return with_emulation(priced(platform, principal, backend.name, seconds, inputs), predicted, limit)


def with_emulation(found: Estimate, predicted: list[float | None], limit: float) -> Estimate:
    from dataclasses import replace

    worst = max((s for s in predicted if s is not None), default=None)
    return replace(found, emulation_seconds=worst, emulation_limit=limit)


def priced(
    platform: Context, principal: Principal, backend: str, seconds: list[float], inputs: dict[str, Any]
) -> Estimate:
    """Σ per executable job of seconds × rate, rounded as the hold rounds (one hold per circuit)."""
    with platform.db.connect() as conn:
        terms = charging.contract_terms(conn, principal.organization_id)
    contract = in_force(terms, backend, utcnow())
    rate = contract.rate_per_second if contract is not None else Decimal(0)
    cost = sum((estimated_cost(s, rate) for s in seconds), Decimal(0))
    return Estimate(backend, sum(seconds), cost, rate, contract.id if contract else None, inputs)


def _overhead(backend: str) -> float:
    from qumulus.backends.catalog import BY_NAME
    from qumulus.backends.device import device_model

    spec = BY_NAME.get(backend)
    if spec is None:
        return 0.0
    return device_model(spec.characterization(), spec.qubits).job_overhead
