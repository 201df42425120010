"""Hybrid workloads on the platform: submitting ``quantum-function`` and ``optimization`` jobs,
the runner that turns their evaluations into queued circuit jobs, and their progress.

Owns: the ``workloads`` and ``workload_progress`` tables. Imports: ``services.jobs`` (backend
checks, sessions, cancel), ``services.billing`` (holds per evaluation), ``qumulus.workloads`` (the
pure part). Nothing in ``services`` imports it; the API and the platform do.
"""

from qumulus.services.workloads.progress import WorkloadView, inline_results, workload
from qumulus.services.workloads.runner import WorkloadRunner
from qumulus.services.workloads.submission import submit_workload

__all__ = ["WorkloadRunner", "WorkloadView", "inline_results", "submit_workload", "workload"]
