"""A job list's query (:class:`JobQuery`), and its SDK filters (tags, name, date range, job set,
idempotency key) as SQL.

They are applied in the database, before the cursor and the limit, so a filtered page is a full page
and paging stays correct. Tags live in a JSON column: membership is ``json_each`` on SQLite and
JSONB containment on PostgreSQL (the only dialect-specific SQL here).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, or_, text

from qumulus.store.models import Job

MAX_TAG_FILTERS = 20
DEFAULT_LIST_LIMIT = 25


@dataclass
class JobQuery:
    status: Sequence[str] | None = None
    ids: Sequence[str] | None = None
    session_id: str | None = None
    backend: str | None = None
    parent_id: str | None = None
    limit: int = DEFAULT_LIST_LIMIT
    cursor: str | None = None
    #: SDK filters (services/job_filters.py): every tag must match (or any, with ``tags_any``).
    tags: Sequence[str] | None = None
    tags_any: bool = False
    name: str | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    job_set_id: str | None = None
    idempotency_key: str | None = None
    #: The console's search box: a job whose id starts with it, whose name contains it (any case),
    #: or that carries it as a tag.
    text: str | None = None


def apply(stmt: Any, query: JobQuery, *, postgres: bool) -> Any:
    """``stmt`` (a select over ``jobs``) narrowed by the query's SDK filters."""
    if query.tags:
        clauses = [_has_tag(tag, n, postgres=postgres) for n, tag in enumerate(query.tags[:MAX_TAG_FILTERS])]
        stmt = stmt.where(or_(*clauses)) if query.tags_any else stmt.where(*clauses)
    if query.name:
        stmt = stmt.where(Job.name.ilike(f"%{_escape_like(query.name)}%", escape="\\"))
    if query.text:
        needle = query.text.strip()[:200]
        stmt = stmt.where(
            or_(
                Job.id.like(f"{_escape_like(needle.lower())}%", escape="\\"),
                Job.name.ilike(f"%{_escape_like(needle)}%", escape="\\"),
                _has_tag(needle, MAX_TAG_FILTERS, postgres=postgres),
            )
        )
    if query.created_after is not None:
        stmt = stmt.where(Job.submitted_at >= query.created_after)
    if query.created_before is not None:
        stmt = stmt.where(Job.submitted_at < query.created_before)
    if query.job_set_id is not None:
        stmt = stmt.where(Job.job_set_id == query.job_set_id)
    if query.idempotency_key is not None:
        stmt = stmt.where(Job.idempotency_key == query.idempotency_key)
    return stmt


def _has_tag(tag: str, n: int, *, postgres: bool) -> Any:
    name = f"sdk_tag_{n}"
    if postgres:
        return text(f"CAST(jobs.tags AS JSONB) @> CAST(:{name} AS JSONB)").bindparams(
            bindparam(name, json.dumps([tag]))
        )
    return text(f"EXISTS (SELECT 1 FROM json_each(jobs.tags) WHERE json_each.value = :{name})").bindparams(
        bindparam(name, tag)
    )


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
