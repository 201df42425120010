"""Every error leaves the API as ``{"statusCode", "error", "message"}`` (+ ``validation.keys``).

That is the body every IonQ client parses: qiskit crashes on a bare ``{"error": "..."}`` string.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse

from qumulus.errors import QumulusError

log = logging.getLogger("qumulus.api")

_REASONS = {
    400: "Bad Request",
    401: "Unauthorized Error",
    403: "Forbidden",
    404: "Not Found Error",
    402: "Payment Required",
    405: "Method Not Allowed",
    408: "Request Timeout",
    409: "Conflict",
    413: "Payload Too Large",
    415: "Unsupported Media Type",
    422: "Invalid Circuit",
    429: "Too Many Requests",
}


def error_body(status: int, message: str, *, error: str | None = None, field: str | None = None) -> dict:
    body: dict[str, object] = {
        "statusCode": status,
        "error": error or _REASONS.get(status, "Error"),
        "message": message,
    }
    if field:
        body["validation"] = {"keys": [field], "source": "body"}
    return body


def install(app: FastAPI) -> None:
    @app.exception_handler(QumulusError)
    async def _qumulus(_: Request, exc: QumulusError) -> JSONResponse:
        return JSONResponse(
            error_body(exc.status_code, exc.message, error=exc.error, field=exc.field),
            status_code=exc.status_code,
            headers=exc.headers,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = exc.detail if isinstance(exc.detail, str) else "Request failed."
        if exc.status_code == 404 and message == "Not Found":
            message = "Resource not found."
        return JSONResponse(
            error_body(exc.status_code, message),
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        first = errors[0] if errors else {}
        loc = [str(p) for p in first.get("loc", ()) if p not in ("query", "path", "body", "header")]
        field = ".".join(loc) or None
        message = (
            f"{field}: {first.get('msg', 'invalid value')}" if field else str(first.get("msg", "invalid"))
        )
        return JSONResponse(error_body(400, message, field=field), status_code=400)

    # Unexpected exceptions: api/server.RequestGuard (one traceback, a 500 with Connection: close).
