"""Fixtures for distributed mode: a fresh PostgreSQL database and a cluster of ``qumulus`` processes."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.distributed._cluster import Cluster

_made: list[str] = []


@pytest.fixture(scope="session")
def _drop_made(postgres_server: str) -> Iterator[None]:
    """Drop this session's databases after it, in a detached process: DROP DATABASE waits for a
    checkpoint, which took minutes on the shared 2-core box while other sessions wrote."""
    yield
    if _made:
        script = (
            "import sys, psycopg\n"
            "with psycopg.connect(sys.argv[1], autocommit=True) as conn:\n"
            "    for name in sys.argv[2:]:\n"
            "        conn.execute(f'DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)')\n"
        )
        subprocess.Popen(
            [sys.executable, "-c", script, postgres_server, *_made],
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )


@pytest.fixture
def pg_url(postgres_server: str, _drop_made: None) -> str:
    """A database of this test's own.

    Named apart from ``qumulus_test_*``: those are all dropped when any pytest session ends, and
    these tests run processes against theirs for tens of seconds while other sessions may end.
    """
    name = f"qumulus_dist_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    _made.append(name)
    return postgres_server.rsplit("/", 1)[0] + "/" + name


@pytest.fixture
def cluster(pg_url: str, tmp_path: Path) -> Iterator[Cluster]:
    """Nothing started yet; every process started through it is stopped at the end."""
    made = Cluster(database_url=pg_url, data_dir=tmp_path / "data")
    made.data_dir.mkdir(parents=True)
    yield made
    made.stop()


@pytest.fixture
def platform(pg_url: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    """A platform in the test process on the same database, sending NOTIFY on submission (as an
    API process does), with the default project's principal as ``platform.test_principal``."""
    from sqlalchemy import select

    from qumulus.auth.principal import Principal
    from qumulus.config import Settings
    from qumulus.platform.bootstrap import bootstrap_tenancy
    from qumulus.platform.distributed import enable_notifications, open_platform
    from qumulus.store.models import Project

    settings = Settings(
        data_dir=tmp_path / "data", database_url=pg_url, pool_processes=1, secret_key="test-secret"
    )
    made = open_platform(settings)
    with made.db.write() as session:
        bootstrap_tenancy(session, secret=made.secret)
    with made.db.read() as session:
        project = session.scalars(select(Project)).one()
    made.test_principal = Principal(
        organization_id=project.organization_id,
        project_id=project.id,
        user_id=None,
        api_key_id=None,
        project_role="admin",
    )
    enable_notifications(made, work=False, done=True)
    yield made
    made.stop()
