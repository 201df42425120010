"""Errors the services raise; the API turns each into ``{statusCode, error, message}`` (DESIGN §6).

They live below ``api`` so services can say *what* went wrong without knowing HTTP; the status code
is part of the error's meaning (a budget refusal is a 402 for every client).
"""

from __future__ import annotations


class QumulusError(Exception):
    status_code = 500
    error = "Internal Server Error"

    def __init__(self, message: str, *, field: str | None = None, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.headers = headers or {}


class InvalidRequest(QumulusError):
    status_code = 400
    error = "Bad Request"


class Unauthorized(QumulusError):
    status_code = 401
    error = "Unauthorized Error"


class PaymentRequired(QumulusError):
    status_code = 402
    error = "Payment Required"


class Forbidden(QumulusError):
    status_code = 403
    error = "Forbidden"


class NotFound(QumulusError):
    status_code = 404
    error = "Not Found Error"


class Conflict(QumulusError):
    status_code = 409
    error = "Conflict"


class PayloadTooLarge(QumulusError):
    status_code = 413
    error = "Payload Too Large"


class IdempotencyKeyReused(QumulusError):
    """An ``Idempotency-Key`` sent again with a different request (IETF idempotency-key draft: 422)."""

    status_code = 422
    error = "Idempotency Key Reused"


class InvalidCircuit(QumulusError):
    status_code = 422
    error = "Invalid Circuit"


class RateLimited(QumulusError):
    status_code = 429
    error = "Too Many Requests"
