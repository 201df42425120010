"""Saved accounts: named profiles, each with its own server, in one file written mode 0600.

Where: ``$QUMULUS_CREDENTIALS_FILE``, else ``$QUMULUS_CONFIG_DIR/credentials.json``, else
``~/.qumulus/credentials.json``. Shape: ``{"default": name, "accounts": {name: {url, token,
organization, project}}}``.

Which account is used (first match): an explicit profile name; ``$QUMULUS_PROFILE``; environment
credentials (``QUMULUS_API_KEY`` + ``QUMULUS_URL``, or IonQ's ``IONQ_API_KEY`` + ``IONQ_API_URL``);
the file's default profile; the only profile. A key is never printed: :class:`Account`'s repr and
every dict this module returns carry a masked key.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qumulus.client.errors import AccountError

DEFAULT_URL = "http://127.0.0.1:8000"
DEFAULT_NAME = "default"
ENV_NAME = "(environment)"
SESSION_NAME = "(session)"


def config_dir() -> Path:
    """Where the SDK keeps its files (credentials, job journal)."""
    raw = os.environ.get("QUMULUS_CONFIG_DIR")
    return Path(raw).expanduser() if raw else Path.home() / ".qumulus"


def credentials_path() -> Path:
    raw = os.environ.get("QUMULUS_CREDENTIALS_FILE")
    return Path(raw).expanduser() if raw else config_dir() / "credentials.json"


def mask(token: str) -> str:
    """Enough of a key to tell keys apart, never enough to use one."""
    if len(token) <= 12:
        return "****"
    return f"{token[:6]}…{token[-4:]}"


@dataclass(frozen=True)
class Account:
    name: str
    url: str
    token: str = field(repr=False)
    organization: str | None = None
    project: str | None = None

    def __repr__(self) -> str:
        return f"Account(name={self.name!r}, url={self.url!r}, token={mask(self.token)!r})"

    def public(self) -> dict[str, Any]:
        """What may be shown: everything, with the key masked."""
        return {
            "name": self.name,
            "url": self.url,
            "token": mask(self.token),
            "organization": self.organization,
            "project": self.project,
        }


def _read() -> dict[str, Any]:
    path = credentials_path()
    if not path.exists():
        return {"default": None, "accounts": {}}
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise AccountError(f"cannot read the credentials file {path}: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("accounts"), dict):
        raise AccountError(f"the credentials file {path} is not a Qumulus credentials file")
    return data


def _write(data: dict[str, Any]) -> None:
    """Atomically, created 0600 from the start (no window where another user could read it)."""
    path = credentials_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(data, handle, indent=2, sort_keys=True)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    os.replace(tmp, path)


def save(
    token: str,
    url: str,
    name: str,
    *,
    organization: str | None = None,
    project: str | None = None,
    overwrite: bool = False,
    set_as_default: bool | None = None,
) -> Account:
    if not isinstance(token, str) or not token.strip():
        raise AccountError("token: required, the API key")
    if not name or name in (ENV_NAME, SESSION_NAME):
        raise AccountError(f"name: {name!r} cannot name a saved account")
    data = _read()
    if name in data["accounts"] and not overwrite:
        raise AccountError(f"an account named {name!r} is already saved; pass overwrite=True to replace it")
    data["accounts"][name] = {
        "url": url,
        "token": token.strip(),
        "organization": organization,
        "project": project,
    }
    if set_as_default or not data.get("default") or data["default"] not in data["accounts"]:
        data["default"] = name
    _write(data)
    return _account(name, data["accounts"][name])


def delete(name: str | None = None) -> bool:
    """Delete ``name`` (default: the default profile); False when there was nothing to delete."""
    data = _read()
    target = name or data.get("default")
    if not target or target not in data["accounts"]:
        return False
    del data["accounts"][target]
    if data.get("default") == target:
        data["default"] = next(iter(sorted(data["accounts"])), None)
    _write(data)
    return True


def saved() -> dict[str, Account]:
    data = _read()
    return {name: _account(name, entry) for name, entry in data["accounts"].items()}


def default_name() -> str | None:
    return _read().get("default")


def from_environment() -> Account | None:
    for key_var, url_var in (("QUMULUS_API_KEY", "QUMULUS_URL"), ("IONQ_API_KEY", "IONQ_API_URL")):
        token = os.environ.get(key_var)
        if token:
            url = os.environ.get(url_var) or os.environ.get("QUMULUS_URL") or DEFAULT_URL
            return Account(ENV_NAME, url, token)
    return None


def resolve(name: str | None = None) -> Account:
    """The account to use, by the precedence in the module docstring."""
    name = name or os.environ.get("QUMULUS_PROFILE") or None
    accounts = saved()
    if name:
        if name not in accounts:
            known = ", ".join(sorted(accounts)) or "none saved"
            raise AccountError(f"no saved account named {name!r} (saved: {known})")
        return accounts[name]
    env = from_environment()
    if env is not None:
        return env
    default = default_name()
    if default and default in accounts:
        return accounts[default]
    if len(accounts) == 1:
        return next(iter(accounts.values()))
    raise AccountError(
        "no account: call Qumulus.save_account(token, url=...) once, or set QUMULUS_API_KEY and QUMULUS_URL"
    )


def _account(name: str, entry: dict[str, Any]) -> Account:
    return Account(
        name=name,
        url=str(entry.get("url") or DEFAULT_URL),
        token=str(entry.get("token") or ""),
        organization=entry.get("organization"),
        project=entry.get("project"),
    )
