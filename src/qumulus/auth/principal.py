"""Who is calling: the project an API key belongs to, and what it may do."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller. Every tenant query in the store takes one of these."""

    organization_id: str
    project_id: str
    user_id: str | None
    api_key_id: str | None
    scopes: frozenset[str] = frozenset({"jobs:read", "jobs:write"})

    def can(self, scope: str) -> bool:
        return scope in self.scopes
