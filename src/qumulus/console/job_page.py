"""A job's page, put together from the services: its outlook while it waits, its timeline, what it
was billed against its wall time, its circuits and its results (histogram data and downloads)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from qumulus.auth.principal import Principal
from qumulus.backends.catalog import emulation_target
from qumulus.circuits.errors import CircuitError
from qumulus.circuits.ionq_json import parse_input
from qumulus.console import charts, fmt
from qumulus.domain import ACTIVE, WORKLOAD_TYPES, JobSpec, JobView
from qumulus.errors import Conflict, NotFound
from qumulus.services import jobs, workloads
from qumulus.services.billing import contracts
from qumulus.services.jobs import artifacts, inputs, outlook, results
from qumulus.services.tenancy import users
from qumulus.timeutil import utcnow
from qumulus.wire import jobs as wire
from qumulus.wire.jobs import NATIVE_ARTIFACT

#: Circuits of a multi-circuit job drawn and charted on its page (the rest: downloads, child pages).
MAX_CIRCUITS = 8
SCALES = ("probability", "counts")
#: The emulator's predicted wall time (issue 12), beside the billed QPU time.
PREDICTED_WALL_KEYS = ("predicted_emulation_duration_ms",)


@dataclass
class Phase:
    """One stretch of the job's life on its timeline."""

    name: str
    start: datetime
    end: datetime | None
    seconds: float | None


def timeline(job: Any, now: datetime) -> tuple[list[tuple[str, datetime]], list[Phase]]:
    """The recorded steps (name, instant) and the phases between them: waiting (submitted → started
    or canceled), running (started → completed/failed/canceled); an open phase runs to ``now``."""
    steps = [
        (label, at)
        for label, at in (
            ("submitted", job.submitted_at),
            ("ready", job.ready_at),
            ("started", job.started_at),
            (job.status if job.status in ("completed", "failed") else "completed", job.completed_at),
            ("canceled", job.canceled_at),
        )
        if at is not None
    ]
    end_of_life = job.completed_at or job.canceled_at
    phases = []
    waited_until = job.started_at or end_of_life
    phases.append(
        Phase("Waiting", job.submitted_at, waited_until, fmt.between(job.submitted_at, waited_until or now))
    )
    if job.started_at is not None:
        phases.append(
            Phase("Running", job.started_at, end_of_life, fmt.between(job.started_at, end_of_life or now))
        )
    return steps, phases


def _top(indices: np.ndarray, values: np.ndarray, limit: int) -> dict[int, float]:
    """The ``limit`` largest entries as {outcome: value} (all of them when fewer)."""
    if len(values) > limit:
        keep = np.argpartition(-values, limit - 1)[:limit]
        indices, values = indices[keep], values[keep]
    return {int(i): float(v) for i, v in zip(indices.tolist(), values.tolist(), strict=True)}


def histograms(
    platform: Any, principal: Principal, job_id: str, scale: str, shots: int
) -> list[dict[str, Any]]:
    """Per circuit (at most :data:`MAX_CIRCUITS`): the bars in bitstring order, the SVG, and how
    many outcomes there were. ``counts`` are the shots the API's ``/results/histogram`` returns
    (stored shots of an emulated run, else drawn from the exact distribution with the job's seed)."""
    out = []
    if scale == "counts":
        job = results.job_for_results(platform, principal, job_id)
        _, items = results.job_outcomes(platform, principal, job)
        dists = results.job_results(platform, principal, job_id).items
        width = {key: d.qubits for key, d in dists}
        for key, outcomes in items[:MAX_CIRCUITS]:
            idx, counts = np.unique(outcomes, return_counts=True)
            found = _top(idx, counts.astype(np.float64), charts.MAX_BARS)
            bars, total = charts.outcome_bars(found, width[key])
            out.append(_chart(key, bars, len(idx) if total else 0, scale, shots, len(items)))
        return out
    found_items = results.job_results(platform, principal, job_id).items
    for key, dist in found_items[:MAX_CIRCUITS]:
        top = _top(np.asarray(dist.indices), np.asarray(dist.values, dtype=np.float64), charts.MAX_BARS)
        bars, _ = charts.outcome_bars(top, dist.qubits)
        out.append(_chart(key, bars, len(dist.values), scale, shots, len(found_items)))
    return out


def _chart(
    key: str, bars: list[tuple[str, float]], outcomes: int, scale: str, shots: int, n: int
) -> dict[str, Any]:
    title = f"{'Counts' if scale == 'counts' else 'Probabilities'} by outcome" + (
        f" of circuit {key[:8]}" if n > 1 else ""
    )
    return {
        "key": key,
        "bars": bars,
        "outcomes": outcomes,
        "svg": charts.histogram_svg(bars, scale=scale, shots=shots, title=title),
    }


def live(platform: Any, principal: Principal, job_id: str, scale: str = "probability") -> dict[str, Any]:
    """What changes while a job runs: status, outlook, timeline, usage, failure, results."""
    view = jobs.get_job(platform, principal, job_id)
    job = view.job
    now = utcnow()
    steps, phases = timeline(job, now)
    ahead = outlook.outlook(platform, principal, view)
    price = contracts.prices(platform, principal, [job.backend]).get(job.backend)
    completed = job.status == "completed" and not job.dry_run
    workload = _workload(platform, principal, job) if job.type in WORKLOAD_TYPES else None
    if workload is not None:
        completed = False  # its results are a value or a solution, not a histogram (see below)
    return {
        "workload": workload,
        "job": job,
        "view": view,
        "steps": steps,
        "phases": phases,
        "outlook": ahead,
        "currency": ahead.currency if ahead else (price.currency if price else "USD"),
        "wall_seconds": fmt.between(job.started_at, job.completed_at),
        "emulated": emulation_target(job.backend, job.noise) is not None,
        "charts": histograms(platform, principal, job_id, scale, job.shots) if completed else [],
        "scale": scale,
        "scales": SCALES,
        "active": ACTIVE,
        "project_id": principal.project_id,
        "predicted_wall_ms": _predicted_wall(view),
    }


def _workload(platform: Any, principal: Principal, job: Any) -> dict[str, Any]:
    """A quantum function's or optimization's progress: the convergence chart, the best point and
    the latest rows (the panel refreshes every second while the loop runs)."""
    view = workloads.workload(platform, principal, job.id, every=True)
    points = [(r.iteration, r.value) for r in view.rows if r.value is not None]
    best = min(view.rows, key=lambda r: r.value if r.value is not None else float("inf"), default=None)
    return {
        "type": job.type,
        "evaluations": view.evaluations,
        "result": view.result,
        "best_value": view.best_value,
        "best_params": view.best_params,
        "best_iteration": best.iteration if best is not None else None,
        "svg": charts.convergence_svg(
            points, best=best.iteration if best is not None else None, title="Value by iteration"
        )
        if len(points) > 1
        else "",
        "latest": list(reversed(view.rows[-10:])),
    }


def _predicted_wall(view: JobView) -> int | None:
    """The emulator's predicted wall time, when the server predicts one for this job."""
    body = wire.job_v04(view)
    for key in PREDICTED_WALL_KEYS:
        if isinstance(body.get(key), int | float):
            return int(body[key])
    return None


def detail(platform: Any, principal: Principal, job_id: str, scale: str = "probability") -> dict[str, Any]:
    """The whole page: :func:`live` plus circuits, children, submitter, raw JSON."""
    context = live(platform, principal, job_id, scale)
    view: JobView = context["view"]
    job = view.job
    batch = inputs.job_circuits(platform, principal, job_id)
    circuits = []
    for circuit in (batch.circuits if batch else ())[:MAX_CIRCUITS]:
        circuits.append(
            {
                "name": circuit.name or "",
                "qubits": circuit.qubits,
                "gates": len(circuit.operations),
                "counts": charts.gate_counts(circuit),
                "drawing": charts.circuit_text(circuit),
            }
        )
    native = compiled(platform, principal, job_id)
    submitter = users.emails(platform, [job.submitter_id]).get(job.submitter_id or "", "")
    return {
        **context,
        "circuits": circuits,
        "native": native,
        "circuit_total": len(batch.circuits) if batch else 0,
        "children": view.child_ids or [],
        "submitter": submitter,
        "raw": json.dumps(wire.job_v04(view), indent=2, default=str),
    }


def compiled(platform: Any, principal: Principal, job_id: str) -> list[dict[str, Any]]:
    """The native circuits the job was compiled to at submission (QPU jobs, noisy simulations, dry
    runs: the ``ionq.native.v1`` artifact, what the emulated device runs and bills), drawn like the
    submitted ones; empty when the job stored none."""
    try:
        body = artifacts.artifact(platform, principal, job_id, NATIVE_ARTIFACT)
    except (NotFound, Conflict):
        return []
    out = []
    for item in (body if isinstance(body, list) else [body])[:MAX_CIRCUITS]:
        if not isinstance(item, dict):
            continue
        try:
            circuit = parse_input("ionq.circuit.v1", {"gateset": "native", **item}).circuits[0]
        except CircuitError:
            continue
        out.append(
            {
                "qubits": circuit.qubits,
                "gates": len(circuit.operations),
                "counts": charts.gate_counts(circuit),
                "drawing": charts.circuit_text(circuit),
                "json": json.dumps(item, indent=1)[:20000],
            }
        )
    return out


def spec_of(platform: Any, principal: Principal, job_id: str) -> JobSpec:
    """The job as a new request: same backend, input, shots, settings, noise, tags, metadata."""
    view = jobs.get_job(platform, principal, job_id)
    job = view.job
    payload = inputs.job_input(platform, principal, job_id) or {}
    return JobSpec(
        backend=job.backend,
        job_type=job.type,
        input=payload,
        shots=job.shots,
        name=job.name,
        metadata=dict(view.metadata()),
        settings=dict(view.settings()),
        noise=job.noise,
        tags=list(view.tags()),
    )


# --- downloads ----------------------------------------------------------------------------------

WHATS = ("counts", "probabilities", "shots")
FORMATS = ("csv", "json")


def download(
    platform: Any, principal: Principal, job_id: str, what: str, form: str
) -> tuple[Iterator[str], str]:
    """The job's results as CSV or JSON, streamed (a 26-qubit distribution has 67 M entries):
    ``counts`` per outcome, ``probabilities`` per outcome, or ``shots`` one row per shot in
    execution order. Bitstrings have qubit 0 on the right; ``outcome`` is the same as an integer."""
    dists = results.job_results(platform, principal, job_id)
    width = {key: d.qubits for key, d in dists.items}
    if what == "probabilities":
        rows = ((key, d.indices, d.values) for key, d in dists.items)
    else:
        job = results.job_for_results(platform, principal, job_id)
        _, items = results.job_outcomes(platform, principal, job)
        if what == "counts":
            rows = ((key, *np.unique(o, return_counts=True)) for key, o in items)
        else:
            rows = ((key, o, None) for key, o in items)
    media = "text/csv; charset=utf-8" if form == "csv" else "application/json"
    body = _csv(rows, width, what) if form == "csv" else _json(rows, width, what, job_id)
    return body, media


def _bits(outcome: int, qubits: int) -> str:
    return format(int(outcome), f"0{max(qubits, 1)}b")


def _csv(rows: Any, width: dict[str, int], what: str) -> Iterator[str]:
    value = {"counts": "count", "probabilities": "probability", "shots": "shot"}[what]
    yield f"circuit,bitstring,outcome,{value}\n"
    for key, outcomes, values in rows:
        q = width[key]
        chunk = []
        for n, outcome in enumerate(np.asarray(outcomes).tolist()):
            v = n if values is None else values[n]
            shown = f"{float(v):.12g}" if what == "probabilities" else str(int(v))
            chunk.append(f"{key},{_bits(outcome, q)},{outcome},{shown}\n")
            if len(chunk) >= 10000:
                yield "".join(chunk)
                chunk = []
        yield "".join(chunk)


def _json(rows: Any, width: dict[str, int], what: str, job_id: str) -> Iterator[str]:
    yield json.dumps({"job_id": job_id, "kind": what})[:-1] + ', "circuits": ['
    for c, (key, outcomes, values) in enumerate(rows):
        q = width[key]
        yield ("," if c else "") + json.dumps({"id": key, "qubits": q})[:-1] + f', "{what}": '
        outs = np.asarray(outcomes).tolist()
        if what == "shots":
            yield json.dumps([_bits(o, q) for o in outs])
        else:
            numbers = [float(v) if what == "probabilities" else int(v) for v in np.asarray(values).tolist()]
            yield json.dumps({_bits(o, q): v for o, v in zip(outs, numbers, strict=True)})
        yield "}"
    yield "]}"
