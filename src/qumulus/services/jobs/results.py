"""Reading job results: distributions of a job or, for a multi-circuit parent, of each child in order."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import bindparam, select

from qumulus.auth.principal import Principal
from qumulus.errors import Conflict, InvalidRequest, NotFound
from qumulus.services.context import Context
from qumulus.services.jobs.queries import owned
from qumulus.sim.engine import Distribution, as_indices
from qumulus.store.models import Job, Result

# Built once: constructing these per request cost more than running them. The stored shots of a
# sampled run (``Result.shots``, up to a million ints) are read only by the paths that need them.
_RESULT = (Result.qubits, Result.probabilities, Result.path, Result.sampled)
_JOB_AND_RESULT = {
    shots: select(Job.project_id, Job.deleted_at, Job.status, Job.dry_run, Job.type, *_RESULT,
                  *((Result.shots,) if shots else ()))
    .outerjoin(Result, Result.job_id == Job.id)
    .where(Job.id == bindparam("job_id"))
    for shots in (False, True)
}  # fmt: skip
_CHILD_RESULTS = {
    shots: select(Job.id, *_RESULT, *((Result.shots,) if shots else ()))
    .join(Result, Result.job_id == Job.id)
    .where(Job.parent_id == bindparam("job_id"))
    .order_by(Job.child_index)
    for shots in (False, True)
}


@dataclass
class JobResults:
    """``items`` is ``[(job id, distribution)]``: one entry, or one per child in circuit order."""

    multi: bool
    items: list[tuple[str, Distribution]]


def job_results(platform: Context, principal: Principal, job_id: str, *, sharpen: bool = False) -> JobResults:
    """The distributions of a completed job, loading result files if there are any.

    ``sharpen`` re-aggregates a debiased run's variants by plurality vote instead of averaging
    (:func:`qumulus.sim.emulator.aggregate_plurality`); results without variants are unchanged.
    """
    multi, rows = result_rows(platform, principal, job_id, with_shots=sharpen)
    return JobResults(multi=multi, items=[(key, _load(platform, row, sharpen=sharpen)) for key, row in rows])


def job_outcomes(
    platform: Context, principal: Principal, job: Job
) -> tuple[bool, list[tuple[str, np.ndarray]]]:
    """Per-shot outcomes of each circuit: the stored shots of a sampled (emulated) run, in execution
    order; for an exact (ideal) result, ``job.shots`` draws from it with the job's seed."""
    multi, rows = result_rows(platform, principal, job.id, with_shots=True)
    seed = outcome_seed(job)
    items: list[tuple[str, np.ndarray]] = []
    for n, (key, row) in enumerate(rows):
        stored = row.shots
        if isinstance(stored, dict) and isinstance(stored.get("outcomes"), list):
            items.append((key, as_indices(stored["outcomes"])))
        else:
            items.append((key, sample_outcomes(_load(platform, row), job.shots, seed + n)))
    return multi, items


def inline_results(platform: Context, principal: Principal, job_id: str) -> JobResults | None:
    """Like :func:`job_results` when every distribution is stored inline, else None (no file I/O)."""
    multi, rows = result_rows(platform, principal, job_id)
    if any(row.probabilities is None for _, row in rows):
        return None
    return JobResults(multi=multi, items=[(key, _load(platform, row)) for key, row in rows])


def result_rows(
    platform: Context, principal: Principal, job_id: str, *, with_shots: bool = False
) -> tuple[bool, list[tuple[str, Any]]]:
    """``(multi, [(job id, results row)])`` of a completed job: one plain SQL read (a hot path).

    Rows carry ``qubits``, ``probabilities``, ``path``, ``sampled``, and ``shots`` if ``with_shots``.
    """
    db = platform.db
    found = db.hot_rows(_JOB_AND_RESULT[with_shots], {"job_id": job_id})
    row = found[0] if found else None
    if row is None or row.project_id != principal.project_id or row.deleted_at is not None:
        raise NotFound(f"Job {job_id} not found.")
    if row.status in ("submitted", "ready", "started"):
        raise Conflict(f"Job {job_id} is {row.status}; results are available once it completes.")
    if row.status != "completed":
        raise InvalidRequest(f"Job {job_id} is {row.status} and has no results.")
    if row.dry_run:
        raise InvalidRequest(f"Job {job_id} was a dry run and has no results.")
    if row.type == "ionq.multi-circuit.v1":
        children = db.hot_rows(_CHILD_RESULTS[with_shots], {"job_id": job_id})
        return True, [(child.id, child) for child in children]
    if row.qubits is None:
        raise Conflict(f"Job {job_id} has no stored result yet.")
    return False, [(job_id, row)]


def load_row(platform: Context, result: Any) -> Distribution:
    """The distribution of a ``results`` row (``qubits``, ``probabilities``, ``path``): the workload
    runner reads its circuits' results with it."""
    return _load(platform, result)


def _load(platform: Context, result: Any, *, sharpen: bool = False) -> Distribution:
    """A distribution from a ``results`` row (inline JSON, or a file in the data directory)."""
    stored = getattr(result, "shots", None)
    if sharpen and isinstance(stored, dict) and len(stored.get("variants") or []) > 1:
        from qumulus.sim.emulator import aggregate_plurality

        voted = aggregate_plurality(np.asarray(stored["outcomes"], dtype=np.uint64), stored["variants"])
        return Distribution(
            qubits=result.qubits,
            values=np.asarray(list(voted.values()), dtype=np.float64),
            indices=np.asarray(list(voted), dtype=np.uint64),
        )
    if result.probabilities is not None:
        return Distribution(
            qubits=result.qubits,
            values=np.asarray(result.probabilities["values"], dtype=np.float64),
            indices=as_indices(result.probabilities["indices"]),
        )
    from qumulus.sim.results_io import load_distribution

    assert result.path is not None
    return load_distribution(str(platform.data_dir / result.path))


def sample_outcomes(distribution: Distribution, shots: int, seed: int) -> np.ndarray:
    """``shots`` outcomes drawn from an exact distribution (for histogram/shots of ideal jobs)."""
    from qumulus.sim.sampling import sample_from_probabilities

    return sample_from_probabilities(distribution.values, shots, seed, indices=distribution.indices)


def outcome_seed(job: Job) -> int:
    """The job's noise seed when it gave one, else a seed derived from its id: same answer every GET."""
    seed = (job.noise or {}).get("seed")
    if isinstance(seed, int) and not isinstance(seed, bool):
        return seed
    return int(job.id.replace("-", "")[:16], 16)


def job_for_results(platform: Context, principal: Principal, job_id: str) -> Job:
    with platform.db.read() as session:
        return owned(session, principal, job_id)
