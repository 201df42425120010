"""Never lose a job: idempotent retries after a lost answer, Retry-After, and the local journal."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx

from qumulus import Qumulus
from qumulus.client.journal import Journal
from tests.client._proxy import FaultyProxy
from tests.client.conftest import bell
from tests.conftest import ROOT, LiveServer


def _upstream(server: LiveServer) -> tuple[str, int]:
    host, port = server.url.removeprefix("http://").split(":")
    return host, int(port)


def test_lost_answer_is_retried_and_makes_one_job(sdk_server: LiveServer, sdk_home: Path) -> None:
    proxy = FaultyProxy(_upstream(sdk_server), "POST", "/v0.4/jobs", "drop_response")
    try:
        provider = Qumulus.enable_account(sdk_server.key, url=proxy.url)
        key = f"retry-{uuid.uuid4()}"
        job = provider.get_backend("simulator").run(bell(), shots=10, idempotency_key=key)
        posts = [h for h in proxy.hits if h[0] == "POST"]
        assert proxy.fired and len(posts) == 2  # the first answer was lost; the retry got one
        page = httpx.get(
            f"{sdk_server.v04}/jobs",
            params={"idempotency_key": key},
            headers={"Authorization": f"apiKey {sdk_server.key}"},
        ).json()
        assert [j["id"] for j in page["jobs"]] == [job.job_id()]  # exactly one job on the server
        assert job.result(timeout=60).get_probabilities() == {"00": 0.5, "11": 0.5}
    finally:
        proxy.close()


def test_same_idempotency_key_twice_gives_the_same_job(simulator) -> None:  # type: ignore[no-untyped-def]
    key = str(uuid.uuid4())
    first = simulator.run(bell(), shots=10, idempotency_key=key)
    second = simulator.run(bell(), shots=10, idempotency_key=key)
    assert first.job_id() == second.job_id()
    assert simulator.run(bell(), shots=10).job_id() != first.job_id()  # a new call, a new key


def test_429_is_retried_after_retry_after(sdk_server: LiveServer, sdk_home: Path) -> None:
    proxy = FaultyProxy(_upstream(sdk_server), "GET", "/v0.4/jobs/", "answer_429", retry_after=1)
    try:
        provider = Qumulus.enable_account(sdk_server.key, url=proxy.url)
        job = provider.get_backend("simulator").run(bell(), shots=10)
        job.result(timeout=60)
        refused, retried = [h for h in proxy.hits if h[0] == "GET" and h[1].startswith("/v0.4/jobs/")][:2]
        assert proxy.fired and retried[2] - refused[2] >= 0.95  # waited as told
    finally:
        proxy.close()


CRASHING_NOTEBOOK = """
import os, sys
from qumulus import Qumulus
provider = Qumulus.load_account()
job = provider.get_backend("simulator").run({bell!r}, shots=10, name="before-the-crash")
print(job.job_id(), flush=True)
os._exit(1)  # the kernel dies: nothing is closed or flushed by Python
"""


def test_journal_survives_a_crashed_process(sdk_server: LiveServer, sdk_home: Path) -> None:
    Qumulus.save_account(sdk_server.key, url=sdk_server.url, name="lab")
    env = {**os.environ, "QUMULUS_CONFIG_DIR": str(sdk_home), "PYTHONPATH": f"{ROOT / 'src'}:{ROOT}"}
    crashed = subprocess.run(
        [sys.executable, "-c", CRASHING_NOTEBOOK.format(bell=bell())], env=env, capture_output=True, text=True
    )
    job_id = crashed.stdout.strip()
    assert crashed.returncode == 1 and job_id, crashed.stderr
    provider = Qumulus.load_account("lab")  # a new session
    recent = provider.recent_jobs()
    assert recent[0].job_id == job_id and recent[0].name == "before-the-crash"
    resumed = Qumulus.resume()
    assert resumed[0].job_id() == job_id
    assert Qumulus.recent_jobs(1)[0].job_id == job_id
    assert resumed[0].result(timeout=60).get_counts()


def test_resume_finds_a_job_whose_answer_never_arrived(sdk_server: LiveServer, sdk_home: Path) -> None:
    provider = Qumulus.enable_account(sdk_server.key, url=sdk_server.url)
    key = str(uuid.uuid4())
    journal = Journal()
    journal.pending(
        key, profile="(session)", url=provider.transport.base, kind="job", backend="simulator", name=None
    )
    body = {"backend": "simulator", "shots": 10, "input": bell(None)}
    headers = {"Authorization": f"apiKey {sdk_server.key}", "Idempotency-Key": key}
    sent = httpx.post(f"{sdk_server.v04}/jobs", content=json.dumps(body), headers=headers).json()
    # the client crashed before reading ``sent``: its journal entry has no job id
    assert journal.recent(profile="(session)", url=provider.transport.base)[0].job_id is None
    resumed = provider.resume()
    assert resumed[0].job_id() == sent["id"]
    assert journal.recent(profile="(session)", url=provider.transport.base)[0].job_id == sent["id"]


def test_dead_server_fails_within_the_retry_budget(sdk_home: Path) -> None:
    from qumulus.client import ConnectionFailedError, Provider
    from qumulus.client.accounts import Account
    from qumulus.client.http import Transport

    dead = "http://127.0.0.1:9"  # nothing listens on the discard port
    provider = Provider(
        Account("dead", dead, "k" * 20), transport=Transport(dead, "k" * 20, max_retry_seconds=1.0)
    )
    started = time.monotonic()
    try:
        provider.backends()
    except ConnectionFailedError:
        pass
    else:
        raise AssertionError("expected ConnectionFailedError")
    assert time.monotonic() - started < 5
