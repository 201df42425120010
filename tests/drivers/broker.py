"""Two real Qumulus servers: the upstream (plays the provider) and the broker in front of it.

The broker declares, in a TOML file, backends served by drivers:

* ``upstream.aria-1``: the ``ionq`` driver on the upstream's ``qpu.aria-1`` (directly, with push);
* ``upstream.faulty``: the ``ionq`` driver on the upstream's ``simulator`` through a fault proxy;
* ``lab.toy``: the third-party toy driver (installed with pip, found through the entry point).

Both servers are ``qumulus serve`` subprocesses, as a site runs them; either can be killed and
started again on the same port and data directory. The tests read the upstream's own records over
its API and the broker's ledger from its database file.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import LiveServer, free_port, start_server, stop_server
from tests.drivers.faults import FaultProxy

TERMINAL = ("completed", "failed", "canceled")
#: How long the "upstream down" test keeps it down (the issue's minute; short by default).
OUTAGE_SECONDS = float(os.environ.get("QUMULUS_TEST_OUTAGE_SECONDS", "4"))
#: Jobs the broker releases to the upstream at once on ``upstream.aria-1``.
MAX_OUTSTANDING = 2

SERVER_ENV = {"QUMULUS_WARM_ENGINES": "0", "QUMULUS_POOL_PROCESSES": "1", "QUMULUS_SUBMIT_WAIT_MS": "200"}


def headers(key: str) -> dict[str, str]:
    return {"Authorization": f"apiKey {key}"}


@dataclass
class Server:
    """A ``qumulus serve`` that can be killed and started again where it was."""

    data_dir: Path
    env: dict[str, str]
    port: int = field(default_factory=free_port)
    live: LiveServer | None = None

    def start(self) -> Server:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.live = start_server(self.data_dir, env={**SERVER_ENV, **self.env}, port=self.port)
        return self

    def stop(self) -> None:
        if self.live is not None:
            stop_server(self.live)
            self.live = None

    def kill(self) -> None:
        """SIGKILL: no clean-up of any kind, as a machine loss."""
        assert self.live is not None
        self.live.process.send_signal(signal.SIGKILL)
        self.live.process.wait(10)
        self.live = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def v04(self) -> str:
        return f"{self.url}/v0.4"

    @property
    def key(self) -> str:
        return (self.data_dir / "bootstrap-key").read_text().strip()

    def api(self, method: str, path: str, *, key: str | None = None, **kw: Any) -> Any:
        response = httpx.request(
            method, f"{self.v04}{path}", headers=headers(key or self.key), timeout=30, **kw
        )
        assert response.status_code < 400, f"{method} {path}: {response.status_code} {response.text}"
        return response.json() if response.content else None

    def wait_job(self, job_id: str, *, key: str | None = None, timeout: float = 120.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            body = self.api("GET", f"/jobs/{job_id}", key=key)
            if body["status"] in TERMINAL:
                return body
            assert time.monotonic() < deadline, f"job {job_id} still {body['status']} after {timeout} s"
            time.sleep(0.05)

    def sql(self, query: str, *args: Any) -> list[tuple[Any, ...]]:
        """Read the server's own database (SQLite, WAL: safe beside the running server)."""
        with sqlite3.connect(self.data_dir / "qumulus.db", timeout=30) as conn:
            return conn.execute(query, args).fetchall()


@dataclass
class Cluster:
    upstream: Server
    broker: Server
    proxy: FaultProxy
    #: The upstream organization that holds reservations (to park the broker's jobs there).
    other_org: str = ""

    # the broker's view -----------------------------------------------------------------------

    def provider_jobs(self, local_job_id: str) -> list[tuple[str, str | None]]:
        """(execution id, provider job id) of a local job's executions (children included)."""
        return self.broker.sql(
            "SELECT e.id, e.provider_job_id FROM executions e JOIN jobs j ON j.id = e.job_id "
            "WHERE j.id = ? OR j.parent_id = ? ORDER BY j.child_index",
            local_job_id,
            local_job_id,
        )

    def ledger(self, local_job_id: str) -> list[tuple[Any, ...]]:
        return self.broker.sql("SELECT usage_seconds, cost FROM usage_ledger WHERE job_id = ?", local_job_id)

    # the upstream's view ---------------------------------------------------------------------

    def upstream_job(self, provider_id: str) -> dict[str, Any]:
        return self.upstream.api("GET", f"/jobs/{provider_id}")

    def upstream_jobs_for(self, execution_id: str) -> list[dict[str, Any]]:
        """The upstream's jobs submitted for one broker execution (its idempotency token)."""
        body = self.upstream.api("GET", "/jobs", params={"idempotency_key": f"qumulus-{execution_id}"})
        return body["jobs"]

    def park(self) -> str:
        """Reserve the upstream's qpu.aria-1 for another organization from now on: the broker's
        jobs reach the upstream and wait there (its status stays available). Returns the id."""
        now = datetime.now(timezone.utc)
        body = {
            "backend": "qpu.aria-1",
            "starts_at": (now - timedelta(seconds=1)).isoformat(),
            "ends_at": (now + timedelta(hours=1)).isoformat(),
        }
        return self.upstream.api("POST", f"/organizations/{self.other_org}/reservations", json=body)["id"]

    def unpark(self, reservation_id: str) -> None:
        self.upstream.api("DELETE", f"/reservations/{reservation_id}")


def write_backends(path: Path, upstream: str, proxy: str) -> None:
    path.write_text(
        f"""
[[backend]]
name = "upstream.aria-1"
driver = "ionq"
qubits = 25
description = "The upstream's qpu.aria-1, on the site's contract"
max_outstanding = {MAX_OUTSTANDING}
[backend.credential]
env = "UPSTREAM_KEY"
[backend.options]
url = "{upstream}"
target = "qpu.aria-1"
[backend.contract]
rate_per_second = "0.50"
[backend.timing]
poll_first = 0.1
poll_cap = 1.0
retry_initial = 0.1
retry_cap = 1.0
mirror_every = 1.0

[[backend]]
name = "upstream.faulty"
driver = "ionq"
qubits = 29
max_outstanding = 4
[backend.credential]
env = "UPSTREAM_KEY"
[backend.options]
url = "{proxy}"
target = "simulator"
timeout = 1.0
[backend.timing]
poll_first = 0.1
poll_cap = 0.5
retry_initial = 0.1
retry_cap = 0.5
mirror_every = 1.0

[[backend]]
name = "lab.toy"
driver = "toy"
qubits = 8
billing = "upstream"
[backend.options]
price = "0.01"
"""
    )


def start_cluster(root: Path, toy_site: Path) -> Cluster:
    upstream = Server(root / "upstream" / "data", env={}).start()
    proxy = FaultProxy(upstream=upstream.url)
    broker_dir = root / "broker" / "data"
    broker_dir.mkdir(parents=True)
    write_backends(root / "broker" / "backends.toml", upstream.url, proxy.url)
    env = {
        "QUMULUS_BACKENDS_FILE": str(root / "broker" / "backends.toml"),
        "UPSTREAM_KEY": upstream.key,
        "PYTHONPATH": os.pathsep.join([str(toy_site), os.environ.get("PYTHONPATH", "")]),
    }
    broker = Server(broker_dir, env=env).start()
    cluster = Cluster(upstream=upstream, broker=broker, proxy=proxy)
    cluster.other_org = upstream.api("POST", "/organizations", json={"name": "Another customer"})["id"]
    org = broker.api("GET", "/organizations")["organizations"][0]["id"]
    broker.api(
        "POST", f"/organizations/{org}/contracts", json={"backend": "upstream.*", "rate_per_second": "0.5"}
    )
    broker.api("POST", f"/organizations/{org}/contracts", json={"backend": "lab.*", "rate_per_second": "0"})
    return cluster


def stop_cluster(cluster: Cluster) -> None:
    cluster.broker.stop()
    cluster.proxy.close()
    cluster.upstream.stop()


def run(cmd: list[str], **kw: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, **kw)
