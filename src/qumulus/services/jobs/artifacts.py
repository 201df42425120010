"""Job artifacts (``GET /v0.4/jobs/{id}/artifacts/{artifact id}``): what a job published besides its
probabilities.

* ``native`` (``ionq.native.v1``): the native compilation stored at submission
  (:mod:`.compilation`): ``{"qubits": n, "circuit": [...]}`` (a list of them for a multi-circuit
  dry run);
* ``shots`` (``ionq.result.shots.json.v2``, OpenQASM jobs): each shot's classical registers,
  ``{"shots": [{"registers": {"c": [b0, b1, ...]}}, ...]}``, element ``i`` being bit ``i`` of the
  register — what qiskit-ionq folds back into counts and memory. The shots are the stored ones, in
  execution order, never a resample;
* on a driver-served backend, the provider's own artifacts, kept at completion
  (``runtime/forwarding.keep_artifacts``: bodies in ``jobs.compiled`` by format, ``{format: local
  id}`` in ``stats["artifacts"]``) and served verbatim under the local ids above (``native`` is then
  the provider's compilation, ``shots`` its registers) or, for other formats, the format's name.
"""

from __future__ import annotations

from typing import Any

from qumulus.auth.principal import Principal
from qumulus.errors import Conflict, NotFound
from qumulus.services.context import Context
from qumulus.services.jobs import results
from qumulus.services.jobs.queries import owned
from qumulus.wire.jobs import NATIVE_ARTIFACT, NATIVE_FORMAT, QASM3_V1, SHOTS_ARTIFACT, held_artifacts


def artifact(platform: Context, principal: Principal, job_id: str, artifact_id: str) -> Any:
    """The artifact's JSON body; 404 for one the job does not have, 409 before it exists."""
    with platform.db.read() as session:
        job = owned(session, principal, job_id)
        for fmt, local_id in held_artifacts(job.stats).items():
            if local_id == artifact_id and fmt in (job.compiled or {}):
                return job.compiled[fmt]  # type: ignore[index]
        if artifact_id == NATIVE_ARTIFACT:
            compiled = job.compiled or {}
            body = compiled.get(NATIVE_FORMAT)
            if body is None:
                raise NotFound(_missing(job_id, artifact_id, "has no native compilation"))
            return body
        if artifact_id != SHOTS_ARTIFACT or job.type != QASM3_V1:
            raise NotFound(_missing(job_id, artifact_id, "has no such artifact"))
        if job.status != "completed" or job.dry_run:
            raise Conflict(f"Job {job_id} is {job.status}; its shots exist once it completes.")
        stats = dict(job.stats or {})
        session.expunge(job)
    _, items = results.job_outcomes(platform, principal, job)
    outcomes = items[0][1]
    from qumulus.sim.engine import Samples

    registers = tuple((name, tuple(bits)) for name, bits in (stats.get("registers") or {}).items())
    samples = Samples.from_ints(outcomes.tolist(), int(stats.get("clbits") or 0))
    return {"shots": [{"registers": shot} for shot in samples.registers(registers)]}


def _missing(job_id: str, artifact_id: str, why: str) -> str:
    return f"Artifact {artifact_id!r} not found: job {job_id} {why}."
