"""Serving the app: uvicorn with read timeouts, and one guard around every request.

**Read timeouts** (a connection that trickles bytes must not hold a socket forever):

* *headers*: a request's headers must arrive within ``QUMULUS_HEADER_TIMEOUT`` seconds (default 10)
  of its first byte, or of the connection opening; else the connection is closed. uvicorn has no
  such option, so :class:`HeaderTimeoutHttpTools` / :class:`HeaderTimeoutH11` (its two HTTP
  protocols) arm a timer when a request begins and cancel it when its headers are complete;
* *body*: once its headers are in, a request's whole body must arrive within
  ``QUMULUS_BODY_TIMEOUT`` seconds (default 60); else a 408 (:class:`RequestGuard`);
* *idle keep-alive*: uvicorn's ``timeout_keep_alive`` (5 s).

**The guard** (:class:`RequestGuard`, the innermost middleware over the routes) turns an unexpected
exception into one logged traceback and a 500 that says ``Connection: close``, so a keep-alive
client opens a new connection instead of failing on the next request; nothing re-raises it for the
server to log a second time. A client that goes away mid-request is one log line, not a traceback.
"""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Any

from starlette.requests import ClientDisconnect
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from qumulus.api.errors import error_body

log = logging.getLogger("qumulus.api")

HEADER_TIMEOUT = float(os.environ.get("QUMULUS_HEADER_TIMEOUT", "10"))
BODY_TIMEOUT = float(os.environ.get("QUMULUS_BODY_TIMEOUT", "60"))
KEEP_ALIVE_TIMEOUT = 5


class BodyTimeout(Exception):
    """The request body did not arrive in time."""


class RequestGuard:
    """Body read deadline, one line per client disconnect, one traceback and a closing 500 per bug."""

    def __init__(self, app: ASGIApp, *, body_timeout: float = BODY_TIMEOUT) -> None:
        self.app = app
        self.body_timeout = body_timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.body_timeout
        state = {"body_done": False, "disconnected": False, "started": False}

        async def timed_receive() -> Message:
            if state["body_done"]:
                message = await receive()
            else:
                left = deadline - loop.time()
                try:
                    message = await asyncio.wait_for(receive(), max(left, 0.001))
                except asyncio.TimeoutError:
                    raise BodyTimeout from None
                if message["type"] != "http.request" or not message.get("more_body", False):
                    state["body_done"] = True
            if message["type"] == "http.disconnect":
                state["disconnected"] = True
            return message

        async def tracked_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                state["started"] = True
            await send(message)

        try:
            await self.app(scope, timed_receive, tracked_send)
        except BodyTimeout:
            log.info("request body not received within %gs: %s %s", self.body_timeout, *_line(scope))
            if not state["started"]:
                await _answer(scope, receive, send, 408, f"body: not received within {self.body_timeout:g} s")
        except (ClientDisconnect, ConnectionError) as exc:
            log.info("client went away during %s %s (%s)", *_line(scope), type(exc).__name__)
        except Exception:
            if state["disconnected"]:
                log.info("client went away during %s %s", *_line(scope))
                return
            log.exception("unhandled error on %s %s", *_line(scope))
            if not state["started"]:
                await _answer(
                    scope,
                    receive,
                    send,
                    500,
                    "Internal error; the request was not completed.",
                    error="Internal Server Error",
                )


def _line(scope: Scope) -> tuple[str, str]:
    return scope.get("method", "?"), scope.get("path", "?")[:200]


async def _answer(
    scope: Scope, receive: Receive, send: Send, status: int, message: str, *, error: str | None = None
) -> None:
    """An error answer that also closes the connection: what follows on it is not to be trusted."""
    response = JSONResponse(
        error_body(status, message, error=error), status_code=status, headers={"Connection": "close"}
    )
    try:
        await response(scope, receive, send)
    except Exception:  # the client is gone; nothing more to say
        log.info("could not send the %d answer to %s %s", status, *_line(scope))


def _protocols() -> dict[str, Any]:
    """uvicorn's HTTP protocol classes with a header read timeout."""
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class HeaderTimeoutH11(H11Protocol):
        _header_timer: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm()

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            import h11

            if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
                if self._header_timer is None and data:
                    self._arm()  # part of a request's headers: they must all arrive in time
            else:
                self._disarm()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def _arm(self) -> None:
            self._disarm()
            self._header_timer = self.loop.call_later(HEADER_TIMEOUT, self._expired)

        def _disarm(self) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
                self._header_timer = None

        def _expired(self) -> None:
            self._header_timer = None
            if not self.transport.is_closing():
                log.info("request headers not received within %gs; connection closed", HEADER_TIMEOUT)
                self.transport.close()

    found: dict[str, Any] = {"h11": HeaderTimeoutH11}
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
    except ImportError:  # httptools not installed: h11 serves
        return found

    class HeaderTimeoutHttpTools(HttpToolsProtocol):
        _header_timer: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm()

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self._arm()

        def on_headers_complete(self) -> None:
            self._disarm()
            super().on_headers_complete()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def on_response_complete(self) -> None:
            super().on_response_complete()
            self._disarm()  # idle between requests: uvicorn's keep-alive timeout applies

        _arm = HeaderTimeoutH11._arm
        _disarm = HeaderTimeoutH11._disarm
        _expired = HeaderTimeoutH11._expired

    found["httptools"] = HeaderTimeoutHttpTools
    return found


def config(app: Any, *, host: str, port: int, log_level: str = "warning") -> Any:
    """The uvicorn configuration Qumulus serves with: the timeouts above, access log off."""
    import uvicorn

    protocols = _protocols()
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=log_level,
        access_log=False,
        http=protocols.get("httptools", protocols["h11"]),
        timeout_keep_alive=KEEP_ALIVE_TIMEOUT,
        h11_max_incomplete_event_size=64 * 1024,  # h11: headers larger than this are refused
    )


def run(app: Any, *, host: str, port: int, log_level: str) -> None:
    """Serve ``app`` (the one way Qumulus serves HTTP: ``qumulus serve`` and ``qumulus api``)."""
    import uvicorn

    uvicorn.Server(config(app, host=host, port=port, log_level=log_level)).run()
