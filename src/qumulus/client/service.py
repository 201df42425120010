"""``Qumulus``: account management with the names IBMQ users know, and the active provider.

``Qumulus.save_account(token, url=...)`` once, then ``provider = Qumulus.load_account()`` in every
session (or ``Qumulus.enable_account(token, url=...)`` for this session only). Loading checks the key
against the server at once (``/whoami``), so a wrong key or URL fails loudly here, not at the first job.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from qumulus.client import accounts, active
from qumulus.client.accounts import DEFAULT_NAME, DEFAULT_URL, SESSION_NAME, Account
from qumulus.client.errors import AccountError, QumulusClientError
from qumulus.client.journal import JournalEntry
from qumulus.client.provider import Provider


class Qumulus:
    """Class-level state, like ``IBMQ``: one active account per Python session."""

    @classmethod
    def save_account(
        cls,
        token: str,
        url: str = DEFAULT_URL,
        name: str = DEFAULT_NAME,
        organization: str | None = None,
        project: str | None = None,
        overwrite: bool = False,
        set_as_default: bool | None = None,
    ) -> None:
        """Store an account in the credentials file (mode 0600). The first one saved is the default."""
        accounts.save(
            token,
            url,
            name,
            organization=organization,
            project=project,
            overwrite=overwrite,
            set_as_default=set_as_default,
        )

    @classmethod
    def load_account(cls, name: str | None = None) -> Provider:
        """Activate a saved account (or the environment's) and return its provider."""
        return cls._activate(accounts.resolve(name))

    @classmethod
    def enable_account(cls, token: str, url: str = DEFAULT_URL) -> Provider:
        """Activate an account for this session only; nothing is written."""
        return cls._activate(Account(SESSION_NAME, url, token))

    @classmethod
    def _activate(cls, account: Account) -> Provider:
        provider = Provider(account)
        provider.whoami()  # fail now on a bad key or URL
        active.replace(provider)
        return provider

    @classmethod
    def disable_account(cls) -> None:
        active.replace(None)

    @classmethod
    def active_account(cls) -> dict[str, Any] | None:
        """The active account (key masked), or None."""
        provider = active.peek()
        return provider.account.public() if provider is not None else None

    @classmethod
    def stored_account(cls, name: str | None = None) -> dict[str, Any]:
        """A saved account (default: the default profile), key masked; ``{}`` when none is saved."""
        saved = accounts.saved()
        target = name or accounts.default_name()
        return saved[target].public() if target in saved else {}

    @classmethod
    def saved_accounts(cls) -> dict[str, dict[str, Any]]:
        """Every saved profile (keys masked), by name."""
        return {name: account.public() for name, account in accounts.saved().items()}

    @classmethod
    def delete_account(cls, name: str | None = None) -> bool:
        return accounts.delete(name)

    @classmethod
    def active_provider(cls) -> Provider:
        return active.current()  # type: ignore[no-any-return]

    @classmethod
    def providers(cls, organization: str | None = None, project: str | None = None) -> list[Provider]:
        """Providers of the active account matching ``organization``/``project`` (ids or saved names).

        A key belongs to one project, so an account has one provider; another project needs another
        saved profile (``load_account(name=...)``).
        """
        provider = cls.active_provider()
        return [provider] if _matches(provider, organization, project) else []

    @classmethod
    def get_provider(cls, organization: str | None = None, project: str | None = None) -> Provider:
        found = cls.providers(organization, project)
        if not found:
            provider = cls.active_provider()
            raise AccountError(
                f"the active account is organization {provider.organization}, project {provider.project}; "
                f"no provider for organization={organization!r}, project={project!r}. Save a profile with a "
                "key of that project and load it by name."
            )
        return found[0]

    @classmethod
    def recent_jobs(cls, limit: int = 20) -> list[JournalEntry]:
        """This profile's latest submissions from this machine (the local journal), newest first."""
        return cls.active_provider().recent_jobs(limit)

    @classmethod
    def resume(cls, limit: int = 20) -> list[Any]:
        """The recent submissions as job handles, after a crash (see ``Provider.resume``)."""
        return cls.active_provider().resume(limit)


def _matches(provider: Provider, organization: str | None, project: str | None) -> bool:
    who = provider.whoami()
    account = provider.account
    if organization is not None and organization not in (who.get("organization_id"), account.organization):
        return False
    return project is None or project in (who.get("project_id"), account.project)


def least_busy(backends: list[Any], *, reservation_lookahead: timedelta = timedelta(hours=1)) -> Any:
    """The operational backend with the fewest pending jobs, skipping any backend that is reserved
    now or within ``reservation_lookahead`` (the server lists approved windows, not their holders:
    a window of your own organization is skipped too; pick that backend by name)."""
    candidates = []
    soon = datetime.now(timezone.utc) + reservation_lookahead
    for backend in backends:
        status = backend.status()
        if status.operational and not any(start < soon for start, _ in backend.reservations()):
            candidates.append((status.pending_jobs, backend.name, backend))
    if not candidates:
        raise QumulusClientError("least_busy: none of these backends is operational")
    return min(candidates, key=lambda c: (c[0], c[1]))[2]
