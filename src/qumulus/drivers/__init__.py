"""Drivers: real devices behind Qumulus (docs/drivers.md).

A backend declared with a ``driver`` is not simulated here: local policy (admission, budgets,
allocations, fair share, the outstanding limit) decides *when* a job goes, and the driver moves it to
the provider and brings back its status, results, usage and cost. Drivers are found through the
``qumulus.drivers`` entry-point group (``registry``); backends are declared in TOML or through the
admin API (``config``); ``forward`` holds the submit-at-most-once / re-attach / follow procedure.

Layering: below ``runtime`` (which runs drivers) and ``services``; it may import the store models,
backends and circuits, never services or the API.
"""

from qumulus.drivers.base import (
    FINAL,
    CircuitResult,
    ConfigError,
    DeviceCharacterization,
    DeviceStatus,
    Driver,
    DriverConfig,
    DriverError,
    Failure,
    JobState,
    ProviderJob,
    Rejected,
    Transient,
    UnknownJob,
)

__all__ = [
    "FINAL",
    "CircuitResult",
    "ConfigError",
    "DeviceCharacterization",
    "DeviceStatus",
    "Driver",
    "DriverConfig",
    "DriverError",
    "Failure",
    "JobState",
    "ProviderJob",
    "Rejected",
    "Transient",
    "UnknownJob",
]
