"""The scheduling CLI as an operator uses it: reserve a backend for an organization, then cancel."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from tests.cli.test_admin_cli import cli  # noqa: F401 - the fixture


def test_an_operator_reserves_a_backend_and_cancels_it(cli) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    run, _, _ = cli
    assert run("orgs", "create", "Acme Research", "--owner", "ada@acme.test")[0] == 0
    start = datetime.now(timezone.utc) + timedelta(hours=1)
    code, out = run(
        "reservations",
        "create",
        "--org",
        "acme-research",
        "--backend",
        "simulator",
        "--start",
        start.strftime("%Y-%m-%dT%H:%M:%S"),
        "--end",
        (start + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%S"),
    )
    assert code == 0 and "approved" in out, out
    reservation_id = out.split()[1]
    code, out = run("reservations", "list", "--org", "acme-research")
    assert code == 0 and reservation_id in out and "approved" in out
    code, out = run(
        "reservations",
        "create",
        "--org",
        "acme-research",
        "--backend",
        "simulator",
        "--start",
        (start + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S"),
        "--end",
        (start + timedelta(hours=5)).strftime("%Y-%m-%dT%H:%M:%S"),
    )
    assert code == 1 and "overlaps" in out
    code, out = run("reservations", "cancel", reservation_id)
    assert code == 0 and "canceled" in out
    code, out = run("priority", "set", "00000000-0000-4000-8000-000000000000", "3")
    assert code == 1 and "not found" in out
