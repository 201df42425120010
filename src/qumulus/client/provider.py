"""A provider: one account's view of one server (its project): backends, jobs, job sets, journal."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from qumulus.client import aliases
from qumulus.client.accounts import Account
from qumulus.client.backend import Backend
from qumulus.client.backend_service import BackendService
from qumulus.client.errors import ApiError, QumulusClientError
from qumulus.client.http import Transport
from qumulus.client.job import Job
from qumulus.client.job_sets import ManagedJobSet
from qumulus.client.journal import Journal, JournalEntry
from qumulus.client.status import JobStatus, from_server, server_statuses

BULK_STATUS_MAX = 1000


class Provider:
    def __init__(
        self, account: Account, *, transport: Transport | None = None, journal: Journal | None = None
    ) -> None:
        self.account = account
        self.transport = transport or Transport(account.url, account.token)
        self.journal = journal or Journal()
        self._whoami: dict[str, Any] | None = None
        self.backends = BackendService(self)
        self.backend = self.backends

    def __repr__(self) -> str:
        return f"<Provider {self.account.name} at {self.transport.server}>"

    # identity ------------------------------------------------------------------------------

    def whoami(self) -> dict[str, Any]:
        """Organization, project and key of this account (cached; checks the key works)."""
        if self._whoami is None:
            self._whoami = self.transport.request("GET", "/whoami")
        return dict(self._whoami)

    @property
    def organization(self) -> str:
        return str(self.whoami().get("organization_id"))

    @property
    def project(self) -> str:
        return str(self.whoami().get("project_id"))

    # backends ------------------------------------------------------------------------------
    # ``self.backends`` (also ``self.backend``, IBMQ's name) is a BackendService: call it to list
    # backends with filters; it also reaches jobs and names backends (backend_service.py).

    def get_backend(self, name: str) -> Backend:
        found = self.backends(name=name)
        if not found:
            names = ", ".join(b.name for b in self.backends())
            raise QumulusClientError(
                f"no backend named {name!r} on {self.transport.server} (there are: {names})"
            )
        return found[0]

    # jobs ----------------------------------------------------------------------------------

    def retrieve_job(self, job_id: str) -> Job:
        """Any job of this project by id, whatever its backend (retired ones included)."""
        data = self.transport.request("GET", f"/jobs/{job_id}")
        if data.get("type") in ("quantum-function", "optimization"):
            from qumulus.client.workloads import WorkloadJob

            return WorkloadJob(self, data)
        return Job(self, data)

    def jobs(
        self,
        limit: int | None = 10,
        backend_name: str | None = None,
        status: Any = None,
        created_after: datetime | None = None,
        created_before: datetime | None = None,
        tags: list[str] | None = None,
        tags_operator: str = "AND",
        name: str | None = None,
        job_set_id: str | None = None,
        page_size: int = 100,
        *,
        job_name: str | None = None,
        job_tags: list[str] | None = None,
        job_tags_operator: str | None = None,
        start_datetime: datetime | None = None,
        end_datetime: datetime | None = None,
    ) -> list[Job]:
        """Newest first; ``limit=None`` for all. ``status`` is a JobStatus, a name, or a list of them;
        ``tags`` must all match (``tags_operator="OR"``: any); ``name`` matches a substring.
        IBMQ's names work too: ``job_name``, ``job_tags``, ``job_tags_operator``,
        ``start_datetime``, ``end_datetime``."""
        return list(
            self.iter_jobs(
                limit=limit,
                backend_name=backend_name,
                status=status,
                created_after=aliases.one_of(
                    created_after, start_datetime, "created_after", "start_datetime"
                ),
                created_before=aliases.one_of(created_before, end_datetime, "created_before", "end_datetime"),
                tags=aliases.tags(aliases.one_of(tags, job_tags, "tags", "job_tags"), "job_tags"),
                tags_operator=job_tags_operator or tags_operator,
                name=aliases.one_of(name, job_name, "name", "job_name"),
                job_set_id=job_set_id,
                page_size=page_size,
            )
        )

    def iter_jobs(self, limit: int | None = None, page_size: int = 100, **filters: Any) -> Iterator[Job]:
        """Like :meth:`jobs`, fetching pages as it goes (server cursors: stable under new jobs)."""
        params = _job_params(**filters)
        cursor = None
        yielded = 0
        while True:
            size = page_size if limit is None else min(page_size, limit - yielded)
            if size <= 0:
                return
            page = self.transport.request(
                "GET", "/jobs", params={**params, "limit": size, **({"next": cursor} if cursor else {})}
            )
            for data in page.get("jobs", []):
                yield Job(self, data)
                yielded += 1
            cursor = page.get("next")
            if not cursor:
                return

    def job_statuses(self, job_ids: list[str]) -> dict[str, JobStatus]:
        """Statuses of many jobs in one request per 1000 ids (unknown ids are left out)."""
        out: dict[str, JobStatus] = {}
        for start in range(0, len(job_ids), BULK_STATUS_MAX):
            chunk = job_ids[start : start + BULK_STATUS_MAX]
            answer = self.transport.request("POST", "/jobs/status", json={"ids": chunk}, retry=True)
            for item in answer.get("jobs", []):
                out[item["id"]] = from_server(item["status"])
        return out

    def _submit(
        self, path: str, body: dict[str, Any], key: str, *, kind: str, backend: str | None, name: str | None
    ) -> Any:
        """POST with an Idempotency-Key, journaled before it is sent and after it is answered."""
        self.journal.pending(
            key, profile=self.account.name, url=self.transport.base, kind=kind, backend=backend, name=name
        )
        answer = self.transport.request("POST", path, json=body, headers={"Idempotency-Key": key})
        self.journal.submitted(key, answer["id"])
        return answer

    # journal -------------------------------------------------------------------------------

    def recent_jobs(self, limit: int = 20) -> list[JournalEntry]:
        """What this profile submitted from this machine, newest first (survives crashes)."""
        return self.journal.recent(profile=self.account.name, url=self.transport.base, limit=limit)

    def resume(self, limit: int = 20) -> list[Job]:
        """The jobs of the recent journal entries, as handles; an entry whose answer was lost is found
        on the server by its Idempotency-Key. Entries the server never received are skipped."""
        out = []
        for entry in self.recent_jobs(limit):
            if entry.kind != "job":
                continue
            job_id = entry.job_id
            if job_id is None:
                page = self.transport.request(
                    "GET", "/jobs", params={"idempotency_key": entry.idempotency_key}
                )
                if not page.get("jobs"):
                    continue
                job_id = page["jobs"][0]["id"]
                self.journal.submitted(entry.idempotency_key, job_id)
            try:
                out.append(self.retrieve_job(job_id))
            except ApiError as exc:
                if exc.status_code != 404:
                    raise
        return out

    # job sets ------------------------------------------------------------------------------

    def retrieve_job_set(self, job_set_id: str) -> ManagedJobSet:
        return ManagedJobSet(self, self.transport.request("GET", f"/job_sets/{job_set_id}"))

    def job_sets(self, limit: int | None = 10, name: str | None = None) -> list[dict[str, Any]]:
        """Summaries of the newest job sets, newest first (``limit=None``: all); ``name``: only the
        sets of that exact name (filtered by the server; again here, for servers without the
        filter). ``retrieve_job_set(id)`` gives a handle."""
        out: list[dict[str, Any]] = []
        cursor = None
        while limit is None or len(out) < limit:
            params: dict[str, Any] = {"limit": 100 if limit is None else min(100, limit - len(out))}
            if name is not None:
                params["name"] = name
            if cursor:
                params["next"] = cursor
            page = self.transport.request("GET", "/job_sets", params=params)
            out.extend(s for s in page.get("job_sets", []) if name is None or s.get("name") == name)
            cursor = page.get("next")
            if not cursor:
                break
        return out if limit is None else out[:limit]


def _job_params(
    backend_name: str | None = None,
    status: Any = None,
    created_after: datetime | None = None,
    created_before: datetime | None = None,
    tags: list[str] | None = None,
    tags_operator: str = "AND",
    name: str | None = None,
    job_set_id: str | None = None,
) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if backend_name:
        params["backend"] = backend_name
    if status is not None:
        params["status"] = ",".join(server_statuses(status))
    if created_after is not None:
        params["created_after"] = _iso(created_after)
    if created_before is not None:
        params["created_before"] = _iso(created_before)
    if tags:
        params["tags"] = list(tags)
        if tags_operator.upper() not in ("AND", "OR"):
            raise ValueError('tags_operator: "AND" or "OR"')
        if tags_operator.upper() == "OR":
            params["tags_any"] = "true"
    if name:
        params["name"] = name
    if job_set_id:
        params["job_set_id"] = job_set_id
    return params


def _iso(value: datetime) -> str:
    if value.tzinfo is None:
        raise ValueError("dates: give a timezone-aware datetime (e.g. datetime.now(timezone.utc))")
    return value.isoformat()
