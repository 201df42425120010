"""Backends declared by the operator: a TOML file (or the admin API), no code change.

```toml
[[backend]]
name = "upstream.aria-1"        # the local backend users submit to
driver = "ionq"                 # an entry point in the ``qumulus.drivers`` group
qubits = 25
max_outstanding = 4             # jobs at the provider at once: the release rate
billing = "upstream"            # charge what the provider reports ("contract": local rate × usage)

[backend.credential]
env = "IONQ_API_KEY"            # or: file = "/run/secrets/ionq-key" (never the key itself)

[backend.options]               # the driver's own options
url = "https://api.ionq.co/v0.4"
target = "qpu.aria-1"

[backend.contract]              # terms a new contract on this backend starts from
rate_per_second = "0.50"
allocation_seconds = 3600
period = "month"
```

Parsing is strict (unknown keys are errors: a typo must not silently drop a limit) and every error
names the backend and the field. Driver options are checked by the driver itself when it is built.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from qumulus.drivers.base import ConfigError
from qumulus.drivers.credentials import CredentialRef

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

#: Local backend names: what clients put in ``backend``. Lower case, like IonQ's.
NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,99}$")
#: Names the built-in catalog owns (the ideal simulator and the emulated QPUs).
RESERVED_PREFIXES = ("qpu.",)
RESERVED_NAMES = frozenset({"simulator", "qpu"})


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Credential(Strict):
    env: str | None = None
    file: str | None = None
    #: Refused with a message that says where keys go: a key must not sit in a config file.
    key: str | None = Field(default=None, repr=False)

    @model_validator(mode="after")
    def _one_place(self) -> Credential:
        if self.key is not None:
            raise ValueError(
                "a key may not be written in the configuration; put it in an environment variable "
                '(env = "NAME") or a file readable only by Qumulus (file = "/path")'
            )
        try:
            CredentialRef(env=self.env, file=self.file)
        except ConfigError as exc:
            raise ValueError(str(exc).removeprefix("credential: ")) from None
        return self

    def ref(self) -> CredentialRef:
        return CredentialRef(env=self.env, file=self.file)


class ContractDefaults(Strict):
    """Terms a contract on this backend starts from (the admin may change them per organization)."""

    rate_per_second: Decimal = Field(default=Decimal(0), ge=0)
    currency: str = Field(default="USD", min_length=3, max_length=8)
    allocation_seconds: float | None = Field(default=None, gt=0)
    period: Literal["month", "quarter", "year", "none"] = "month"


class Timing(Strict):
    """How the platform paces its calls to the provider (seconds)."""

    #: First poll of a new job, growing by half each unchanged poll up to ``poll_cap``.
    poll_first: float = Field(default=0.2, gt=0)
    poll_cap: float = Field(default=10.0, gt=0)
    #: Retries after a transient failure: exponential from ``retry_initial`` up to ``retry_cap``.
    retry_initial: float = Field(default=0.5, gt=0)
    retry_cap: float = Field(default=30.0, gt=0)
    #: How often the device's status and characterization are mirrored.
    mirror_every: float = Field(default=60.0, gt=0)

    @model_validator(mode="after")
    def _ordered(self) -> Timing:
        if self.poll_cap < self.poll_first:
            raise ValueError("poll_cap must be at least poll_first")
        if self.retry_cap < self.retry_initial:
            raise ValueError("retry_cap must be at least retry_initial")
        return self


class BackendDecl(Strict):
    """One backend served by a driver."""

    name: str
    driver: str = Field(min_length=1, max_length=100)
    qubits: int = Field(ge=1, le=10_000)
    kind: Literal["qpu", "simulator"] = "qpu"
    description: str = ""
    gatesets: tuple[Literal["qis", "native"], ...] = ("qis", "native")
    #: Jobs released to the provider and not final there, at most (across every worker).
    max_outstanding: int = Field(default=4, ge=1, le=10_000)
    #: ``upstream``: the local job costs what the provider reports (ledger, budget); ``contract``:
    #: the local contract's rate × the usage the provider reports.
    billing: Literal["upstream", "contract"] = "upstream"
    credential: Credential | None = None
    options: dict[str, Any] = Field(default_factory=dict)
    contract: ContractDefaults = Field(default_factory=ContractDefaults)
    timing: Timing = Field(default_factory=Timing)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not NAME.match(value):
            raise ValueError(
                "must be 1-100 characters of lower-case letters, digits, '.', '-' and '_', "
                "starting with a letter or digit"
            )
        if value in RESERVED_NAMES or value.startswith(RESERVED_PREFIXES):
            raise ValueError(
                f"{value!r} is reserved for the built-in simulator and emulated QPUs; "
                "choose another name (for example upstream.aria-1)"
            )
        return value

    @field_validator("gatesets")
    @classmethod
    def _gatesets(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError("must name at least one gateset")
        return tuple(dict.fromkeys(value))


class BackendsFile(Strict):
    backend: list[BackendDecl] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique(self) -> BackendsFile:
        seen: set[str] = set()
        for decl in self.backend:
            if decl.name in seen:
                raise ValueError(f"backend {decl.name!r} is declared twice")
            seen.add(decl.name)
        return self


def parse_backend(data: Mapping[str, Any], *, where: str = "backend") -> BackendDecl:
    """One declaration (from the admin API or CLI); :class:`ConfigError` naming the field."""
    try:
        return BackendDecl.model_validate(dict(data))
    except ValidationError as exc:
        raise ConfigError(_describe(exc, where)) from None


def parse_backends(text: str, *, source: str = "backends.toml") -> list[BackendDecl]:
    """A whole TOML file's declarations."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from None
    try:
        return BackendsFile.model_validate(data).backend
    except ValidationError as exc:
        raise ConfigError(_describe(exc, source, names=_names(data))) from None


def load_backends(path: str | Path) -> list[BackendDecl]:
    """Read and check a backends file (``QUMULUS_BACKENDS_FILE``)."""
    path = Path(path).expanduser()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the backends file: {exc.strerror or exc}") from None
    return parse_backends(text, source=str(path))


def check_drivers(decls: Iterable[BackendDecl], known: Iterable[str]) -> None:
    """Every declaration names an installed driver; the error lists the installed ones."""
    names = sorted(set(known))
    for decl in decls:
        if decl.driver not in names:
            raise ConfigError(
                f"backend {decl.name!r}: driver: no driver named {decl.driver!r} is installed "
                f"(installed: {', '.join(names) or 'none'}; drivers register under the "
                "'qumulus.drivers' entry-point group)"
            )


def _names(data: Any) -> list[str]:
    backends = data.get("backend") if isinstance(data, dict) else None
    if not isinstance(backends, list):
        return []
    return [str(b.get("name", "?")) if isinstance(b, dict) else "?" for b in backends]


def _describe(exc: ValidationError, source: str, *, names: list[str] | None = None) -> str:
    """Every error on one line each, located like ``backend[0] (upstream.aria-1).max_outstanding``."""
    lines = []
    for error in exc.errors(include_url=False):
        loc = list(error["loc"])
        parts: list[str] = []
        if names is not None and len(loc) >= 2 and loc[0] == "backend" and isinstance(loc[1], int):
            index = loc[1]
            label = names[index] if index < len(names) else "?"
            parts.append(f"backend[{index}] ({label})")
            loc = loc[2:]
        parts.extend(str(p) for p in loc if not str(p).startswith("function-"))
        where = ".".join(parts) or "(top level)"
        message = str(error["msg"]).removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown key (check its spelling)"
        lines.append(f"{where}: {message}")
    return f"{source}: " + "; ".join(lines)
