"""Who is calling: the project an API key belongs to, the key's scopes, and its user's roles."""

from __future__ import annotations

from dataclasses import dataclass

from qumulus.auth.permissions import DEFAULT_SCOPES, Action, Actor, allowed, denial_reason
from qumulus.errors import Forbidden


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller. Every tenant query in the store takes one of these.

    The roles are those of the key's user in the key's organization and project, read with the key
    (so checking a job permission costs no query).
    """

    organization_id: str
    project_id: str
    user_id: str | None
    api_key_id: str | None
    scopes: frozenset[str] = DEFAULT_SCOPES
    is_admin: bool = False
    org_role: str | None = None
    project_role: str | None = None

    def can(self, scope: str) -> bool:
        return scope in self.scopes

    def actor(self) -> Actor:
        """This caller as seen from its own project."""
        return Actor(self.scopes, self.is_admin, self.org_role, self.project_role)

    def may(self, action: Action, *, owns_target: bool = False) -> bool:
        """Whether this caller may ``action`` in its own project (jobs, its keys, its budget)."""
        return allowed(self.actor(), action, owns_target=owns_target)

    def require(self, action: Action, *, owns_target: bool = False) -> None:
        """Raise 403 unless :meth:`may`; the message names the missing role or scope."""
        if not self.may(action, owns_target=owns_target):
            raise Forbidden(denial_reason(self.actor(), action))
