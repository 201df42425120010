"""IBMQ's keyword names for a job's name, tags and share level, checked against Qumulus' own.

A notebook written for ``qiskit-ibmq-provider`` calls ``backend.run(qc, job_name=..., job_tags=...,
job_share_level=...)`` and ``IBMQJobManager().run(..., job_tags=...)``; these pure functions let the
same calls work here, and refuse what Qumulus cannot honour instead of dropping it silently.
"""

from __future__ import annotations

from typing import Any

#: IBMQ's share levels. A Qumulus job belongs to its project: every key of the project sees it.
SHARE_LEVELS = ("global", "hub", "group", "project", "none")


def one_of(ours: Any, theirs: Any, our_name: str, their_name: str) -> Any:
    """The value given under either name; both at once is an error (which one would win?)."""
    if ours is not None and theirs is not None:
        raise TypeError(f"give {our_name}= or {their_name}= (the IBMQ name), not both")
    return ours if ours is not None else theirs


def tags(value: Any, argument: str) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str) or not all(isinstance(t, str) for t in value):
        raise TypeError(f"{argument}: a list of strings, e.g. ['calibration']")
    return list(value)


def check_share_level(level: str | None) -> None:
    """``"project"`` (or None) is how every Qumulus job is shared; any other level is refused."""
    if level is None:
        return
    if not isinstance(level, str) or level.lower() not in SHARE_LEVELS:
        raise ValueError(f"job_share_level: one of {', '.join(SHARE_LEVELS)}; got {level!r}")
    if level.lower() != "project":
        raise ValueError(
            f"job_share_level={level!r}: a Qumulus job is shared with its project (every key of the "
            "project sees it, no one else), which is IBMQ's 'project' level; other levels do not exist "
            "here. Pass job_share_level='project' or leave it out."
        )
