"""Cursors: round-trip, and anything this server did not make is a 400 naming ``next``."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from qumulus.errors import InvalidRequest
from qumulus.services import paging


def test_cursor_round_trip_and_split() -> None:
    at = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=timezone.utc)
    assert paging.decode(paging.encode(at.isoformat(), "id-1"), 2) == [at.isoformat(), "id-1"]
    rows = [(at, f"id-{n}") for n in range(3)]
    page, cursor = paging.split(rows, 2, lambda r: r)
    assert page == rows[:2] and paging.decode(cursor or "", 2) == [at.isoformat(), "id-1"]
    assert paging.split(rows[:2], 2, lambda r: r) == (rows[:2], None)  # no extra row: last page
    assert paging.split([], 2, lambda r: r) == ([], None)


@pytest.mark.parametrize("cursor", ["garbage", "", "W10", paging.encode("a"), "!!!!"])
def test_foreign_cursors_are_a_400_naming_next(cursor: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        paging.decode(cursor, 2)
    assert caught.value.field == "next"


@pytest.mark.parametrize(("limit", "ok"), [(None, True), (1, True), (1000, True), (0, False), (1001, False)])
def test_limits(limit: int | None, ok: bool) -> None:
    if ok:
        assert paging.check_limit(limit) == (limit or paging.DEFAULT_LIMIT)
    else:
        with pytest.raises(InvalidRequest):
            paging.check_limit(limit)
