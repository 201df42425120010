"""Submission limits: shots, circuit size, and active jobs per project.

Each refusal names the limit, the value asked for, and the setting that changes it. Size checks
run on the raw ``input`` before it is parsed, so a million-gate body is refused without the cost of
parsing it; :func:`check_batch_size` repeats them on the parsed batch for inputs whose size is known
only after parsing.

The active-jobs cap is checked inside the submission transaction (the caller passes its
connection): on PostgreSQL the project row is locked first, so parallel submissions from any number
of API processes queue on it and cannot overshoot; on SQLite the write transaction already holds
the database's single write lock.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, text

from qumulus.circuits.model import CircuitBatch
from qumulus.circuits.pauli import weight
from qumulus.errors import InvalidRequest, PayloadTooLarge, RateLimited
from qumulus.store.fast_write import first_row

#: PostgreSQL: take the project's row lock before counting, so parallel submissions from any number
#: of processes count one after another (in READ COMMITTED each statement sees what committed before
#: it started, so the count runs as a statement of its own, after the lock).
_LOCK = text("SELECT 1 FROM projects WHERE id = :project_id FOR UPDATE")
#: The project's own limit and its active top-level jobs, counted no further than the limit in force:
#: the count walks the covering index ``ix_jobs_project_active`` (no table reads) and stops at the
#: limit, so a project with a short queue (the common case) pays tens of microseconds and a full one
#: about a millisecond per 10 000 entries. One statement: this runs for every submission.
_ROOM = text(
    "SELECT p.max_queued_jobs, (SELECT count(*) FROM (SELECT 1 FROM jobs"
    " WHERE project_id = :project_id AND status IN ('submitted', 'ready', 'started') AND parent_id IS NULL"
    " LIMIT (SELECT CASE WHEN max_queued_jobs >= 0 THEN max_queued_jobs ELSE :default_cap END"
    " FROM projects WHERE id = :project_id)) AS active_jobs)"
    " FROM projects AS p WHERE p.id = :project_id"
)


#: Largest ``settings`` object of a job, as JSON text (the known settings take a few hundred bytes;
#: qiskit passes a user's ``job_settings`` through).
MAX_SETTINGS_BYTES = 64 * 1024


def check_labels(
    metadata: dict[str, Any], settings: dict[str, Any], *, max_keys: int, max_value_chars: int
) -> None:
    """Metadata within IonQ's documented limits (by default: at most 10 keys, each value at most
    40 000 characters — a non-string value counted as its JSON text; keys at most 200 characters)
    and settings within :data:`MAX_SETTINGS_BYTES`: what a job stores and echoes is bounded by
    these, whatever the body limit (issue 17.4)."""
    if len(metadata) > max_keys:
        raise InvalidRequest(
            f"metadata: {len(metadata)} keys; at most {max_keys} (QUMULUS_MAX_METADATA_KEYS)",
            field="metadata",
        )
    for key, value in metadata.items():
        if len(key) > 200:
            raise InvalidRequest(f"metadata: a key of {len(key)} characters; at most 200", field="metadata")
        size = len(value) if isinstance(value, str) else len(json.dumps(value, separators=(",", ":")))
        if size > max_value_chars:
            raise InvalidRequest(
                f"metadata.{key[:40]}: {size} characters; at most {max_value_chars} per value "
                "(QUMULUS_MAX_METADATA_VALUE_CHARS)",
                field=f"metadata.{key[:40]}",
            )
    if settings:
        size = len(json.dumps(settings, separators=(",", ":")))
        if size > MAX_SETTINGS_BYTES:
            raise InvalidRequest(
                f"settings: {size} bytes as JSON; at most {MAX_SETTINGS_BYTES}", field="settings"
            )


def check_shots(shots: int, max_shots: int) -> None:
    if not 1 <= shots <= max_shots:
        raise InvalidRequest(
            f"shots: must be between 1 and {max_shots} (QUMULUS_MAX_SHOTS), got {shots}", field="shots"
        )


def check_input_size(payload: Any, *, max_gates: int, max_circuits: int) -> None:
    """Refuse an ``input`` with too many circuits or gates, from list lengths alone (no parsing)."""
    if not isinstance(payload, dict):
        return  # the parser names what is wrong with it
    circuits = payload.get("circuits")
    if isinstance(circuits, list):
        if len(circuits) > max_circuits:
            raise PayloadTooLarge(
                f"input.circuits: {len(circuits)} circuits in one job; the limit is {max_circuits} "
                "(QUMULUS_MAX_CIRCUITS). Split them into several jobs.",
                field="input.circuits",
            )
        total = 0
        for entry in circuits:
            gates = entry.get("circuit") if isinstance(entry, dict) else None
            total += len(gates) if isinstance(gates, list) else 0
        _check_gates(total, max_gates, "input.circuits")
    gates = payload.get("circuit")
    if isinstance(gates, list):
        _check_gates(len(gates), max_gates, "input.circuit")


def check_batch_size(batch: CircuitBatch, *, max_gates: int, max_circuits: int) -> None:
    """The same limits on a parsed batch (covers inputs whose size the raw check cannot see)."""
    if len(batch.circuits) > max_circuits:
        raise PayloadTooLarge(
            f"input.circuits: {len(batch.circuits)} circuits in one job; the limit is {max_circuits} "
            "(QUMULUS_MAX_CIRCUITS)",
            field="input.circuits",
        )
    # A pauliexp counts as the gates it runs as (circuits/pauli.py): one per term and support qubit.
    total = sum(
        len(circuit.operations) + sum(weight(op) - 1 for op in circuit.operations if op.name == "pauliexp")
        for circuit in batch.circuits
    )
    _check_gates(total, max_gates, "input.circuits" if batch.multi else "input.circuit")


def _check_gates(count: int, max_gates: int, where: str) -> None:
    """One gate limit, one setting, one status: ``QUMULUS_MAX_GATES`` gates per job in total (IonQ
    counts a job's gates the same way), a 413 whether the count is seen before or after parsing."""
    if count > max_gates:
        raise PayloadTooLarge(
            f"{where}: {count} gates in this job; the limit is {max_gates} gates per job (QUMULUS_MAX_GATES)",
            field=where,
        )


def queue_cap(project_cap: int | None, default: int) -> int:
    """The active-job limit that applies: the project's own, else the platform default."""
    return project_cap if project_cap is not None and project_cap >= 0 else default


def check_queue_room(conn: Connection, project_id: str, *, default_cap: int) -> None:
    """Refuse (429) a job when the project already has its limit of active jobs.

    Must run in the transaction that inserts the job, before the insert.
    """
    params = {"project_id": project_id, "default_cap": default_cap}
    if conn.dialect.name == "postgresql":
        conn.execute(_LOCK, {"project_id": project_id})
    row = first_row(conn, _ROOM, params)
    if row is None:
        return  # no such project: the insert's foreign key refuses it
    project_cap, active = row[0], row[1] or 0
    cap = queue_cap(project_cap, default_cap)
    if active >= cap:
        own = project_cap is not None and project_cap >= 0
        source = "this project's max_queued_jobs" if own else "QUMULUS_MAX_QUEUED_JOBS"
        raise RateLimited(
            f"Too many queued jobs: this project has {active} active (submitted, ready or started) jobs "
            f"and the limit is {cap} ({source}). Wait for some to finish or cancel some.",
            field="project.max_queued_jobs",
        )
