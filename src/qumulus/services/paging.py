"""Opaque cursors for the administrative lists (same contract as job lists: ``limit`` and ``next``).

A cursor is the sort key of the last row of a page, base64-encoded; the next page starts strictly
after it. Opaque to clients, stable under inserts, and no offset to drift when rows are added.
"""

from __future__ import annotations

import base64
import binascii
import json

from qumulus.errors import InvalidRequest

DEFAULT_LIMIT = 25
MAX_LIMIT = 1000


def check_limit(limit: int | None) -> int:
    if limit is None:
        return DEFAULT_LIMIT
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidRequest(f"limit: must be between 1 and {MAX_LIMIT}, got {limit}", field="limit")
    return limit


def encode(*parts: str) -> str:
    raw = json.dumps(list(parts), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str, size: int) -> list[str]:
    """The sort key a cursor carries; 400 naming ``next`` for anything this server did not make."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        parts = json.loads(raw)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        parts = None
    if not isinstance(parts, list) or len(parts) != size or not all(isinstance(p, str) for p in parts):
        raise InvalidRequest("next: not a cursor returned by this server", field="next")
    return parts
