"""Prometheus figures for ``GET /metrics``, computed when scraped and at no other time.

Nothing here runs per request: the collector reads the database (three small statements on one
read connection: two ``GROUP BY`` counts over live rows only, and the backends table) and this
process's in-memory state only when Prometheus asks. Every figure is an aggregate over the whole platform; no
organization, project, user or key appears in a label, since ``/metrics`` is unauthenticated.

Call :func:`registry_for` from the thread pool: :meth:`PlatformCollector.collect` does blocking I/O.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import func, select

import qumulus
from qumulus.store.models import Backend, Execution, Job

if TYPE_CHECKING:
    from qumulus.platform import Platform

#: Job statuses reported (0 when none), so a series exists before its first job. Only jobs in
#: flight: counting finished jobs would read the whole history on every scrape (50 ms at 100 000
#: jobs on SQLite, growing without bound); the status index keeps this count to the live queue.
#: Finished work is in the usage API (``GET /v0.4/usage``).
JOB_STATUSES = ("submitted", "ready", "started")

# Built once: a scrape only binds and runs them.
_JOBS_BY_STATUS = (
    select(Job.status, func.count())
    .where(Job.status.in_(JOB_STATUSES), Job.parent_id.is_(None), Job.deleted_at.is_(None))
    .group_by(Job.status)
)
#: Live executions only: the partial indexes over queued and running rows keep this small.
_LIVE_EXECUTIONS = (
    select(Execution.backend, Execution.state, func.count())
    .where(Execution.state.in_(("queued", "running")))
    .group_by(Execution.backend, Execution.state)
)
_BACKENDS = select(Backend.name, Backend.status, Backend.accepting_jobs)


class PlatformCollector(Collector):
    """The platform's figures, read from the database and the runtime at scrape time."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform

    def collect(self) -> Iterator[Metric]:
        platform = self.platform
        with platform.db.connect() as conn:
            jobs = dict(conn.execute(_JOBS_BY_STATUS).all())
            live = conn.execute(_LIVE_EXECUTIONS).all()
            backends = conn.execute(_BACKENDS).all()

        yield from _build_info()

        family = GaugeMetricFamily(
            "qumulus_jobs",
            "Jobs in flight (submitted, ready, started; a multi-circuit job counts once) by status.",
            labels=["status"],
        )
        for status in JOB_STATUSES:
            family.add_metric([status], jobs.get(status, 0))
        yield family

        names = sorted({name for name, _, _ in backends} | {backend for backend, _, _ in live})
        counts = {(backend, state): n for backend, state, n in live}
        for state, doc in (
            ("queued", "Executions (one circuit each) waiting in the queue, by backend."),
            ("running", "Executions (one circuit each) claimed by a worker, by backend."),
        ):
            family = GaugeMetricFamily(f"qumulus_executions_{state}", doc, labels=["backend"])
            for name in names:
                family.add_metric([name], counts.get((name, state), 0))
            yield family

        status = GaugeMetricFamily(
            "qumulus_backend_status",
            "1 for each backend's current status (operational, degraded, maintenance, ...).",
            labels=["backend", "status"],
        )
        accepting = GaugeMetricFamily(
            "qumulus_backend_accepting_jobs",
            "1 if the backend accepts new jobs, else 0.",
            labels=["backend"],
        )
        for name, backend_status, accepts in sorted(backends):
            status.add_metric([name, backend_status], 1)
            accepting.add_metric([name], 1 if accepts else 0)
        yield status
        yield accepting

        # This process's runtime (0 where it runs none: `qumulus api` in distributed mode, say).
        yield GaugeMetricFamily(
            "qumulus_worker_threads",
            "Worker threads claiming executions in this process.",
            value=platform.settings.worker_threads if platform.workers is not None else 0,
        )
        executor = platform.executor
        yield GaugeMetricFamily(
            "qumulus_simulator_processes",
            "Simulator processes in this process's pool.",
            value=getattr(executor, "processes", 0) if executor is not None else 0,
        )
        committer = platform.committer
        yield CounterMetricFamily(
            "qumulus_group_commits",
            "Transactions committed by the group committer (SQLite submissions) in this process.",
            value=committer.commits,
        )
        yield CounterMetricFamily(
            "qumulus_group_commit_items",
            "Pieces of work (submissions) those group commits carried.",
            value=committer.items,
        )


def _build_info() -> Iterator[Metric]:
    info = GaugeMetricFamily("qumulus_build_info", "Qumulus version running; always 1.", labels=["version"])
    info.add_metric([qumulus.__version__], 1)
    yield info


def registry_for(platform: Platform) -> CollectorRegistry:
    """A registry of this platform's own (never the global default one: tests build many apps),
    with the standard ``process_*`` figures (start time, CPU, memory, open files)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(PlatformCollector(platform))
    ProcessCollector(registry=registry)
    return registry
