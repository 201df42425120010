"""Pure rules for tenancy input and invariants (no I/O): names, slugs, emails, roles, owners.

The API and the CLI both go through these (via :mod:`qumulus.services.tenancy`), so a rule holds
whatever the entry point.
"""

from __future__ import annotations

import re
from collections.abc import Collection

from qumulus import values
from qumulus.auth.permissions import ORG_ROLES, PROJECT_ROLES, SCOPES
from qumulus.errors import InvalidRequest

MAX_NAME = values.MAX_NAME
_SLUG = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,98}[a-z0-9])?")
# Deliberately loose: a mail server decides; we only refuse what cannot be an address.
_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]{1,255}")


def clean_name(value: str, field: str = "name") -> str:
    """The one name rule (:mod:`qumulus.values`)."""
    return values.check_name(value, field)


def clean_email(value: str, field: str = "email") -> str:
    email = value.strip().lower() if isinstance(value, str) else ""
    if not _EMAIL.fullmatch(email):
        raise InvalidRequest(f"{field}: not an email address: {str(value)[:80]!r}", field=field)
    return email


def clean_slug(value: str) -> str:
    if not isinstance(value, str) or not _SLUG.fullmatch(value):
        raise InvalidRequest(
            "slug: 1-100 lowercase letters, digits and '-', starting and ending with a letter or digit",
            field="slug",
        )
    return value


def slug_from_name(name: str) -> str:
    """``"Quantum Lab (Zürich)"`` → ``"quantum-lab-z-rich"``: a valid slug, or ``"org"``."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:100].strip("-")
    return slug or "org"


def check_org_role(role: str, field: str = "role") -> str:
    if role not in ORG_ROLES:
        raise InvalidRequest(f"{field}: must be one of {', '.join(ORG_ROLES)}, got {role!r}", field=field)
    return role


def check_project_role(role: str, field: str = "role") -> str:
    if role not in PROJECT_ROLES:
        raise InvalidRequest(f"{field}: must be one of {', '.join(PROJECT_ROLES)}, got {role!r}", field=field)
    return role


def check_scopes(scopes: Collection[str], grantable: Collection[str]) -> tuple[list[str], list[str]]:
    """(the scopes in canonical order, those the creator may not grant); unknown ones are a 400."""
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown:
        raise InvalidRequest(
            f"scopes: unknown scope {unknown[0]!r}; one of {', '.join(SCOPES)}", field="scopes"
        )
    if not scopes:
        raise InvalidRequest("scopes: a key needs at least one scope", field="scopes")
    wanted = [s for s in SCOPES if s in set(scopes)]
    return wanted, [s for s in wanted if s not in grantable]


def leaves_no_owner(owner_ids: Collection[str], user_id: str, new_role: str | None) -> bool:
    """Whether changing ``user_id`` to ``new_role`` (None: removing them) leaves no owner."""
    if user_id not in owner_ids or new_role == "owner":
        return False
    return len(set(owner_ids) - {user_id}) == 0
