"""The admin CLI as an operator uses it: build a tenant, hand out a key that works, revoke it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from qumulus.cli.main import app
from tests.api.conftest import bell_job

SECRET = "cli-test-secret"


@pytest.fixture
def cli(tmp_path: Path, database_url: str) -> Iterator[tuple]:  # type: ignore[type-arg]
    """``run(*args, input=None)`` → (exit code, output), on the test's database, and its data dir."""
    runner = CliRunner()
    env = {
        "QUMULUS_DATA_DIR": str(tmp_path / "data"),
        "QUMULUS_DATABASE_URL": database_url,
        "QUMULUS_SECRET_KEY": SECRET,
        "COLUMNS": "250",
    }

    def run(*args: str, input: str | None = None) -> tuple[int, str]:
        result = runner.invoke(app, list(args), input=input, env=env)
        return result.exit_code, result.output

    yield run, tmp_path / "data", database_url


def _client(data_dir: Path, database_url: str):  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    from qumulus.api.app import create_app
    from qumulus.config import Settings
    from qumulus.platform import Platform

    settings = Settings(data_dir=data_dir, database_url=database_url, secret_key=SECRET, pool_processes=1)
    platform = Platform(settings)
    return platform, TestClient(create_app(platform, run_jobs=False), raise_server_exceptions=False)


def test_an_operator_builds_a_tenant_and_its_key_works_until_revoked(cli) -> None:  # type: ignore[no-untyped-def]
    run, data_dir, database_url = cli
    code, out = run("orgs", "create", "Acme Research", "--owner", "ada@acme.test")
    assert code == 0, out
    assert "slug acme-research" in out
    assert run("projects", "create", "Chemistry", "--org", "acme-research")[0] == 0
    code, out = run(
        "users", "create", "bob@acme.test", "--name", "Bob", "--password-stdin", input="a long password\n"
    )
    assert code == 0 and "with a password" in out, out
    assert run("members", "add", "bob@acme.test", "--org", "acme-research")[0] == 0
    code, out = run("members", "add", "bob@acme.test", "--project", "Chemistry", "--role", "member")
    assert code == 0 and "as member" in out, out
    code, out = run("keys", "create", "--project", "Chemistry", "--user", "bob@acme.test", "--name", "laptop",
                    "--scope", "jobs:read", "--scope", "jobs:write")  # fmt: skip
    assert code == 0, out
    key = out.strip().splitlines()[-1]
    assert key.startswith("qmk_")

    listed = run("orgs", "list")[1]
    assert "acme-research" in listed and "Acme Research" in listed
    assert "Chemistry" in run("projects", "list", "--org", "acme-research")[1]
    users = run("users", "list")[1]
    assert "bob@acme.test" in users and "acme-research (member)" in users and "acme-research (owner)" in users
    keys = run("keys", "list")[1]
    assert "laptop" in keys and "bob@acme.test" in keys and "jobs:read jobs:write" in keys
    assert key not in keys and key.split("_", 2)[2] not in keys  # the secret is never shown again

    platform, client = _client(data_dir, database_url)
    with client:
        headers = {"Authorization": f"apiKey {key}"}
        who = client.get("/v0.4/whoami", headers=headers).json()
        assert who["scopes"] == ["jobs:read", "jobs:write"]
        assert client.post("/v0.4/jobs", json=bell_job(), headers=headers).status_code == 201
        # a password set through the CLI logs in; the hash is argon2id
        from qumulus.services.tenancy.users import check_login
        from qumulus.store.models import AuditEvent, User

        assert check_login(platform, "bob@acme.test", "a long password") is not None
        with platform.db.read() as session:
            assert session.scalar(select(User.password_hash).where(User.email == "bob@acme.test")).startswith(
                "$argon2id$"
            )
            events = list(session.scalars(select(AuditEvent)))
        via_cli = {e.action for e in events if e.details.get("via") == "cli"}
        assert via_cli >= {"organization.create", "project.create", "user.create", "org_member.add",
                           "project_member.add", "api_key.create"}  # fmt: skip

        code, out = run("keys", "revoke", key[:21] + "…")  # the prefix as `keys list` shows it
        assert code == 0 and "Revoked" in out, out
        time.sleep(2.1)  # another process's revocation: honoured within the key cache's 2 s
        assert client.get("/v0.4/whoami", headers=headers).status_code == 401
        assert "api_key.revoke" in {e.action for e in _events(platform)}
    platform.stop()


def _events(platform):  # type: ignore[no-untyped-def]
    from qumulus.store.models import AuditEvent

    with platform.db.read() as session:
        return list(session.scalars(select(AuditEvent)))


def test_mistakes_are_clear_errors_not_tracebacks(cli) -> None:  # type: ignore[no-untyped-def]
    run, _, _ = cli
    assert run("orgs", "create", "Acme", "--owner", "ada@acme.test")[0] == 0
    cases = [
        (("orgs", "create", "Acme again", "--owner", "x@acme.test", "--slug", "acme"), "already exists"),
        (("orgs", "create", "Bad", "--owner", "not-an-email"), "owner_email"),
        (("projects", "create", "P", "--org", "nowhere"), "No organization 'nowhere'"),
        (("users", "create", "frank@else.test", "--password-stdin"), "password: must be at least 8"),
        (("members", "add", "eve@else.test"), "Give --org"),
        (("keys", "revoke", "qmk_aaaaaaaaaaaaaaaa_…"), "not found"),
        (("keys", "create", "--project", "nothing-here"), "No project"),
    ]
    assert run("projects", "create", "P", "--org", "acme")[0] == 0
    assert run("users", "create", "eve@else.test")[0] == 0
    cases.append((("members", "add", "eve@else.test", "--project", "P", "--role", "viewer"), "not a member"))
    for args, message in cases:
        code, out = run(*args, input="short\n")
        assert code == 1, (args, out)
        assert message in out, (args, out)
        assert "Traceback" not in out


def test_without_the_secret_on_a_shared_database_admin_commands_refuse_naming_it(cli) -> None:  # type: ignore[no-untyped-def]
    """Issue 16.14: on a database other than the data directory's own SQLite file (PostgreSQL,
    distributed mode) the admin CLI made ``./data/secret-key`` and minted keys every API rejected
    with 401. It now refuses, says what to set, and makes nothing."""
    _, data_dir, database_url = cli
    env = {"QUMULUS_DATA_DIR": str(data_dir), "QUMULUS_DATABASE_URL": database_url, "COLUMNS": "250"}
    result = CliRunner().invoke(
        app, ["keys", "create", "--project", "x"], env={**env, "QUMULUS_SECRET_KEY": ""}
    )
    assert result.exit_code == 2, result.output
    assert "QUMULUS_SECRET_KEY" in result.output and "qumulus api" in result.output
    assert not (data_dir / "secret-key").exists()


def test_the_default_embedded_setup_needs_no_secret(tmp_path: Path) -> None:
    """The default (``make serve``): database and secret both in the data directory; a key the CLI
    makes there works for the server that reads the same directory."""
    data_dir = tmp_path / "data"
    env = {
        "QUMULUS_DATA_DIR": str(data_dir),
        "QUMULUS_DATABASE_URL": "",
        "QUMULUS_SECRET_KEY": "",
        "COLUMNS": "250",
    }
    runner = CliRunner()
    assert runner.invoke(app, ["orgs", "create", "Acme", "--owner", "ada@acme.test"], env=env).exit_code == 0
    assert runner.invoke(app, ["projects", "create", "P", "--org", "acme"], env=env).exit_code == 0
    result = runner.invoke(app, ["keys", "create", "--project", "P", "--user", "ada@acme.test"], env=env)
    assert result.exit_code == 0, result.output
    key = result.output.strip().splitlines()[-1]
    from fastapi.testclient import TestClient

    from qumulus.api.app import create_app
    from qumulus.config import Settings
    from qumulus.platform import Platform

    platform = Platform(Settings(data_dir=data_dir, database_url=f"sqlite:///{data_dir / 'qumulus.db'}"))
    with TestClient(create_app(platform, run_jobs=False)) as client:
        assert client.get("/v0.4/whoami", headers={"Authorization": f"apiKey {key}"}).status_code == 200
    platform.stop()
