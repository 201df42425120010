"""Render before commit: a request that changes something commits only once its answer is built.

Services return views built inside their transactions, and the routes render them afterwards: an
answer that failed to render (a value the wire could not express, a bug in a renderer) was a 500
for a change already committed — a key stored and active although its creation "failed", and a
client that retries makes it twice. Rather than asking every service and every route to get the
order right, this middleware makes it true for every changing request in one place: it opens a
:class:`~qumulus.store.db.Unit` on the platform's database for the request, so every transaction
the services open joins it as a savepoint, and commits when the response *starts* — after the
route built its body, before a byte goes out. An exception, or a 5xx answer, rolls it all back.

Not for the job routes (``/jobs``, ``/job_sets``: submissions commit through the group committer's
own thread, and cancels must reach the workers the moment they commit) nor the console and the
drivers (calls to a provider inside a request). Caches that the services cleared inside the unit
are cleared again after the commit, so no reader fills them from the state before it.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from qumulus.services.context import Context
from qumulus.store.db import CURRENT, Unit

#: First path segments (after ``/v0.4`` or ``/v0.3``) whose changing requests run as one unit.
UNIT_SEGMENTS = frozenset({"organizations", "projects", "reservations", "sessions", "users", "backends"})
CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def applies(method: str, path: str) -> bool:
    parts = path.split("/", 3)
    return (
        method in CHANGING and len(parts) > 2 and parts[1] in ("v0.4", "v0.3") and parts[2] in UNIT_SEGMENTS
    )


class UnitOfWork:
    def __init__(
        self, app: ASGIApp, platform: Context, after_commit: tuple[Callable[[], None], ...] = ()
    ) -> None:
        self.app = app
        self.platform = platform
        #: Called after a commit (the key cache's invalidation lives on the app, not the platform).
        self.after_commit = after_commit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not applies(scope["method"], scope["path"]):
            await self.app(scope, receive, send)
            return
        unit = Unit(self.platform.db)
        token = CURRENT.set(unit)  # the thread pool copies this context: services see the unit
        ended = False

        async def send_after_commit(message: Message) -> None:
            nonlocal ended
            if message["type"] == "http.response.start" and not ended:
                ended = True
                if message["status"] >= 500:
                    await run_in_threadpool(unit.rollback)
                else:
                    wrote = unit.session is not None
                    await run_in_threadpool(unit.commit)  # a failing commit raises: nothing sent yet
                    if wrote:
                        self._caches_again()
            await send(message)

        try:
            await self.app(scope, receive, send_after_commit)
        except BaseException:
            if not ended:
                ended = True
                await run_in_threadpool(unit.rollback)
            raise
        finally:
            CURRENT.reset(token)
            if not ended:  # no response at all (a disconnect): nothing is kept
                await run_in_threadpool(unit.rollback)

    def _caches_again(self) -> None:
        platform = self.platform
        platform.admission.clear()
        platform.outbox.invalidate()
        platform.backends.invalidate()
        # Signals the services sent inside the unit reached workers before the commit: send them
        # again now that the change is visible (a status change, a reservation, a canceled job).
        platform.waker.notify()
        platform.work_canceled()
        for callback in self.after_commit:
            callback()
