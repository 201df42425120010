"""Reading jobs: one job (the clients' polling path, kept cheap) and cursor-paged lists."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime

from sqlalchemy import and_, bindparam, or_, select
from sqlalchemy.orm import Session

from qumulus.auth.permissions import Action
from qumulus.auth.principal import Principal
from qumulus.backends.catalog import resolve_backend_name
from qumulus.domain import WORKLOAD_TYPES, JobView
from qumulus.errors import InvalidRequest, NotFound
from qumulus.services.context import Context
from qumulus.services.jobs import filters as job_filters
from qumulus.services.jobs.filters import JobQuery
from qumulus.store.models import Job, Workload

MAX_LIST_LIMIT = 1000


def owned(session: Session, principal: Principal, job_id: str) -> Job:
    job = session.get(Job, job_id) if isinstance(job_id, str) and len(job_id) <= 64 else None
    if job is None or job.project_id != principal.project_id or job.deleted_at is not None:
        raise NotFound(f"Job {job_id} not found.")
    return job


def view_of(session: Session, job: Job) -> JobView:
    child_ids = None
    if job.type == "ionq.multi-circuit.v1":
        child_ids = list(
            session.scalars(select(Job.id).where(Job.parent_id == job.id).order_by(Job.child_index))
        )
    view = JobView(job=job, child_ids=child_ids)
    inherit(session, [view])
    return view


#: A parent's labels, which its children share (stored once: issue 17.4).
_LABELS = select(Job.id, Job.job_metadata.label("metadata"), Job.settings, Job.tags)
_LABELS_BY_ID = _LABELS.where(Job.id == bindparam("job_id"))


def inherit(session: Session, views: list[JobView]) -> None:
    """Give each child view its parent's metadata, settings and tags (one query per page)."""
    parents = {v.job.parent_id for v in views if v.job.parent_id is not None}
    if not parents:
        return
    labels = {
        row.id: {"metadata": row.metadata, "settings": row.settings, "tags": row.tags}
        for row in session.execute(_LABELS.where(Job.id.in_(sorted(parents))))
    }
    for view in views:
        if view.job.parent_id is not None:
            view.inherited = labels.get(view.job.parent_id)


#: Every job attribute callers read (all but the deferred circuit), labelled with the attribute
#: names, so a row reads like a ``Job``. Built once: this read is on every client's polling path.
_JOB_FIELDS = [attr.key for attr in Job.__mapper__.column_attrs if attr.key != "input"]
_JOB_BY_ID = select(*(getattr(Job, name).label(name) for name in _JOB_FIELDS)).where(
    Job.id == bindparam("job_id")
)
_CHILD_IDS = select(Job.id).where(Job.parent_id == bindparam("job_id")).order_by(Job.child_index)
_WORKLOAD_RESULT = select(Workload.result.label("result")).where(Workload.job_id == bindparam("job_id"))


def get_job(platform: Context, principal: Principal, job_id: str) -> JobView:
    """One job as a read-only row with the ``Job`` attribute names (no ORM object to build)."""
    principal.require(Action.JOB_READ)
    db = platform.db
    found = db.hot_rows(_JOB_BY_ID, {"job_id": job_id}) if len(job_id) <= 64 else []
    row = found[0] if found else None
    if row is None or row.project_id != principal.project_id or row.deleted_at is not None:
        raise NotFound(f"Job {job_id} not found.")
    child_ids = None
    if row.type == "ionq.multi-circuit.v1":
        child_ids = [child[0] for child in db.hot_rows(_CHILD_IDS, {"job_id": job_id})]
    results = None
    if row.type in WORKLOAD_TYPES and row.status == "completed":
        found = db.hot_rows(_WORKLOAD_RESULT, {"job_id": job_id})
        results = found[0].result if found else None
    view = JobView(job=row, child_ids=child_ids, results=results)  # type: ignore[arg-type]
    if row.parent_id is not None:  # a child: its parent's labels
        parent = db.hot_rows(_LABELS_BY_ID, {"job_id": row.parent_id})
        if parent:
            p = parent[0]
            view.inherited = {"metadata": p.metadata, "settings": p.settings, "tags": p.tags}
    return view


def list_jobs(platform: Context, principal: Principal, query: JobQuery) -> tuple[list[JobView], str | None]:
    """Newest first, cursor-paged. Children are listed only when asked for by ``parent_id``."""
    principal.require(Action.JOB_READ)
    limit = query.limit
    if not 1 <= limit <= MAX_LIST_LIMIT:
        raise InvalidRequest(f"limit: must be between 1 and {MAX_LIST_LIMIT}, got {limit}", field="limit")
    stmt = select(Job).where(Job.project_id == principal.project_id, Job.deleted_at.is_(None))
    if query.parent_id is not None:
        stmt = stmt.where(Job.parent_id == query.parent_id)
    elif not query.ids:
        stmt = stmt.where(Job.parent_id.is_(None))
    if query.status:
        stmt = stmt.where(Job.status.in_(list(query.status)))
    if query.ids:
        stmt = stmt.where(Job.id.in_(list(query.ids)))
    if query.session_id is not None:
        stmt = stmt.where(Job.session_id == query.session_id)
    if query.backend is not None:
        stmt = stmt.where(Job.backend == resolve_backend_name(query.backend))
    stmt = job_filters.apply(stmt, query, postgres=not platform.db.is_sqlite)
    if query.cursor:
        at, last_id = _decode_cursor(query.cursor)
        stmt = stmt.where(or_(Job.submitted_at < at, and_(Job.submitted_at == at, Job.id < last_id)))
    stmt = stmt.order_by(Job.submitted_at.desc(), Job.id.desc()).limit(limit + 1)
    with platform.db.read() as session:
        jobs = list(session.scalars(stmt))
        more = len(jobs) > limit
        jobs = jobs[:limit]
        parents = [j.id for j in jobs if j.type == "ionq.multi-circuit.v1"]
        children: dict[str, list[str]] = {p: [] for p in parents}
        if parents:
            for child_id, parent_id in session.execute(
                select(Job.id, Job.parent_id).where(Job.parent_id.in_(parents)).order_by(Job.child_index)
            ):
                children[parent_id].append(child_id)
        done = [j.id for j in jobs if j.type in WORKLOAD_TYPES and j.status == "completed"]
        inline = (
            dict(
                session.execute(
                    select(Workload.job_id, Workload.result).where(Workload.job_id.in_(done))
                ).all()
            )
            if done
            else {}
        )
        views = [JobView(job=j, child_ids=children.get(j.id), results=inline.get(j.id)) for j in jobs]
        inherit(session, views)
    kept = _within_bytes(views, MAX_PAGE_BYTES)
    if len(kept) < len(views):
        views, more = kept, True
    next_cursor = _encode_cursor(views[-1].job) if more and views else None
    return views, next_cursor


#: A page of jobs holds rows until their echoed labels (metadata, settings, tags), child id lists
#: and fixed fields pass this many bytes — always at least one row. With metadata bounded per job
#: (``QUMULUS_MAX_METADATA_KEYS`` × ``QUMULUS_MAX_METADATA_VALUE_CHARS``) one row is at most about
#: 0.5 MB, so a page is at most ~1.5 MB whatever ``limit`` asks (issue 17.5); ``next`` continues it.
MAX_PAGE_BYTES = 1024 * 1024
#: The JSON of a job's fixed fields (ids, status, times, stats, costs), bytes, generously.
ROW_BYTES = 1500


def row_bytes(view: JobView) -> int:
    """About how many bytes a job takes in a list page (its JSON, within a few hundred bytes)."""
    labels = (view.metadata(), view.settings(), view.tags())
    size = ROW_BYTES + sum(len(json.dumps(x, separators=(",", ":"), default=str)) for x in labels)
    return size + 39 * len(view.child_ids or ())


def _within_bytes(views: list[JobView], budget: int) -> list[JobView]:
    total = 0
    for n, view in enumerate(views):
        total += row_bytes(view)
        if total > budget and n > 0:
            return views[:n]
    return views


def _encode_cursor(job: Job) -> str:
    raw = f"{job.submitted_at.isoformat()}|{job.id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, last_id = raw.split("|", 1)
        return datetime.fromisoformat(at), last_id
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidRequest("next: not a cursor returned by this server", field="next") from None
