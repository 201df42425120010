"""Where a backend's provider key comes from: an environment variable or a file, never the database.

A declaration names the *place* (``{env = "IONQ_API_KEY"}`` or ``{file = "/run/secrets/ionq"}``);
only that reference is stored (configuration file, ``backend_drivers`` table). The key itself is read
when a driver is built, in the process that uses it, so a database dump or a backup never holds it,
and rotating it is a matter of changing the variable or the file and restarting the workers.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from qumulus.drivers.base import ConfigError

#: A file holding a key is read up to this size: a key is short, a wrong path may be a large file.
MAX_KEY_BYTES = 64 * 1024


@dataclass(frozen=True)
class CredentialRef:
    """Exactly one of ``env`` and ``file``."""

    env: str | None = None
    file: str | None = None

    def __post_init__(self) -> None:
        if (self.env is None) == (self.file is None):
            raise ConfigError("credential: give exactly one of env (a variable name) or file (a path)")
        if self.env is not None and not self.env.strip():
            raise ConfigError("credential.env: must name an environment variable")
        if self.file is not None and not self.file.strip():
            raise ConfigError("credential.file: must be a path")

    def describe(self) -> str:
        """Where the key is, for listings and logs (never the key)."""
        return f"env:{self.env}" if self.env is not None else f"file:{self.file}"

    def as_dict(self) -> dict[str, str]:
        return {"env": self.env} if self.env is not None else {"file": str(self.file)}

    def resolve(self, environ: dict[str, str] | None = None) -> str:
        """The key, stripped of surrounding whitespace; :class:`ConfigError` naming the place if it
        is missing or empty (the message never contains the key)."""
        if self.env is not None:
            value = (os.environ if environ is None else environ).get(self.env)
            if value is None or not value.strip():
                raise ConfigError(f"credential.env: environment variable {self.env} is not set or empty")
            return value.strip()
        path = Path(str(self.file)).expanduser()
        try:
            with path.open("rb") as handle:
                raw = handle.read(MAX_KEY_BYTES + 1)
        except OSError as exc:
            raise ConfigError(f"credential.file: cannot read {path}: {exc.strerror or exc}") from None
        if len(raw) > MAX_KEY_BYTES:
            raise ConfigError(f"credential.file: {path} is larger than {MAX_KEY_BYTES} bytes; not a key")
        try:
            value = raw.decode("utf-8").strip()
        except UnicodeDecodeError:
            raise ConfigError(f"credential.file: {path} is not UTF-8 text") from None
        if not value:
            raise ConfigError(f"credential.file: {path} is empty")
        return value
