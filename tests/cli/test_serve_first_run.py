"""`qumulus serve` as a user starts it: first-run bootstrap, the key file, restarts, `keys create`."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import httpx

from tests.conftest import start_server, stop_server


def test_first_start_creates_and_prints_a_key_and_later_starts_do_not(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    server = start_server(data_dir)
    try:
        key_file = data_dir / "bootstrap-key"
        assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
        key = key_file.read_text().strip()
        assert key.startswith("qmk_")
        who = httpx.get(f"{server.v04}/whoami", headers={"Authorization": f"apiKey {key}"})
        assert who.status_code == 200 and who.json()["project_id"]
    finally:
        stop_server(server)
    log = (tmp_path / f"server-{server.url.rsplit(':', 1)[1]}.log").read_text()
    assert key in log and f"{server.url}/v0.4" in log

    again = start_server(data_dir)
    try:
        assert (data_dir / "bootstrap-key").read_text().strip() == key  # not replaced
        # the first server's key still works after a restart
        assert httpx.get(f"{again.v04}/whoami", headers={"Authorization": f"apiKey {key}"}).status_code == 200
    finally:
        stop_server(again)
    second_log = tmp_path / f"server-{again.url.rsplit(':', 1)[1]}.log"
    assert "qmk_" not in second_log.read_text()  # no new key printed


def test_keys_create_prints_a_working_key_once(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    server = start_server(data_dir)
    try:
        made = subprocess.run(
            [sys.executable, "-m", "qumulus.cli.main", "keys", "create", "--name", "alice",
             "--data-dir", str(data_dir)],
            capture_output=True, text=True, check=True, timeout=60,
        )  # fmt: skip
        key = made.stdout.strip().splitlines()[-1]
        assert key.startswith("qmk_") and key != (data_dir / "bootstrap-key").read_text().strip()
        response = httpx.get(f"{server.v04}/whoami", headers={"Authorization": f"apiKey {key}"})
        assert response.status_code == 200
        listed = subprocess.run(
            [sys.executable, "-m", "qumulus.cli.main", "keys", "list", "--data-dir", str(data_dir)],
            capture_output=True, text=True, check=True, timeout=60, env={**os.environ, "COLUMNS": "200"},
        )  # fmt: skip
        assert "alice" in listed.stdout and key not in listed.stdout  # the secret is never shown again
    finally:
        stop_server(server)
