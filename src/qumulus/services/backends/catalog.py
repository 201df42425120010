"""Backends and their characterizations, as the platform sees them (api/ maps them per client)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from qumulus.backends.catalog import resolve_backend_name
from qumulus.errors import NotFound
from qumulus.services.context import Context
from qumulus.store.models import Backend, Characterization, Execution


def list_backends(platform: Context) -> list[tuple[Backend, int]]:
    """Every backend with its number of queued executions (see :func:`list_with_queues`)."""
    with platform.db.read() as session:
        backends = list(session.scalars(select(Backend).order_by(Backend.kind.desc(), Backend.name)))
        pending = dict(
            session.execute(
                select(Execution.backend, func.count())
                .where(Execution.state == "queued")
                .group_by(Execution.backend)
            ).all()
        )
    return [(b, int(pending.get(b.name, 0))) for b in backends]


def get_backend(platform: Context, name: str) -> Backend:
    with platform.db.read() as session:
        backend = session.get(Backend, resolve_backend_name(name))
    if backend is None:
        raise NotFound(f"Backend {name} not found.")
    return backend


def characterizations(
    platform: Context,
    name: str,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    limit: int = 10,
    offset: int = 0,
) -> tuple[list[Characterization], int]:
    """Snapshots of ``name`` newest first, and how many there are in the window."""
    backend = get_backend(platform, name)
    where = [Characterization.backend == backend.name]
    if start is not None:
        where.append(Characterization.date >= start)
    if end is not None:
        where.append(Characterization.date <= end)
    with platform.db.read() as session:
        total = session.scalar(select(func.count()).select_from(Characterization).where(*where)) or 0
        rows = list(
            session.scalars(
                select(Characterization)
                .where(*where)
                .order_by(Characterization.date.desc())
                .offset(offset)
                .limit(limit)
            )
        )
    return rows, int(total)


def characterization(platform: Context, characterization_id: str) -> Characterization:
    with platform.db.read() as session:
        row = session.get(Characterization, characterization_id)
    if row is None:
        raise NotFound(f"Characterization {characterization_id} not found.")
    return row


def list_with_queues(platform: Context) -> list[tuple[Backend, int, int | None]]:
    """Every backend with its pending jobs and measured mean queue time in ms (None: no history),
    from the per-backend figures :mod:`qumulus.services.jobs.queue_view` caches for a few seconds."""
    from qumulus.services.jobs import queue_view

    with platform.db.read() as session:
        backends = list(session.scalars(select(Backend).order_by(Backend.kind.desc(), Backend.name)))
    out = []
    for b in backends:
        q = queue_view.backend_queue(platform, b.name)
        out.append((b, q.pending_jobs, q.average_queue_ms))
    return out


def get_with_queue(platform: Context, name: str) -> tuple[Backend, int, int | None]:
    from qumulus.services.jobs import queue_view

    backend = get_backend(platform, name)
    q = queue_view.backend_queue(platform, backend.name)
    return backend, q.pending_jobs, q.average_queue_ms
