"""Estimates of workload bodies (``quantum-function``, ``optimization``): here, not in
``services.jobs.estimates``, because pricing a workload needs its validation, and workloads sit above
jobs in the layer contract."""

from __future__ import annotations

from qumulus.auth.principal import Principal
from qumulus.domain import WORKLOAD_TYPES, JobSpec
from qumulus.services.billing import charging
from qumulus.services.context import Context
from qumulus.services.jobs import estimates
from qumulus.services.jobs.estimates import Estimate
from qumulus.services.workloads.runner import MAX_EVALUATIONS
from qumulus.services.workloads.submission import validate_workload
from qumulus.workloads import OptimizationSpec, QuantumFunctionSpec


def from_body(platform: Context, principal: Principal, spec: JobSpec) -> Estimate:
    """The estimate of any job body, workloads included: the figure its hold uses."""
    if spec.job_type in WORKLOAD_TYPES:
        return from_workload(platform, principal, spec)
    return estimates.from_body(platform, principal, spec)


def from_workload(platform: Context, principal: Principal, spec: JobSpec) -> Estimate:
    """A ``quantum-function`` or ``optimization`` body: validated as its submission is; priced as
    the evaluations it may hold in budget (:func:`evaluations_bound`), each at the figure its
    submission checks against the budget (one evaluation's circuits, one per measurement group, held
    per circuit). The emulator's predicted wall time is one circuit's (the slowest), as for a
    multi-circuit job."""
    from qumulus.services.jobs import emulation

    admitted = validate_workload(platform, principal, spec)
    backend, batch = admitted.backend, admitted.batch
    evaluations = evaluations_bound(admitted.parsed)
    each = (
        charging.estimate_job_seconds(backend, batch, spec.shots, admitted.emulated) if batch.circuits else []
    )
    limit = platform.settings.max_emulation_seconds
    predicted = emulation.predictions(backend.name, admitted.noise, batch, spec.shots, spec.settings, limit)
    inputs = {
        "backend": backend.name,
        "type": spec.job_type,
        "qubits": admitted.parsed.function.qubits,
        "evaluations": evaluations,
        "circuits_per_evaluation": len(batch.circuits),
        "circuits": evaluations * len(batch.circuits),
        "shots": spec.shots,
        "1q_gates": batch.gate_counts().get("1q", 0),
        "2q_gates": sum(v for k, v in batch.gate_counts().items() if k != "1q"),
        "session": spec.session_id is not None,
    }
    found = estimates.priced(platform, principal, backend.name, each * evaluations, inputs)
    return estimates.with_emulation(found, predicted, limit)


def evaluations_bound(parsed: QuantumFunctionSpec | OptimizationSpec) -> int:
    """How many evaluations a workload is priced at by ``/jobs/estimate``: one for a quantum
    function; for an optimization ``maxiter`` (COBYLA's bound on its evaluations), twice that for
    SPSA (two per iteration), never more than the runner's cap. Methods that take several
    evaluations per iteration (finite-difference gradients: ``n + 1`` or more) can use more."""
    if isinstance(parsed, QuantumFunctionSpec):
        return 1
    per_iteration = 2 if parsed.method == "SPSA" else 1
    return min(MAX_EVALUATIONS, per_iteration * parsed.maxiter)
