"""Opaque cursors for the administrative lists (same contract as job lists: ``limit`` and ``next``).

A cursor is the sort key of the last row of a page, base64-encoded; the next page starts strictly
after it. Opaque to clients, stable under inserts, and no offset to drift when rows are added.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import and_, or_

from qumulus.errors import InvalidRequest
from qumulus.timeutil import parse_iso

T = TypeVar("T")

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


def newest_first(stmt: Any, at: Any, row_id: Any, limit: int, cursor: str | None) -> Any:
    """``stmt`` ordered by (``at``, ``row_id``) descending, after ``cursor``, one row more than a page.

    The extra row tells :func:`split` whether there is a next page without a count query.
    """
    if cursor:
        at_text, last_id = decode(cursor, 2)
        try:
            when: datetime = parse_iso(at_text)
        except ValueError:
            raise InvalidRequest("next: not a cursor returned by this server", field="next") from None
        stmt = stmt.where(or_(at < when, and_(at == when, row_id < last_id)))
    return stmt.order_by(at.desc(), row_id.desc()).limit(limit + 1)


def split(
    rows: Sequence[T], limit: int, key: Callable[[T], tuple[datetime, str]]
) -> tuple[list[T], str | None]:
    """(this page, the cursor of the next one or None) from the rows :func:`newest_first` selected."""
    page = list(rows[:limit])
    if len(rows) <= limit or not page:
        return page, None
    at, row_id = key(page[-1])
    return page, encode(at.isoformat(), row_id)
