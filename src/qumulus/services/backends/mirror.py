"""The provider's device, mirrored into the local backend: status (with history) and characterization
(a new snapshot each time the provider publishes one; old ones kept).

A thread asks each driver-served backend's driver for ``status()`` and ``characterization()`` every
``timing.mirror_every`` seconds. What it writes, and when (:func:`mirrored_status`, pure):

* the provider's status mapped to the platform's (``available`` → operational, ``unavailable`` →
  major outage, ``offline``/``calibrating`` → maintenance, ...); a provider that cannot be reached
  twice in a row is a major outage ("provider: unreachable"), and one whose driver cannot be built
  (credential missing, say) too. Major outage and maintenance hold the local queue
  (``runtime.availability``): jobs wait here instead of piling up at a provider that cannot take them,
  and start when it is back;
* only on a change, as a ``BackendStatusEvent`` (the status page's history), and never over a
  status an administrator set: the mirror owns the status while it is ``operational`` or carries the
  mirror's ``provider:`` message, so a local maintenance or an administrator's outage stands until
  the administrator lifts it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence

from sqlalchemy import select

from qumulus.drivers import DeviceCharacterization, DeviceStatus, Transient
from qumulus.drivers.fleet import Fleet
from qumulus.runtime import availability
from qumulus.services.backends import drivers
from qumulus.services.backends.drivers import record_status
from qumulus.services.context import Context
from qumulus.store.models import Backend, Characterization
from qumulus.timeutil import iso, utcnow

log = logging.getLogger("qumulus.mirror")

PREFIX = "provider: "
#: Failed status reads in a row before the backend is shown unreachable (one may be a blip).
UNREACHABLE_AFTER = 2
#: How often declarations are re-read (the admin API may add a backend in another process).
RELOAD_SECONDS = 5.0


def mirrored_status(
    current: tuple[str, str], observed: DeviceStatus | None, failures: int, error: str = ""
) -> tuple[str, str] | None:
    """The (status, message) to write now, or None to leave the backend as it is.

    ``observed`` is the provider's status (None when it could not be read: ``failures`` in a row,
    ``error`` the last reason).
    """
    status, message = current
    if status == "retired" and not message.startswith(PREFIX):
        return None  # retired here (undeclared, or by an administrator): final
    ours = status == "operational" or message.startswith(PREFIX)
    if not ours:
        return None  # an administrator's status stands
    if observed is None:
        if failures < UNREACHABLE_AFTER:
            return None
        wanted = ("major_outage", f"{PREFIX}unreachable ({error})"[:2000])
    elif observed.status == "operational":
        wanted = ("operational", "")
    else:
        detail = observed.message or observed.provider_status or observed.status
        wanted = (observed.status, f"{PREFIX}{detail}"[:2000])
    return None if wanted == current else wanted


class Mirror:
    """The mirroring thread of one process (the one that runs the drivers)."""

    def __init__(
        self,
        platform: Context,
        fleet: Fleet,
        *,
        on_change: Callable[[], None] | None = None,
        only: Sequence[str] | None = None,
    ) -> None:
        self.platform = platform
        self.fleet = fleet
        #: Called after a status or declaration change (the driver pool looks at its queues again).
        self.on_change = on_change
        self.only = set(only) if only is not None else None
        self._failures: dict[str, int] = {}
        self._due: dict[str, float] = {}
        self._reloaded = time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="qumulus-mirror", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def reload(self) -> bool:
        """Pick up declarations made or changed since (the admin API, in this or another process):
        build, rebuild or drop drivers. Returns whether anything changed."""
        with self.platform.db.read() as session:
            decls = {d.name: d for d in drivers.load(session) if self.only is None or d.name in self.only}
        changed = False
        for name, decl in decls.items():
            if self.fleet.decls.get(name) != decl:
                self.fleet.add(decl)
                changed = True
        for name in set(self.fleet.names) - set(decls):
            self.fleet.remove(name)
            changed = True
        return changed

    def _run(self) -> None:
        while not self._stop.is_set():
            now = time.monotonic()
            if now - self._reloaded >= RELOAD_SECONDS:
                self._reloaded = now
                try:
                    if self.reload() and self.on_change is not None:
                        self.on_change()
                except Exception:
                    log.exception("reloading backend declarations failed")
            for name in self.fleet.names:
                if self._due.get(name, 0.0) <= now:
                    decl = self.fleet.decls.get(name)
                    self._due[name] = now + (decl.timing.mirror_every if decl else 60.0)
                    try:
                        self.mirror(name)
                    except Exception:  # the thread must survive database hiccups
                        log.exception("mirroring %s failed", name)
            # nothing declared: only the declarations' reload is due, every RELOAD_SECONDS
            self._stop.wait(0.25 if self.fleet.names else RELOAD_SECONDS)

    def mirror(self, name: str) -> None:
        """One look at the provider for ``name``: status, then characterization."""
        driver = self.fleet.get(name)
        observed: DeviceStatus | None = None
        error = self.fleet.errors.get(name, "")
        snapshot: DeviceCharacterization | None = None
        if driver is not None:
            try:
                observed = driver.status()
                self._failures[name] = 0
            except Transient as exc:
                self._failures[name] = self._failures.get(name, 0) + 1
                error = str(exc)
            if observed is not None and observed.status not in ("retired", "major_outage"):
                try:
                    snapshot = driver.characterization()
                except Transient:
                    snapshot = None
        else:
            self._failures[name] = UNREACHABLE_AFTER  # no driver here: its jobs cannot go anywhere
            error = f"driver not available: {error}"
        changed = self._write(name, observed, self._failures.get(name, 0), error, snapshot)
        if changed and self.on_change is not None:
            self.on_change()

    def _write(
        self,
        name: str,
        observed: DeviceStatus | None,
        failures: int,
        error: str,
        snapshot: DeviceCharacterization | None,
    ) -> bool:
        changed = False
        with self.platform.db.write() as session:
            backend = session.scalar(select(Backend).where(Backend.name == name).with_for_update())
            if backend is None:
                return False
            wanted = mirrored_status((backend.status, backend.status_message), observed, failures, error)
            if wanted is not None:
                record_status(session, backend, *wanted)
                changed = True
            if snapshot is not None and self._new_snapshot(session, backend, snapshot):
                changed = True
            if observed is not None and observed.average_queue_ms is not None:
                backend.average_queue_time_ms = observed.average_queue_ms
        if changed:
            self.platform.backends.invalidate()
            availability.invalidate()
        return changed

    @staticmethod
    def _new_snapshot(session, backend: Backend, snapshot: DeviceCharacterization) -> bool:  # type: ignore[no-untyped-def]
        """Insert the provider's snapshot unless it is the one already current here."""
        source = {"id": snapshot.provider_id, "date": iso(snapshot.date)}
        current = (
            session.get(Characterization, backend.characterization_id)
            if backend.characterization_id
            else None
        )
        if current is not None and (current.data or {}).get("provider") == source:
            return False
        row = Characterization(
            backend=backend.name,
            date=snapshot.date or utcnow(),
            qubits=snapshot.qubits or backend.qubits,
            data={**snapshot.data, "provider": source},
        )
        session.add(row)
        session.flush()
        backend.characterization_id = row.id
        return True
