"""Shared bench helpers: start servers, print a table, emit the final JSON line."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_http(url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up in {timeout} s")


class Server:
    """A subprocess server that is killed on exit."""

    def __init__(self, args: Sequence[str], health: str, env: dict[str, str] | None = None) -> None:
        self.log = tempfile.NamedTemporaryFile("w+", prefix="qumulus-bench-", suffix=".log", delete=False)  # noqa: SIM115
        self.process = subprocess.Popen(
            list(args), stdout=self.log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})}, cwd=ROOT
        )
        try:
            wait_http(health)
        except RuntimeError:
            self.stop()
            self.log.seek(0)
            raise RuntimeError(self.log.read()[-4000:]) from None

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def checkout_env() -> dict[str, str]:
    """The environment for a ``qumulus`` subprocess that runs *this* checkout's code (the shared
    virtual environment may have another checkout installed)."""
    path = [str(ROOT / "src"), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    return {"PYTHONPATH": os.pathsep.join(path)}


def qumulus_cli(*args: str) -> str:
    """Run ``qumulus <args>`` (this checkout) and return its output; raises on failure."""
    done = subprocess.run(
        [sys.executable, "-m", "qumulus.cli.main", *args],
        capture_output=True, text=True, env={**os.environ, **checkout_env()}, cwd=ROOT, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"qumulus {' '.join(args)}: {done.stdout}{done.stderr}")
    return done.stdout


def start_qumulus(data_dir: Path, port: int, env: dict[str, str] | None = None) -> tuple[Server, str]:
    """``qumulus serve`` exactly as a user starts it; returns the server and its bootstrap key."""
    server = Server(
        [sys.executable, "-m", "qumulus.cli.main", "serve", "--port", str(port), "--data-dir", str(data_dir)],
        f"http://127.0.0.1:{port}/health",
        env={**checkout_env(), **(env or {})},
    )
    return server, (data_dir / "bootstrap-key").read_text().strip()


def print_table(title: str, headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for header in headers:
        table.add_column(header, justify="right")
    for row in rows:
        table.add_row(*[f"{v:.4g}" if isinstance(v, float) else str(v) for v in row])
    Console(width=140).print(table)


def emit(summary: dict[str, Any]) -> None:
    """The last line of every bench: one JSON object with the headline figures."""
    print(json.dumps(summary, sort_keys=True), flush=True)
