"""Request bodies of the tenancy endpoints: Pydantic models that refuse unknown and read-only fields.

``extra="forbid"`` is what turns ``{"name": "x", "id": "..."}`` or ``{"organization_id": <another
tenant>}`` into a 400 naming the field, instead of a silently ignored (or, worse, honoured) value.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StrictStr, ValidationError, field_validator
from starlette.requests import Request

from qumulus.api.body import read_json
from qumulus.errors import InvalidRequest

#: Administrative bodies are small; a megabyte is generous.
MAX_BODY_BYTES = 1 << 20

OrgRole = Literal["owner", "member"]
ProjectRole = Literal["admin", "member", "viewer"]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


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
    name: StrictStr = ""
    #: Default: the scopes of the key making the request.
    scopes: list[StrictStr] | None = None
    expires_at: datetime | None = None
    #: Make the key for another member of the project (project admins and owners); default: the caller.
    user_id: StrictStr | None = None
    user_email: StrictStr | None = None

    @field_validator("expires_at")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value


class PasswordChange(_Body):
    current_password: StrictStr | None = None
    new_password: StrictStr


M = TypeVar("M", bound=BaseModel)


async def parse_body(request: Request, model: type[M]) -> M:
    """The request's JSON body as ``model``; a 400 naming the first offending field otherwise."""
    document = await read_json(request, MAX_BODY_BYTES)
    if not isinstance(document, dict):
        raise InvalidRequest("body: expected a JSON object", field="body")
    try:
        return model.model_validate(document)
    except ValidationError as exc:
        raise _invalid(exc, model) from None


def _invalid(exc: ValidationError, model: type[BaseModel]) -> InvalidRequest:
    error = exc.errors()[0]
    field = ".".join(str(p) for p in error.get("loc", ())) or "body"
    if error.get("type") == "extra_forbidden":
        allowed = ", ".join(model.model_fields)
        return InvalidRequest(
            f"{field}: unknown or read-only field; this request accepts only: {allowed}", field=field
        )
    return InvalidRequest(f"{field}: {error.get('msg', 'invalid value')}", field=field)
