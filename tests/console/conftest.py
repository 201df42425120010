"""Console test fixtures: the in-process API (tests/api), and for the browser tests one real
``qumulus serve`` and one chromium per module (closed before the in-process tests run)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# qiskit imported on the main thread first. The console's cookie-keeping clients (helpers.browser) are
# not entered, so each request runs in threads that end with it; when qiskit's first import happened
# on such a thread, a later compile (the submit preview of a QPU job) segfaulted in
# QuantumCircuit.__init__ on another thread (reproduced: tests/console/test_console_http.py in full).
import qiskit  # noqa: F401

from tests.api.conftest import idle_api  # noqa: F401 - the same fixture: the API without its runtime
from tests.conftest import LiveServer, start_server, stop_server

CHROMIUM = os.environ.get("QUMULUS_TEST_CHROMIUM", "/usr/bin/chromium")
PASSWORD = "browser test password"


def _missing() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed (pip install -e '.[test]')"
    if not Path(CHROMIUM).exists():
        return f"no chromium at {CHROMIUM} (apt-get install -y chromium)"
    return None


def set_password_cli(data_dir: Path, email: str) -> None:
    """As an operator does: ``qumulus users set-password EMAIL --password-stdin``."""
    subprocess.run(
        [sys.executable, "-m", "qumulus.cli.main", "users", "set-password", email, "--password-stdin",
         "--data-dir", str(data_dir)],
        input=PASSWORD + "\n", text=True, check=True, capture_output=True,
    )  # fmt: skip


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """Skips with a reason without chromium or Playwright, unless ``QUMULUS_TEST_BROWSER=required``
    (CI), where it fails instead. Never downloads a browser."""
    reason = _missing()
    if reason is not None:
        if os.environ.get("QUMULUS_TEST_BROWSER", "auto").lower() == "required":
            pytest.fail(f"QUMULUS_TEST_BROWSER=required but {reason}")
        pytest.skip(reason)
    data_dir = tmp_path_factory.mktemp("console") / "data"
    live = start_server(data_dir)
    set_password_cli(data_dir, "admin@localhost")
    yield live
    stop_server(live)


@pytest.fixture(scope="module")
def chromium(server: LiveServer) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        browser.close()


def login(chromium, server: LiveServer, email: str = "admin@localhost", **context):  # type: ignore[no-untyped-def]
    """A new browser context logged in as ``email``; returns its page (on wherever login leads)."""
    page = chromium.new_context(**context).new_page()
    page.goto(f"{server.url}/console/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()
    return page
