"""The drivers of one process: one built driver per driver-served backend.

Built from the declarations (``config.BackendDecl``, from the TOML file or the database), with each
credential resolved here, in the process that uses it. A backend whose driver cannot be built (its
key's variable unset, a bad option, a driver package missing) is not fatal to the others: the
reason is kept in :attr:`Fleet.errors` and shown as the backend's status, and its jobs wait.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable

from qumulus.drivers import registry
from qumulus.drivers.base import ConfigError, Driver, DriverConfig
from qumulus.drivers.config import BackendDecl

log = logging.getLogger("qumulus.drivers")


class Fleet:
    def __init__(self, decls: Iterable[BackendDecl] = ()) -> None:
        self._lock = threading.Lock()
        self._drivers: dict[str, Driver] = {}
        self.decls: dict[str, BackendDecl] = {}
        #: Backend → why its driver could not be built.
        self.errors: dict[str, str] = {}
        for decl in decls:
            self.add(decl)

    def add(self, decl: BackendDecl) -> Driver | None:
        """Build (or rebuild) the driver of one backend; None, with the reason kept, if it cannot be."""
        with self._lock:
            old = self._drivers.pop(decl.name, None)
            self.decls[decl.name] = decl
            self.errors.pop(decl.name, None)
        if old is not None:
            old.close()
        try:
            credential = decl.credential.ref().resolve() if decl.credential is not None else None
            driver = registry.build(decl.driver, DriverConfig(decl.name, decl.options, credential))
        except ConfigError as exc:
            message = str(exc)
            log.error("backend %s: its driver cannot be built: %s", decl.name, message)
            with self._lock:
                self.errors[decl.name] = message
            return None
        with self._lock:
            self._drivers[decl.name] = driver
        return driver

    def remove(self, name: str) -> None:
        with self._lock:
            driver = self._drivers.pop(name, None)
            self.decls.pop(name, None)
            self.errors.pop(name, None)
        if driver is not None:
            driver.close()

    def get(self, name: str) -> Driver | None:
        with self._lock:
            return self._drivers.get(name)

    @property
    def names(self) -> list[str]:
        """Every declared backend (built or not): none of them is simulated here."""
        with self._lock:
            return sorted(self.decls)

    def close(self) -> None:
        with self._lock:
            drivers = list(self._drivers.values())
            self._drivers.clear()
        for driver in drivers:
            driver.close()
