"""Finding drivers: the ``qumulus.drivers`` entry-point group.

A driver package declares, in its own ``pyproject.toml``::

    [project.entry-points."qumulus.drivers"]
    mylab = "mylab_qumulus.driver:MyLabDriver"

and once it is installed next to Qumulus, a backend with ``driver = "mylab"`` is served by it, with
no change to Qumulus. The built-in ``ionq`` driver is registered the same way (Qumulus's own
``pyproject.toml``); it is also known by name here so that a source checkout whose installed
metadata predates it still finds it.
"""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points
from typing import Any

from qumulus.drivers.base import ConfigError, Driver, DriverConfig

GROUP = "qumulus.drivers"
_BUILTIN = {"ionq": "qumulus.drivers.ionq:IonQDriver"}


def installed() -> dict[str, str]:
    """Driver name → ``module:attribute``, for every installed driver."""
    found = dict(_BUILTIN)
    for ep in entry_points(group=GROUP):
        found[ep.name] = ep.value
    return found


def driver_class(name: str) -> type[Driver]:
    """The class registered as ``name``; :class:`ConfigError` if none is, or it is not a Driver."""
    target = installed().get(name)
    if target is None:
        names = ", ".join(sorted(installed())) or "none"
        raise ConfigError(f"driver: no driver named {name!r} is installed (installed: {names})")
    module_name, _, attribute = target.partition(":")
    try:
        obj: Any = importlib.import_module(module_name)
        for part in attribute.split(".") if attribute else []:
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"driver: {name!r} is registered as {target} but cannot be loaded: {exc}") from None
    if not (isinstance(obj, type) and issubclass(obj, Driver)):
        raise ConfigError(f"driver: {name!r} ({target}) is not a subclass of qumulus.drivers.Driver")
    return obj


def build(name: str, config: DriverConfig) -> Driver:
    """A driver instance for one backend; its constructor checks the options (ConfigError)."""
    return driver_class(name)(config)
