"""The one base of every request body but a job's: strict Pydantic models read through the edge.

* :class:`StrictBody` refuses unknown and server-owned fields (``extra="forbid"``): ``{"name": "x",
  "id": "..."}`` or ``{"project_id": <another tenant>}`` is a 400 naming the field, never a silently
  ignored (or, worse, honoured) value. Values are strict: ``"yes"`` is not a boolean, ``"1"`` not an
  integer.
* :data:`ApiDateTime` is the one date type of the API: ISO 8601 (a date alone is midnight) or epoch
  seconds, aware (no offset means UTC), converted to UTC, within :data:`qumulus.values.MIN_TIME`
  .. :data:`qumulus.values.MAX_TIME`.
* :func:`parse_body` reads the body through :func:`qumulus.api.body.read_json` (size, depth,
  surrogates) and validates it; the first problem is a 400 naming its field.

Job bodies are the exception: IonQ's clients merge unknown keys into them (``extra_query_params``,
cirq's ``lang``), so :mod:`qumulus.wire.requests` accepts unknown top-level keys there and refuses
only the server-owned ones.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Strict, ValidationError
from starlette.requests import Request

from qumulus.api.body import read_json
from qumulus.errors import InvalidRequest
from qumulus.values import in_range

#: Administrative bodies are small; a megabyte is generous.
MAX_BODY_BYTES = 1 << 20

#: The API's date type (see the module's docstring).
ApiDateTime = Annotated[datetime, Strict(False), AfterValidator(in_range)]


class StrictBody(BaseModel):
    """Base of every request body: unknown fields refused, values strictly typed."""

    model_config = ConfigDict(extra="forbid", strict=True)


M = TypeVar("M", bound=BaseModel)


async def parse_body(request: Request, model: type[M], *, max_bytes: int = MAX_BODY_BYTES) -> M:
    """The request's JSON body as ``model``; a 400 naming the first offending field otherwise."""
    return validate(model, await read_json(request, max_bytes))


def validate(model: type[M], document: Any) -> M:
    """``document`` as ``model``; a 400 naming the first offending field otherwise."""
    if not isinstance(document, dict):
        raise InvalidRequest("body: expected a JSON object", field="body")
    try:
        # JSON mode: dates arrive as strings, decimals as numbers or strings, even in strict models.
        return model.model_validate(document, strict=False) if _lenient(model) else _strict(model, document)
    except ValidationError as exc:
        raise invalid(exc, model) from None


def _lenient(model: type[BaseModel]) -> bool:
    return not model.model_config.get("strict", False)


def _strict(model: type[M], document: dict[str, Any]) -> M:
    # validate_json keeps strict types but parses dates and decimals from their JSON text forms.
    import json

    return model.model_validate_json(json.dumps(document, ensure_ascii=False))


def invalid(exc: ValidationError, model: type[BaseModel]) -> InvalidRequest:
    # An unknown field is named first: it is usually the cause (a typo, or a field this request does
    # not take) of the "missing" error that comes with it.
    errors = exc.errors()
    error = next((e for e in errors if e.get("type") == "extra_forbidden"), errors[0])
    field = ".".join(str(p) for p in error.get("loc", ())) or "body"
    if error.get("type") == "extra_forbidden":
        allowed = ", ".join(model.model_fields)
        return InvalidRequest(
            f"{field}: unknown or read-only field; this request accepts only: {allowed}", field=field
        )
    message = str(error.get("msg", "invalid value"))
    return InvalidRequest(f"{field}: {message}", field=field)
