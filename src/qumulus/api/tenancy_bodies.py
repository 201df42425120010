"""Request bodies of the tenancy endpoints: Pydantic models that refuse unknown and read-only fields.

``extra="forbid"`` is what turns ``{"name": "x", "id": "..."}`` or ``{"organization_id": <another
tenant>}`` into a 400 naming the field, instead of a silently ignored (or, worse, honoured) value.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, StrictStr

from qumulus.api.bodies import MAX_BODY_BYTES, ApiDateTime, StrictBody, parse_body

__all__ = ["MAX_BODY_BYTES", "parse_body"]

OrgRole = Literal["owner", "member"]
ProjectRole = Literal["admin", "member", "viewer"]
_Body = StrictBody


class OrganizationCreate(_Body):
    name: StrictStr
    slug: StrictStr | None = None
    #: The first owner (created as a user when the email is new); default: the caller.
    owner_email: StrictStr | None = None


class OrganizationUpdate(_Body):
    name: StrictStr | None = None
    slug: StrictStr | None = None


class OrgMemberCreate(_Body):
    email: StrictStr
    role: OrgRole = "member"
    name: StrictStr | None = None
    #: Initial console password for a user created by this invitation.
    password: StrictStr | None = None


class MemberUpdate(_Body):
    role: StrictStr


class ProjectCreate(_Body):
    name: StrictStr
    description: StrictStr = Field("", max_length=10_000)


class ProjectUpdate(_Body):
    name: StrictStr | None = None
    description: StrictStr | None = Field(None, max_length=10_000)


class ProjectMemberCreate(_Body):
    user_id: StrictStr | None = None
    email: StrictStr | None = None
    role: ProjectRole = "member"


class KeyCreate(_Body):
    name: StrictStr | None = None
    #: Default: the scopes of the key making the request.
    scopes: list[StrictStr] | None = None
    expires_at: ApiDateTime | None = None
    #: Make the key for another member of the project (project admins and owners); default: the caller.
    user_id: StrictStr | None = None
    user_email: StrictStr | None = None


class PasswordChange(_Body):
    current_password: StrictStr | None = None
    new_password: StrictStr
