"""The SDK's exceptions: one hierarchy, each carrying what the server said.

``JobTimeoutError`` is also a :class:`TimeoutError`, so ``except TimeoutError`` works without
knowing this package; nothing here imports qiskit.
"""

from __future__ import annotations

from typing import Any


class QumulusClientError(Exception):
    """Base of every error the SDK raises."""


class AccountError(QumulusClientError):
    """No account, an unknown profile, or a credentials file that cannot be used."""


class ApiError(QumulusClientError):
    """The server answered with an error: ``status_code``, ``error`` and ``message`` as it sent them
    (``{"statusCode", "error", "message"}``), plus the field it named, if any."""

    def __init__(
        self,
        status_code: int,
        message: str,
        *,
        error: str | None = None,
        field: str | None = None,
        body: Any = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(f"{status_code} {error or 'Error'}: {message}")
        self.status_code = status_code
        self.message = message
        self.error = error
        self.field = field
        self.body = body
        self.retry_after = retry_after


class ConnectionFailedError(QumulusClientError):
    """The server could not be reached (after the retries the request was allowed)."""


class JobError(QumulusClientError):
    """Base of job-state errors; ``job_id`` names the job."""

    def __init__(self, message: str, *, job_id: str | None = None) -> None:
        super().__init__(message)
        self.job_id = job_id


class JobTimeoutError(JobError, TimeoutError):
    """The job did not reach a final state within the timeout (it keeps running on the server)."""


class JobFailureError(JobError):
    """The job failed; ``code`` and ``message`` are the server's failure reason."""

    def __init__(self, message: str, *, job_id: str | None = None, code: str | None = None) -> None:
        super().__init__(message, job_id=job_id)
        self.code = code
        self.message = message


class JobCancelledError(JobError):
    """The job was canceled, so it has no results."""
