"""HTTP to one Qumulus server: authentication, error mapping, bounded retries.

Retry rules (survey §8: clients that retry POST without a key create duplicate jobs; others retry
forever and hang on a dead server):

* 429 (when the server says ``Retry-After``), 502, 503, 504 and connection errors are retried with
  exponential back-off and jitter, honouring ``Retry-After``, for at most ``max_retry_seconds`` in
  total: never forever;
* a request that is not idempotent (a POST without an ``Idempotency-Key``) is never retried after it
  may have reached the server.
"""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import httpx

from qumulus._version import __version__
from qumulus.client.errors import ApiError, ConnectionFailedError

RETRY_STATUS = frozenset({429, 502, 503, 504})
IDEMPOTENT_METHODS = frozenset({"GET", "PUT", "DELETE", "PATCH", "HEAD"})


def api_base(url: str) -> str:
    """``http://host:8000`` or ``http://host:8000/v0.4`` → ``http://host:8000/v0.4``."""
    base = url.strip().rstrip("/")
    if not base.startswith(("http://", "https://")):
        raise ValueError(f"url: must start with http:// or https://, got {url!r}")
    return base if base.endswith("/v0.4") else base + "/v0.4"


class Transport:
    """One connection pool to one server, authenticated with one key."""

    def __init__(
        self,
        url: str,
        token: str,
        *,
        timeout: float = 30.0,
        max_retry_seconds: float = 60.0,
        backoff: float = 0.2,
        max_backoff: float = 10.0,
    ) -> None:
        self.base = api_base(url)
        self.max_retry_seconds = max_retry_seconds
        self.backoff = backoff
        self.max_backoff = max_backoff
        self._headers = {"Authorization": f"apiKey {token}", "User-Agent": f"qumulus-sdk/{__version__}"}
        self._timeout = timeout
        self._client = httpx.Client(base_url=self.base, timeout=timeout, headers=self._headers)

    @property
    def server(self) -> str:
        """The server's root URL (without ``/v0.4``)."""
        return self.base[: -len("/v0.4")]

    def close(self) -> None:
        self._client.close()

    def path(self, url_or_path: str) -> str:
        """A result URL as the server gives it (``/v0.4/jobs/...``) → a path under the base."""
        return url_or_path[len("/v0.4") :] if url_or_path.startswith("/v0.4/") else url_or_path

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Any = None,
        json: Any = None,
        headers: dict[str, str] | None = None,
        timeout: float | None = None,
        retry: bool | None = None,
    ) -> Any:
        """The decoded JSON answer; :class:`ApiError` for an error status.

        ``retry`` defaults to "safe to repeat": idempotent methods, or a POST with an Idempotency-Key.
        """
        method = method.upper()
        if retry is None:
            retry = method in IDEMPOTENT_METHODS or bool(headers and "Idempotency-Key" in headers)
        deadline = time.monotonic() + self.max_retry_seconds
        attempt = 0
        while True:
            attempt += 1
            try:
                response = self._client.request(
                    method,
                    self.path(path),
                    params=params,
                    json=json,
                    headers=headers,
                    timeout=timeout if timeout is not None else httpx.USE_CLIENT_DEFAULT,
                )
            except httpx.TransportError as exc:
                if not retry or not _sent_safely(exc, method, headers) or time.monotonic() >= deadline:
                    raise ConnectionFailedError(f"{method} {self.base}{path}: {exc!r}") from exc
                self._sleep(attempt, None, deadline)
                continue
            wait = _retry_after(response)
            # A 429 without Retry-After is a limit that does not clear by waiting a moment (the
            # project's queued-job cap): raise it now, naming the limit, rather than spin for a minute.
            retriable = response.status_code in RETRY_STATUS and (
                response.status_code != 429 or wait is not None
            )
            if retriable and retry and time.monotonic() < deadline:
                self._sleep(attempt, wait, deadline)
                continue
            if response.status_code >= 400:
                raise _api_error(response)
            if not response.content:
                return None
            return response.json()

    @contextmanager
    def stream(
        self, path: str, *, params: Any = None, timeout: float | None = None
    ) -> Iterator[httpx.Response]:
        """A streamed GET (Server-Sent Events); error statuses raise :class:`ApiError` first."""
        try:
            with self._client.stream(
                "GET",
                self.path(path),
                params=params,
                headers={"Accept": "text/event-stream"},
                timeout=timeout if timeout is not None else httpx.USE_CLIENT_DEFAULT,
            ) as response:
                if response.status_code >= 400:
                    response.read()
                    raise _api_error(response)
                yield response
        except httpx.TransportError as exc:
            raise ConnectionFailedError(f"GET {self.base}{path}: {exc!r}") from exc

    @asynccontextmanager
    async def async_stream(
        self, path: str, *, params: Any = None, timeout: float | None = None
    ) -> AsyncIterator[httpx.Response]:
        """:meth:`stream` for ``asyncio`` (its own connection: an event loop owns its sockets)."""
        try:
            async with (
                httpx.AsyncClient(
                    base_url=self.base, headers=self._headers, timeout=timeout or self._timeout
                ) as client,
                client.stream(
                    "GET", self.path(path), params=params, headers={"Accept": "text/event-stream"}
                ) as response,
            ):
                if response.status_code >= 400:
                    await response.aread()
                    raise _api_error(response)
                yield response
        except httpx.TransportError as exc:
            raise ConnectionFailedError(f"GET {self.base}{path}: {exc!r}") from exc

    def _sleep(self, attempt: int, retry_after: float | None, deadline: float) -> None:
        delay = min(self.max_backoff, self.backoff * 2 ** (attempt - 1)) * (0.5 + random.random() / 2)
        if retry_after is not None:
            delay = max(delay, retry_after)
        time.sleep(max(0.0, min(delay, deadline - time.monotonic())))


def _sent_safely(exc: httpx.TransportError, method: str, headers: dict[str, str] | None) -> bool:
    """Whether repeating is harmless: the request never left (connect errors), or it is idempotent."""
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout):
        return True
    return method in IDEMPOTENT_METHODS or bool(headers and "Idempotency-Key" in headers)


def _retry_after(response: httpx.Response) -> float | None:
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


def _api_error(response: httpx.Response) -> ApiError:
    try:
        body = response.json()
    except ValueError:
        body = None
    message = response.text[:500] or response.reason_phrase
    error = None
    field = None
    if isinstance(body, dict):
        message = str(body.get("message") or message)
        error = body.get("error") if isinstance(body.get("error"), str) else None
        keys = (
            (body.get("validation") or {}).get("keys") if isinstance(body.get("validation"), dict) else None
        )
        field = keys[0] if isinstance(keys, list) and keys else None
    return ApiError(
        response.status_code,
        message,
        error=error,
        field=field,
        body=body,
        retry_after=_retry_after(response),
    )
