"""Reading request bodies: JSON whatever the Content-Type (pennylane sends none), within a size limit."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request

from qumulus.errors import InvalidRequest, PayloadTooLarge


async def read_json(request: Request, max_bytes: int, *, required: bool = True) -> Any:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise PayloadTooLarge(
            f"body: the request is {declared} bytes; the limit is {max_bytes} bytes "
            "(QUMULUS_MAX_REQUEST_BYTES)",
            field="body",
        )
    chunks = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise PayloadTooLarge(
                f"body: the request exceeds the limit of {max_bytes} bytes (QUMULUS_MAX_REQUEST_BYTES)",
                field="body",
            )
        chunks.append(chunk)
    raw = b"".join(chunks)
    if not raw.strip():
        if required:
            raise InvalidRequest("request body is empty; expected a JSON object", field="body")
        return None
    try:
        document = json.loads(raw, parse_constant=_non_finite, parse_float=_finite_float)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise InvalidRequest(f"request body is not valid JSON: {exc}", field="body") from None
    if b"\\u0000" in raw and contains_nul(document):
        raise InvalidRequest(
            "request body contains a NUL character (\\u0000), which is not allowed", field="body"
        )
    return document


def _non_finite(token: str) -> float:
    raise ValueError(f"{token} is not a JSON number")


def _finite_float(token: str) -> float:
    value = float(token)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"number {token[:40]} is out of range")
    return value


def contains_nul(value: Any) -> bool:
    """Whether a decoded JSON document holds a NUL character anywhere (PostgreSQL text cannot)."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(contains_nul(k) or contains_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(contains_nul(v) for v in value)
    return False
