"""Request dependencies: the platform, the authenticated principal, the client's preferences."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from qumulus.auth.principal import Principal
from qumulus.platform import Platform


def platform_of(request: Request) -> Platform:
    return request.app.state.platform


def _authorization(request: Request) -> str | None:
    """The ``Authorization`` header, read straight from the ASGI scope (names arrive lowercased):
    building Starlette's ``Headers`` view for one lookup cost more than the rest of authentication."""
    for name, value in request.scope["headers"]:
        if name == b"authorization":
            return value.decode("latin-1")
    return None


async def principal(request: Request) -> Principal:
    """The authenticated caller, after its key's rate limit (every authenticated route comes here)."""
    authenticator = request.app.state.authenticator
    header = _authorization(request)
    found = authenticator.authenticate_cached(header)  # the common case: no database, no thread hop
    if found is None:
        found = await run_in_threadpool(authenticator.authenticate, header)
    request.app.state.rate_limiter.check(found.api_key_id)  # in memory, about a microsecond
    return found
