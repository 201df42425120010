"""Query values of the SDK's extra endpoints and filters (dates, name/tags bodies), checked once.

Every bad value is a 400 naming the parameter, never a 500.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from qumulus.errors import InvalidRequest
from qumulus.values import optional_name, parse_time
from qumulus.wire.requests import MAX_TAGS


def when(value: str | None, field: str) -> datetime | None:
    """ISO-8601 (``Z`` allowed) or epoch seconds → an aware datetime; None when absent."""
    if value is None or value == "":
        return None
    return parse_time(value, field)


def job_update(body: Any) -> dict[str, Any]:
    """A ``PATCH /jobs/{id}`` body: ``name`` (string or null) and/or ``tags`` (list of strings)."""
    if not isinstance(body, dict) or not body:
        raise InvalidRequest('body: expected a JSON object with "name" and/or "tags"', field="body")
    for key in body:
        if key not in ("name", "tags"):
            raise InvalidRequest(f"{key}: cannot be changed; only name and tags can", field=key)
    changes: dict[str, Any] = {}
    if "name" in body:
        changes["name"] = optional_name(body["name"])
    if "tags" in body:
        changes["tags"] = tags(body["tags"], "tags")
    return changes


def tags(value: Any, field: str) -> list[str]:
    if value is None:
        return []
    if (
        not isinstance(value, list)
        or len(value) > MAX_TAGS
        or not all(isinstance(t, str) and 0 < len(t) <= 200 for t in value)
    ):
        raise InvalidRequest(f"{field}: must be a list of at most {MAX_TAGS} non-empty strings", field=field)
    return list(dict.fromkeys(value))


def ids(body: Any, *, maximum: int) -> list[str]:
    """``{"ids": [...]}`` (bulk status, cancel, delete); any other field is refused, naming it."""
    for key in body if isinstance(body, dict) else ():
        if key != "ids":
            raise InvalidRequest(f"{key}: unknown field; this request takes only ids", field=key)
    raw = body.get("ids") if isinstance(body, dict) else None
    if not isinstance(raw, list) or not raw or not all(isinstance(i, str) and len(i) <= 64 for i in raw):
        raise InvalidRequest("ids: required, a non-empty list of job ids", field="ids")
    if len(raw) > maximum:
        raise InvalidRequest(f"ids: at most {maximum} per request", field="ids")
    return list(dict.fromkeys(raw))
