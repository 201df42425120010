"""Qumulus: a self-hostable quantum cloud.

The SDK's names (``from qumulus import Qumulus, JobManager, least_busy``) load on first use, so
``import qumulus`` stays light for the server and the CLI.
"""

from __future__ import annotations

from typing import Any

from qumulus._version import __version__

__all__ = ["__version__"]

_SDK_NAMES = frozenset(
    {
        "AccountError", "ApiError", "Backend", "Circuit", "Job", "JobCancelledError", "JobFailureError",
        "JobManager", "JobStatus", "JobTimeoutError", "ManagedJobSet", "Provider", "Qumulus", "Result",
        "least_busy",
    }
)  # fmt: skip


def __getattr__(name: str) -> Any:
    if name in _SDK_NAMES:
        from qumulus import client

        return getattr(client, name)
    raise AttributeError(f"module 'qumulus' has no attribute {name!r}")
