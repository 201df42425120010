"""The active provider of this Python session (``Qumulus.load_account`` sets it), read by helpers
that default to it, such as ``JobManager()`` with no provider."""

from __future__ import annotations

from typing import Any

from qumulus.client.errors import AccountError

_active: Any = None


def current() -> Any:
    """The active provider; an :class:`AccountError` that says how to get one when there is none."""
    if _active is None:
        raise AccountError(
            "no active account: call Qumulus.load_account() or Qumulus.enable_account(token, url=)"
        )
    return _active


def peek() -> Any:
    """The active provider, or None."""
    return _active


def replace(provider: Any) -> None:
    """Make ``provider`` (or None) the active one, closing the connection of the one it replaces."""
    global _active
    if _active is not None and _active is not provider:
        _active.transport.close()
    _active = provider
