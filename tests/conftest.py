"""Shared fixtures: a platform on SQLite or PostgreSQL, an in-process API client, a live server.

PostgreSQL: tests that take the ``database_url`` fixture run on both databases. Without a reachable
server they skip, unless ``QUMULUS_TEST_POSTGRES=required`` (CI), where they fail instead.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = os.environ.get("QUMULUS_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def _postgres_mode() -> str:
    return os.environ.get("QUMULUS_TEST_POSTGRES", "auto").lower()


def _pg_available() -> str | None:
    """None when usable, else the reason it is not."""
    try:
        import psycopg
    except ImportError:
        return "psycopg is not installed"
    try:
        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3) as conn:
            conn.execute("select 1")
    except Exception as exc:
        return f"PostgreSQL not reachable at {PG_ADMIN_URL}: {exc}"
    return None


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """An empty database on the local PostgreSQL for this test session; dropped afterwards."""
    reason = _pg_available()
    if reason is not None:
        if _postgres_mode() == "required":
            pytest.fail(f"QUMULUS_TEST_POSTGRES=required but {reason}")
        pytest.skip(reason)
    import psycopg

    yield PG_ADMIN_URL
    # Only this session's databases: other test sessions may be running against the same server.
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        pattern = f"qumulus_test_{SESSION_TAG}_%"
        rows = conn.execute("select datname from pg_database where datname like %s", (pattern,)).fetchall()
        # Bounded: a drop that waits on another session's lock must not hold the whole run (a
        # leftover test database is harmless; the next session's pattern never matches it).
        conn.execute("SET lock_timeout = '10s'")
        conn.execute("SET statement_timeout = '30s'")
        for (name,) in rows:
            try:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            except psycopg.Error as exc:
                warnings.warn(f"test database {name} left behind: {exc}", stacklevel=1)


#: Names this test session's databases, so that its clean-up never touches another session's.
SESSION_TAG = uuid.uuid4().hex[:8]


def fresh_postgres_url(admin_url: str, *, template: str | None = None) -> str:
    import psycopg

    name = f"qumulus_test_{SESSION_TAG}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    return admin_url.rsplit("/", 1)[0] + "/" + name


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite file at the newest migration, made once per session: each test copies it instead of
    running every migration again (the suite has over a thousand database tests)."""
    import sqlite3

    from qumulus.store.migrate import upgrade

    path = tmp_path_factory.mktemp("template") / "qumulus.db"
    upgrade(f"sqlite:///{path}")
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # everything in the main file before copying
    return path


@pytest.fixture(scope="session")
def migrated_postgres(postgres_server: str) -> str:
    """A PostgreSQL database at the newest migration, made once per session: the template of each
    test's database (``CREATE DATABASE ... TEMPLATE`` copies it in a fraction of a migration run)."""
    from qumulus.store.migrate import upgrade

    url = fresh_postgres_url(postgres_server)
    upgrade(url)
    return url.rsplit("/", 1)[1]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database already at the newest migration (the platform still checks and finds it at head)."""
    import shutil

    if request.param == "sqlite":
        shutil.copyfile(request.getfixturevalue("migrated_sqlite"), tmp_path / "qumulus.db")
        return f"sqlite:///{tmp_path / 'qumulus.db'}"
    admin = request.getfixturevalue("postgres_server")
    return fresh_postgres_url(admin, template=request.getfixturevalue("migrated_postgres"))


@pytest.fixture
def settings(tmp_path: Path, database_url: str):  # type: ignore[no-untyped-def]
    from qumulus.config import Settings

    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        pool_processes=1,
        sqlite_synchronous="NORMAL",
        secret_key="test-secret",
    )


@dataclass
class Api:
    """An in-process client for the app, authenticated with a fresh project's key."""

    client: httpx.Client
    key: str
    platform: object

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"apiKey {self.key}"}

    def get(self, path: str, **kw) -> httpx.Response:  # type: ignore[no-untyped-def]
        return self.client.get(path, headers={**self.headers, **kw.pop("headers", {})}, **kw)

    def post(self, path: str, **kw) -> httpx.Response:  # type: ignore[no-untyped-def]
        return self.client.post(path, headers={**self.headers, **kw.pop("headers", {})}, **kw)

    def put(self, path: str, **kw) -> httpx.Response:  # type: ignore[no-untyped-def]
        return self.client.put(path, headers={**self.headers, **kw.pop("headers", {})}, **kw)

    def delete(self, path: str, **kw) -> httpx.Response:  # type: ignore[no-untyped-def]
        return self.client.request("DELETE", path, headers={**self.headers, **kw.pop("headers", {})}, **kw)

    def wait(self, job_id: str, timeout: float = 30.0) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            body = self.get(f"/v0.4/jobs/{job_id}").json()
            if body["status"] in ("completed", "failed", "canceled") or time.monotonic() > deadline:
                return body
            time.sleep(0.02)


def make_platform(settings):  # type: ignore[no-untyped-def]
    from qumulus.platform import Platform
    from qumulus.platform.bootstrap import bootstrap_tenancy

    platform = Platform(settings)
    with platform.db.write() as session:
        key = bootstrap_tenancy(session, secret=platform.secret)
    return platform, key


@pytest.fixture
def api(settings) -> Iterator[Api]:  # type: ignore[no-untyped-def]
    """The app with its job runtime, on SQLite and on PostgreSQL."""
    from fastapi.testclient import TestClient

    from qumulus.api.app import create_app

    platform, key = make_platform(settings)
    with TestClient(create_app(platform), raise_server_exceptions=False) as client:
        yield Api(client=client, key=key, platform=platform)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class LiveServer:
    url: str
    key: str
    data_dir: Path
    process: subprocess.Popen

    @property
    def v04(self) -> str:
        return f"{self.url}/v0.4"


def start_server(data_dir: Path, *, env: dict[str, str] | None = None, port: int | None = None) -> LiveServer:
    """``qumulus serve`` in a subprocess, as a user runs it; waits until it answers. ``port``: a
    fixed one (a server started again where it was), else a free one."""
    port = port or free_port()
    log = open(data_dir.parent / f"server-{port}.log", "a")  # noqa: SIM115 - closed with the process
    process = subprocess.Popen(
        [sys.executable, "-m", "qumulus.cli.main", "serve", "--port", str(port), "--data-dir", str(data_dir)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "QUMULUS_SQLITE_SYNCHRONOUS": "NORMAL", **(env or {})},
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120  # a loaded 2-core machine can take a minute to warm the pool
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {(data_dir.parent / f'server-{port}.log').read_text()}")
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    else:
        process.kill()
        raise RuntimeError("server did not start within 120 s")
    key = (data_dir / "bootstrap-key").read_text().strip()
    return LiveServer(url=url, key=key, data_dir=data_dir, process=process)


def stop_server(server: LiveServer) -> None:
    server.process.terminate()
    try:
        server.process.wait(10)
    except subprocess.TimeoutExpired:
        server.process.kill()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One real ``qumulus serve`` (SQLite) shared by the client compatibility tests."""
    data_dir = tmp_path_factory.mktemp("live") / "data"
    server = start_server(data_dir)
    yield server
    stop_server(server)


#: Environment variables through which the SDK finds an account; tests clear them.
SDK_ENV_VARS = ("QUMULUS_API_KEY", "QUMULUS_URL", "IONQ_API_KEY", "IONQ_API_URL", "QUMULUS_PROFILE")


@pytest.fixture
def sdk_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty SDK config dir and no credentials in the environment; no account active after."""
    from qumulus import Qumulus

    home = tmp_path / "qumulus-home"
    monkeypatch.setenv("QUMULUS_CONFIG_DIR", str(home))
    monkeypatch.delenv("QUMULUS_CREDENTIALS_FILE", raising=False)
    for name in SDK_ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    yield home
    Qumulus.disable_account()
