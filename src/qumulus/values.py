"""The rules for values users give, one of each, whatever the endpoint: names and dates.

**Names** (organizations, projects, keys, members, jobs, job sets):

A name is text of 1 to :data:`MAX_NAME` characters once surrounding whitespace is trimmed, with no
control characters (they break logs, CSV exports and terminals). Where a name is optional, null, ``""``
or leaving it out mean "no name"; a name that is given follows the rule. Nothing is silently cut:
a name that breaks the rule is a 400 naming the field, wherever it arrives (API, console, CLI).

**Dates and times**: every date the API accepts (budgets' periods, keys' ``expires_at``,
reservations, maintenance windows, contracts, report and filter bounds) is an aware instant in
:data:`MIN_TIME` .. :data:`MAX_TIME` UTC; a date without an offset is UTC. The range keeps every
computation on a stored date (period ends, offsets, rendering) inside what ``datetime`` can hold,
so nothing accepted can fail later.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any

from qumulus.errors import InvalidRequest

#: Longest name, in characters (IonQ's job names, qiskit's circuit names and people's names fit).
MAX_NAME = 200
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def check_name(value: Any, field: str = "name") -> str:
    """``value`` as a name (trimmed), or a 400 naming ``field``."""
    if not isinstance(value, str):
        raise InvalidRequest(f"{field}: must be a string of 1 to {MAX_NAME} characters", field=field)
    name = value.strip()
    if not name:
        raise InvalidRequest(f"{field}: must not be empty", field=field)
    if len(name) > MAX_NAME:
        raise InvalidRequest(f"{field}: at most {MAX_NAME} characters, got {len(name)}", field=field)
    if _CONTROL.search(name) or _SURROGATE.search(name):
        raise InvalidRequest(f"{field}: must not contain control characters or lone surrogates", field=field)
    return name


def optional_name(value: Any, field: str = "name") -> str | None:
    """A name that may be absent: None or ``""`` mean no name; anything else follows :func:`check_name`."""
    return None if value is None or value == "" else check_name(value, field)


#: The supported range of dates, both ends included (UTC).
MIN_TIME = datetime(1970, 1, 1, tzinfo=timezone.utc)
MAX_TIME = datetime(9000, 1, 1, tzinfo=timezone.utc)


def in_range(value: datetime) -> datetime:
    """An aware UTC datetime in the supported range; ValueError (with the range) otherwise."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    try:
        utc = value.astimezone(timezone.utc)
    except OverflowError:
        utc = None
    if utc is None or not MIN_TIME <= utc <= MAX_TIME:
        raise ValueError(f"must be between {MIN_TIME:%Y-%m-%d} and {MAX_TIME:%Y-%m-%d} UTC")
    return utc


def check_time(value: datetime, field: str) -> datetime:
    """:func:`in_range`, as a 400 naming ``field``."""
    try:
        return in_range(value)
    except ValueError as exc:
        raise InvalidRequest(f"{field}: {exc}", field=field) from None


def parse_time(text: str, field: str, *, epoch_ms_above: float | None = None) -> datetime:
    """ISO-8601 (``Z`` allowed; no offset means UTC) or epoch seconds → a checked UTC datetime.

    ``epoch_ms_above``: epoch numbers above it are milliseconds (cirq sends ms)."""
    try:
        number = float(text)
    except ValueError:
        number = None
    if number is not None:
        if number != number or number in (float("inf"), float("-inf")):
            raise InvalidRequest(f"{field}: not a date: {text[:40]!r}", field=field)
        if epoch_ms_above is not None and number > epoch_ms_above:
            number /= 1000.0
        if not MIN_TIME.timestamp() <= number <= MAX_TIME.timestamp():
            raise InvalidRequest(
                f"{field}: must be between {MIN_TIME:%Y-%m-%d} and {MAX_TIME:%Y-%m-%d} UTC", field=field
            )
        return datetime.fromtimestamp(number, tz=timezone.utc)
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise InvalidRequest(
            f"{field}: not a date (ISO-8601 or epoch seconds): {text[:40]!r}", field=field
        ) from None
    return check_time(value, field)
