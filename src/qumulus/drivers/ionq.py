"""The ``ionq`` driver: any IonQ-compatible API (IonQ's cloud, or another Qumulus) as an upstream.

Options (``[backend.options]``):

=================  ==========================================================================
``url``            the API base, e.g. ``https://api.ionq.co/v0.4`` (``/v0.4`` is added if absent)
``target``         the provider's backend name, e.g. ``qpu.aria-1``
``timeout``        seconds per request (default 30)
``push``           ``auto`` (Server-Sent Events where the provider has them, else polling),
                   ``sse`` or ``off``
``idempotency``    send ``Idempotency-Key`` (default true: IonQ-compatible APIs, Qumulus included,
                   return the first job for a repeated key, so a retried submission is never a
                   second job)
``search``         before resubmitting, look for the job by its token in ``GET /jobs`` (default
                   true: the token is also in the job's metadata, so this works on providers that
                   ignore the ``idempotency_key`` filter)
=================  ==========================================================================

The credential is the site's own key for the provider (``Authorization: apiKey …``).

Jobs travel as stored: gate lists, or an OpenQASM 3 program as its text (``ionq.qasm3.v1``, which
IonQ's API takes). With the results come the job's artifacts, by format: those listed by id in
``results`` (an OpenQASM job's ``ionq.result.shots.json.v2`` registers) and the compiled circuits in
``output.compilation`` (``ionq.native.v1``); the broker keeps and serves them (docs/drivers.md).

How it fails: 429 (with its ``Retry-After``), 5xx, timeouts and connection errors are
:class:`~qumulus.drivers.base.Transient` (the caller retries with backoff and loses nothing); any other
4xx on a submission is :class:`~qumulus.drivers.base.Rejected` (the job fails with the provider's
reason); a 404 on a job is :class:`~qumulus.drivers.base.UnknownJob`.
"""

from __future__ import annotations

import email.utils
import json
import time
from collections.abc import Iterator, Mapping
from typing import Any, Literal
from urllib.parse import urlsplit

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from qumulus.drivers import ionq_wire as wire
from qumulus.drivers.base import (
    CircuitResult,
    ConfigError,
    DeviceCharacterization,
    DeviceStatus,
    Driver,
    DriverConfig,
    Failure,
    JobState,
    ProviderJob,
    Rejected,
    Transient,
    UnknownJob,
)

#: Statuses that say "not now" rather than "no": retried (qiskit and cirq retry the same ones).
RETRY_STATUS = frozenset({429, 500, 502, 503, 504, *range(520, 530)})
#: Largest result body read from a provider (a 26-qubit distribution as JSON is far below this).
MAX_BODY_BYTES = 1 << 30


class IonQOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str
    target: str = Field(min_length=1, max_length=200)
    timeout: float = Field(default=30.0, gt=0, le=3600)
    push: Literal["auto", "sse", "off"] = "auto"
    idempotency: bool = True
    search: bool = True

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        base = value.strip().rstrip("/")
        parts = urlsplit(base)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"must be an http:// or https:// URL, got {value!r}")
        return base if base.endswith("/v0.4") else base + "/v0.4"


class IonQDriver(Driver):
    """One backend of an IonQ-compatible API, reached with the site's key."""

    #: IonQ's API takes OpenQASM 3 programs as text (``ionq.qasm3.v1``): they travel as submitted.
    job_types = frozenset({"ionq.circuit.v1", "ionq.multi-circuit.v1", "ionq.qasm3.v1"})

    def __init__(self, config: DriverConfig) -> None:
        super().__init__(config)
        try:
            self.options = IonQOptions.model_validate(dict(config.options))
        except ValidationError as exc:
            problems = "; ".join(
                f"options.{'.'.join(str(p) for p in e['loc']) or '?'}: "
                + ("unknown option" if e["type"] == "extra_forbidden" else str(e["msg"]))
                for e in exc.errors(include_url=False)
            )
            raise ConfigError(f"backend {config.backend!r}: {problems}") from None
        if not config.credential:
            raise ConfigError(f"backend {config.backend!r}: the ionq driver needs a credential (env or file)")
        self.idempotent_submit = self.options.idempotency
        parts = urlsplit(self.options.url)
        self._root = f"{parts.scheme}://{parts.netloc}"
        self._prefix = parts.path  # "/v0.4", or "/some/prefix/v0.4"
        self._push = self.options.push != "off"
        self._searchable = True
        self._client = httpx.Client(
            base_url=self._root,
            timeout=self.options.timeout,
            headers={"Authorization": f"apiKey {config.credential}", "User-Agent": "qumulus-ionq-driver"},
        )

    # the interface ---------------------------------------------------------------------------

    def submit(self, job: ProviderJob) -> str:
        headers = {"Idempotency-Key": job.token} if self.options.idempotency else {}
        body = self._json(
            "POST", "/jobs", json=wire.submit_body(job, self.options.target), headers=headers, refuse=True
        )
        if not isinstance(body, Mapping) or not isinstance(body.get("id"), str):
            raise Transient("provider answered POST /jobs without a job id")
        return body["id"]

    def poll(self, provider_job_id: str) -> JobState:
        return self._state(self._job(provider_job_id))

    @property
    def pushes(self) -> bool:
        return self._push

    def wait(self, provider_job_id: str, *, known: str | None, timeout: float) -> JobState:
        if not self._push:
            return self.poll(provider_job_id)
        body = self._next_event(provider_job_id, known, timeout)
        if body is None:  # no push here after all, or the stream ended: one plain read
            return self.poll(provider_job_id)
        return self._state(body)

    def cancel(self, provider_job_id: str) -> None:
        try:
            self._json("PUT", f"/jobs/{provider_job_id}/status/cancel", refuse=True)
        except (UnknownJob, Rejected):
            return  # unknown there, or already final (409): nothing left to cancel

    def characterization(self) -> DeviceCharacterization | None:
        target = self.options.target
        try:
            body = self._json("GET", f"/backends/{target}/characterizations", params={"limit": 1})
            items = body.get("characterizations") if isinstance(body, Mapping) else None
        except UnknownJob:
            items = None
        if not items:
            try:  # the v0.3-style path (IonQ's own package uses it)
                current = self._json("GET", f"/characterizations/backends/{target}/current")
            except UnknownJob:
                return None
            items = [current] if isinstance(current, Mapping) else []
        if not items or not isinstance(items[0], Mapping):
            return None
        return wire.characterization_of(items[0], qubits=0)

    def status(self) -> DeviceStatus:
        try:
            body = self._json("GET", f"/backends/{self.options.target}")
        except UnknownJob:
            return DeviceStatus("retired", f"the provider has no backend {self.options.target!r}")
        if not isinstance(body, Mapping):
            raise Transient("provider answered GET /backends/{name} with no object")
        return wire.device_status(body)

    def find(self, token: str) -> str | None:
        if not self.options.search or not self._searchable:
            return None
        try:
            body = self._json("GET", "/jobs", params={"idempotency_key": token, "limit": 100}, refuse=True)
        except (UnknownJob, Rejected):
            self._searchable = False  # this provider cannot list jobs so: rely on idempotency alone
            return None
        jobs = body.get("jobs") if isinstance(body, Mapping) else None
        for item in jobs or []:
            metadata = item.get("metadata") if isinstance(item, Mapping) else None
            if isinstance(metadata, Mapping) and metadata.get(wire.TOKEN_KEY) == token:
                return str(item["id"])
        return None

    def close(self) -> None:
        self._client.close()

    # reading a job ---------------------------------------------------------------------------

    def _job(self, provider_job_id: str) -> Mapping[str, Any]:
        body = self._json("GET", f"/jobs/{provider_job_id}")
        if not isinstance(body, Mapping):
            raise Transient(f"provider answered GET /jobs/{provider_job_id} with no object")
        return body

    def _state(self, body: Mapping[str, Any]) -> JobState:
        status, word = wire.status_of(body)
        if status not in ("completed", "failed", "canceled"):
            return JobState(status=status, provider_status=word)
        cost, currency = wire.cost_of(body)
        job_id = str(body.get("id"))
        if cost is None and status == "completed":
            cost, currency = self._cost(job_id)
        state: dict[str, Any] = {
            "status": status,
            "provider_status": word,
            "usage_seconds": wire.usage_of(body),
            "cost": cost,
            "currency": currency,
        }
        if status == "failed":
            state["failure"] = wire.failure_of(body)
        elif word == "deleted":
            state.update(
                status="failed",
                failure=Failure("QuantumComputerError", "provider: the job was deleted there"),
            )
        if status == "completed" and not body.get("dry_run"):
            try:
                state["results"], state["artifacts"] = self._results(body)
            except ValueError as exc:
                raise Transient(f"provider results for {job_id} unreadable: {exc}") from None
        return JobState(**state)

    def _cost(self, job_id: str) -> tuple[Any, str | None]:
        try:
            body = self._json("GET", f"/jobs/{job_id}/cost")
        except (UnknownJob, Rejected):
            return None, None
        return wire.cost_of(body) if isinstance(body, Mapping) else (None, None)

    def _results(self, body: Mapping[str, Any]) -> tuple[list[CircuitResult], dict[str, Any]]:
        links = body.get("results") or {}
        if not isinstance(links, Mapping):
            raise ValueError("results is not an object")
        children = body.get("child_job_ids") or body.get("children") or []
        stats = body.get("stats") if isinstance(body.get("stats"), Mapping) else {}
        qubits = int(stats.get("qubits") or 0) if stats else 0
        raw = self._link(body, links, "probabilities")
        if raw is None:
            raise ValueError("a completed job without results.probabilities")
        artifacts = self._artifacts(body, links)
        if children:
            out = []
            for child_id, dist in zip(children, wire.distributions(raw, list(children)), strict=False):
                child = self._job(str(child_id))
                child_links = child.get("results") or {}
                shots = self._link(child, child_links, "shots")
                child_stats = child.get("stats") if isinstance(child.get("stats"), Mapping) else {}
                out.append(
                    CircuitResult(
                        qubits=int((child_stats or {}).get("qubits") or qubits),
                        probabilities=dist,
                        shots=wire.shots_of(shots) if shots is not None else None,
                    )
                )
            return out, artifacts
        shots = self._link(body, links, "shots")
        histogram = self._link(body, links, "histogram")
        return [
            CircuitResult(
                qubits=qubits,
                probabilities=wire.distribution(raw),
                shots=wire.shots_of(shots) if shots is not None else None,
                histogram=wire.histogram_of(histogram) if histogram is not None else None,
            )
        ], artifacts

    def _link(self, body: Mapping[str, Any], links: Mapping[str, Any], kind: str) -> Any:
        entry = links.get(kind)
        url = entry.get("url") if isinstance(entry, Mapping) else None
        if not isinstance(url, str):
            return None
        return self._json("GET", self._resolve(url, str(body.get("id"))))

    def _artifacts(self, body: Mapping[str, Any], links: Mapping[str, Any]) -> dict[str, Any]:
        """The job's artifacts by format, fetched by id (``GET /jobs/{id}/artifacts/{artifact id}``):
        the descriptors listed in ``results`` (``{"<format>": {"id": …}}``, IonQ's newer result form;
        entries with a ``url`` are results, read above) and the compiled circuits under
        ``output.compilation.compiled_circuits``. One the provider lists but no longer has (404) or
        serves as something other than JSON is left out: it must not hold the job's completion."""
        entries: list[tuple[str, Mapping[str, Any]]] = [
            (str(name), entry)
            for name, entry in links.items()
            if isinstance(entry, Mapping) and isinstance(entry.get("id"), str) and "url" not in entry
        ]
        output = body.get("output")
        compilation = output.get("compilation") if isinstance(output, Mapping) else None
        compiled = compilation.get("compiled_circuits") if isinstance(compilation, Mapping) else None
        if isinstance(compiled, Mapping):
            entries += [
                (str(name), entry)
                for name, entry in compiled.items()
                if isinstance(entry, Mapping) and isinstance(entry.get("id"), str)
            ]
        found: dict[str, Any] = {}
        for name, entry in entries:
            fmt = entry.get("format") if isinstance(entry.get("format"), str) else name
            try:
                found[fmt] = self._json("GET", f"/jobs/{body.get('id')}/artifacts/{entry['id']}")
            except (UnknownJob, _NotJSON):
                continue
        return found

    def _resolve(self, url: str, job_id: str) -> str:
        """A result URL as IonQ gives it (root-relative ``/v0.4/…``) → a path under our root."""
        if url.startswith(("http://", "https://")):
            parts = urlsplit(url)
            return parts.path + (f"?{parts.query}" if parts.query else "")
        if url.startswith("/"):
            return url if url.startswith(self._prefix + "/") else self._prefix + url
        return f"{self._prefix}/jobs/{job_id}/{url}"

    # push -----------------------------------------------------------------------------------

    def _next_event(
        self, provider_job_id: str, known: str | None, timeout: float
    ) -> Mapping[str, Any] | None:
        """The job body of the first status event that differs from ``known`` (or is final), from
        ``GET /jobs/{id}/events`` (Qumulus's Server-Sent Events). None when the stream ended or
        timed out without one; a provider without the endpoint turns push off for this driver."""
        path = f"{self._prefix}/jobs/{provider_job_id}/events"
        read = httpx.Timeout(self.options.timeout, read=timeout + 20.0)
        try:
            with self._client.stream(
                "GET",
                path,
                params={"timeout": f"{timeout:g}"},
                timeout=read,
                headers={"Accept": "text/event-stream"},
            ) as response:
                if response.status_code in (404, 405, 406, 501):
                    response.read()
                    self._no_push()
                    return None
                if response.status_code >= 400:
                    response.read()
                    self._raise(response, refuse=False)
                for event, data in _sse(response.iter_lines()):
                    if event != "status":
                        continue
                    body = json.loads(data)
                    if not isinstance(body, Mapping):
                        continue
                    status, _ = wire.status_of(body)
                    if status != known or status in ("completed", "failed", "canceled"):
                        return body
        except httpx.TimeoutException as exc:
            raise Transient(f"provider event stream timed out: {exc!r}") from None
        except httpx.TransportError as exc:
            raise Transient(f"provider unreachable: {exc!r}") from None
        except ValueError:
            return None  # a malformed event: read the job instead
        return None

    def _no_push(self) -> None:
        if self.options.push == "auto":
            self._push = False

    # HTTP ------------------------------------------------------------------------------------

    def _json(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        refuse: bool = False,
    ) -> Any:
        """One request → its JSON. ``refuse``: a 4xx is the provider refusing the job (Rejected)."""
        url = path if path.startswith(self._prefix + "/") else self._prefix + path
        try:
            response = self._client.request(method, url, params=params, json=json, headers=headers)
        except httpx.TimeoutException as exc:
            raise Transient(f"{method} {path}: provider timed out ({exc.__class__.__name__})") from None
        except httpx.TransportError as exc:
            raise Transient(f"{method} {path}: provider unreachable ({exc.__class__.__name__})") from None
        if response.status_code >= 400:
            self._raise(response, refuse=refuse)
        if len(response.content) > MAX_BODY_BYTES:
            raise Transient(f"{method} {path}: answer larger than {MAX_BODY_BYTES} bytes")
        try:
            return response.json() if response.content else None
        except ValueError:
            raise _NotJSON(f"{method} {path}: provider answered with something that is not JSON") from None

    def _raise(self, response: httpx.Response, *, refuse: bool) -> None:
        code = response.status_code
        request = response.request
        what = f"{request.method} {request.url.path}"
        if code in RETRY_STATUS or (code == 409 and request.method == "GET"):
            raise Transient(f"{what}: provider answered {code}", retry_after=retry_after(response))
        if code == 404:
            raise UnknownJob(f"{what}: provider answered 404")
        try:
            body = response.json()
        except ValueError:
            body = None
        failure = wire.http_failure(code, body, response.text)
        if refuse:
            raise Rejected(failure)
        # A refusal of a read (a key revoked after the job was submitted, say) is waited out: the
        # job exists at the provider and must not be given up on; the operator sees the errors.
        raise Transient(f"{what}: provider answered {code}: {failure.message}")


class _NotJSON(Transient):
    """An answer that is not JSON: transient for a job or its results (a proxy's error page), but an
    artifact served so (IonQ may serve one as bytes) is skipped rather than waited for."""


def retry_after(response: httpx.Response) -> float | None:
    """``Retry-After`` as seconds (a number or an HTTP date)."""
    raw = response.headers.get("retry-after")
    if not raw:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _sse(lines: Iterator[str]) -> Iterator[tuple[str, str]]:
    """(event, data) pairs of a Server-Sent Events stream (comments and ids skipped)."""
    event, data = "message", []
    for line in lines:
        if line == "":
            if data:
                yield event, "\n".join(data)
            event, data = "message", []
        elif line.startswith(":"):
            continue
        elif line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].lstrip())
    if data:
        yield event, "\n".join(data)
