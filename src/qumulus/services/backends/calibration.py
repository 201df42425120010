"""Recalibration: a new characterization snapshot per emulated QPU, history kept.

:func:`recalibrate` drifts each QPU's *current* snapshot (:func:`qumulus.backends.drift.drift`,
bounded around the catalog's published medians), inserts it as a new ``Characterization`` row and
points the backend at it — one transaction per backend. Old snapshots stay: every client's history
path (``/backends/{b}/characterizations``, the ionq package's and cirq's) lists them, and a job's
emulation uses the snapshot current when it was claimed (workers re-read within 5 s).

Run by ``qumulus backends recalibrate`` (audited as ``backend.recalibrate``) or periodically by the
embedded server when ``QUMULUS_RECALIBRATE_SECONDS`` > 0 (:class:`Recalibrator`). With several
processes each skips a backend whose snapshot is younger than ``min_age``, so a fleet of servers
recalibrates about once per period, not once per process.

The seed is the backend's name and its number of snapshots: a fresh install recalibrated N times
always shows the same history (reproducible tests and benches).
"""

from __future__ import annotations

import logging
import threading
import zlib
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import func, select

from qumulus.auth.permissions import Action, Actor
from qumulus.auth.principal import Principal
from qumulus.backends.catalog import BY_NAME, resolve_backend_name
from qumulus.backends.drift import drift
from qumulus.errors import InvalidRequest, NotFound
from qumulus.services.context import Context
from qumulus.services.tenancy import access, audit
from qumulus.store.models import Backend, Characterization
from qumulus.timeutil import utcnow

log = logging.getLogger(__name__)


def recalibrate(
    platform: Context,
    principal: Principal | None = None,
    *,
    backends: Sequence[str] | None = None,
    min_age: timedelta | None = None,
    now: datetime | None = None,
) -> list[Characterization]:
    """Write a drifted snapshot for each emulated QPU (or those named); returns the new snapshots.

    ``principal`` (an administrator) is required and audited for a manual run; the server's own
    timer passes None. Retired QPUs and simulators are skipped; naming one is a 400.
    """
    now = now or utcnow()
    names = [resolve_backend_name(n) for n in backends] if backends else None
    made: list[Characterization] = []
    with platform.db.read() as session:
        if principal is not None:
            access.require(
                Actor(scopes=principal.scopes, is_admin=access.is_admin(session, principal)),
                Action.PLATFORM_MANAGE,
            )
        rows = {b.name: b for b in session.scalars(select(Backend))}
    for name in names or sorted(rows):
        backend = rows.get(name)
        if backend is None:
            raise NotFound(f"Backend {name} not found.")
        spec = BY_NAME.get(name)
        if backend.kind != "qpu" or spec is None or not spec.medians or backend.status == "retired":
            if names:
                raise InvalidRequest(f"backends: {name} is not an emulated QPU in service", field="backends")
            continue
        row = _recalibrate_one(platform, principal, name, spec.medians, min_age, now)
        if row is not None:
            made.append(row)
    if made:
        platform.backends.invalidate()
    return made


def _recalibrate_one(
    platform: Context,
    principal: Principal | None,
    name: str,
    medians: dict[str, float],
    min_age: timedelta | None,
    now: datetime,
) -> Characterization | None:
    with platform.db.write() as session:
        backend = session.scalar(select(Backend).where(Backend.name == name).with_for_update())
        if backend is None:  # pragma: no cover - deleted meanwhile
            return None
        current = (
            session.get(Characterization, backend.characterization_id)
            if backend.characterization_id
            else None
        )
        if current is not None and min_age is not None and now - current.date < min_age:
            return None  # another process recalibrated it recently
        base = (
            current.data
            if current is not None and current.data.get("qubit")
            else BY_NAME[name].characterization()
        )
        count = session.scalar(
            select(func.count()).select_from(Characterization).where(Characterization.backend == name)
        )
        seed = zlib.crc32(f"{name}:{count or 0}".encode())
        row = Characterization(backend=name, date=now, qubits=backend.qubits, data=drift(base, medians, seed))
        session.add(row)
        session.flush()
        backend.characterization_id = row.id
        if principal is not None:
            audit.record(
                session,
                principal,
                "backend.recalibrate",
                target_type="backend",
                target_id=name,
                organization_id=None,
                details={"characterization_id": row.id, "previous": current.id if current else None},
            )
        session.expunge(row)
        return row


class Recalibrator:
    """A daemon thread that recalibrates every ``interval`` seconds (embedded server)."""

    def __init__(self, platform: Context, interval: float) -> None:
        if interval <= 0:
            raise ValueError("the recalibration interval must be positive")
        self.platform = platform
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="qumulus-recalibrate", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        # Slightly less than the interval: a timer that fires a little early must not skip a period.
        min_age = timedelta(seconds=self.interval * 0.9)
        while not self._stop.wait(self.interval):
            try:
                made = recalibrate(self.platform, min_age=min_age)
                log.info("recalibrated %d backends", len(made))
            except Exception:  # the thread must survive database hiccups
                log.exception("recalibration failed")
