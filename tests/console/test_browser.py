"""The console in a real browser (Debian's chromium via Playwright) against a real ``qumulus serve``.

Skips with a reason when there is no chromium or no Playwright, unless
``QUMULUS_TEST_BROWSER=required`` (CI), where it fails instead. Never downloads a browser.
Screenshots of each page go to ``<tmp>/screenshots`` (printed at the end); with
``QUMULUS_UPDATE_SCREENSHOTS=1`` they also replace ``docs/screenshots/`` (linked from the README).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from tests.api.conftest import bell_job
from tests.conftest import ROOT, LiveServer, start_server, stop_server

CHROMIUM = os.environ.get("QUMULUS_TEST_CHROMIUM", "/usr/bin/chromium")
PASSWORD = "browser test password"
BELL = '{"qubits": 2, "circuit": [{"gate": "h", "target": 0}, {"gate": "cnot", "control": 0, "target": 1}]}'


def _missing() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed (pip install -e '.[test]')"
    if not Path(CHROMIUM).exists():
        return f"no chromium at {CHROMIUM} (apt-get install -y chromium)"
    return None


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    reason = _missing()
    if reason is not None:
        if os.environ.get("QUMULUS_TEST_BROWSER", "auto").lower() == "required":
            pytest.fail(f"QUMULUS_TEST_BROWSER=required but {reason}")
        pytest.skip(reason)
    data_dir = tmp_path_factory.mktemp("console") / "data"
    live = start_server(data_dir)
    _set_password(data_dir, "admin@localhost")
    yield live
    stop_server(live)


def _set_password(data_dir: Path, email: str) -> None:
    """As an operator does: ``qumulus users set-password EMAIL --password-stdin``."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "qumulus.cli.main",
            "users",
            "set-password",
            email,
            "--password-stdin",
            "--data-dir",
            str(data_dir),
        ],
        input=PASSWORD + "\n",
        text=True,
        check=True,
        capture_output=True,
    )


@pytest.fixture(scope="module")
def shots_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    out = tmp_path_factory.mktemp("screenshots")
    yield out
    if os.environ.get("QUMULUS_UPDATE_SCREENSHOTS") == "1":
        target = ROOT / "docs" / "screenshots"
        target.mkdir(parents=True, exist_ok=True)
        for png in out.glob("*.png"):
            shutil.copy(png, target / png.name)
    print(f"\nconsole screenshots: {out}")


@pytest.fixture(scope="module")
def chromium(server: LiveServer) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        browser.close()


def _login(chromium, server: LiveServer, email: str = "admin@localhost", **context):  # type: ignore[no-untyped-def]
    page = chromium.new_context(**context).new_page()
    page.goto(f"{server.url}/console/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/console/jobs")
    return page


def test_submit_watch_it_complete_and_see_its_histogram(
    chromium, server: LiveServer, shots_dir: Path
) -> None:
    page = _login(chromium, server)
    page.screenshot(path=shots_dir / "jobs-empty.png", full_page=True)
    page.get_by_role("link", name="Submit", exact=True).click()
    page.get_by_label("Name (optional)").fill("bell from the console")
    page.get_by_label("Shots").fill("500")
    page.get_by_label("Circuit", exact=False).fill(BELL)
    page.screenshot(path=shots_dir / "submit.png", full_page=True)
    page.get_by_role("button", name="Submit", exact=True).click()
    page.wait_for_url("**/console/jobs/*")
    page.evaluate("window.__sameDocument = true")  # gone if the page reloads
    page.wait_for_selector('#live [data-status="completed"]', timeout=30_000)
    assert page.evaluate("window.__sameDocument === true"), "the status changed by reloading the page"
    bars = page.locator("figure.histogram rect.bar")
    assert sorted(bars.evaluate_all("els => els.map(e => e.dataset.outcome)")) == ["00", "11"]
    assert "cx × 1" in page.locator(".circuit").inner_text()
    page.screenshot(path=shots_dir / "job-detail.png", full_page=True)
    page.goto(f"{server.url}/console/jobs")
    row = page.get_by_role("row").filter(has_text="bell from the console")
    assert row.locator('[data-status="completed"]').count() == 1
    page.screenshot(path=shots_dir / "jobs.png", full_page=True)


def test_a_queued_job_turns_canceled_by_bulk_cancel(chromium, server: LiveServer) -> None:
    auth = {"Authorization": f"apiKey {server.key}"}
    # Another organization holds qpu.aria-1 for the next hour, so our job waits in the queue.
    org = httpx.post(
        f"{server.v04}/organizations", json={"name": "Reserver", "slug": "reserver"}, headers=auth
    ).json()
    now = datetime.now(UTC)
    window = {
        "backend": "qpu.aria-1",
        "starts_at": (now - timedelta(minutes=1)).isoformat(),
        "ends_at": (now + timedelta(hours=1)).isoformat(),
    }
    held = httpx.post(f"{server.v04}/organizations/{org['id']}/reservations", json=window, headers=auth)
    assert held.status_code == 201 and held.json()["status"] == "approved", held.text  # an admin's is
    body = bell_job(backend="qpu.aria-1", name="to cancel")
    job = httpx.post(f"{server.v04}/jobs", json=body, headers=auth).json()
    page = _login(chromium, server)
    row = page.get_by_role("row").filter(has_text="to cancel")
    assert row.locator("[data-status]").get_attribute("data-status") in ("submitted", "ready")
    page.get_by_label("Select job to cancel").check()
    page.get_by_role("button", name="Cancel selected").click()
    assert page.get_by_role("status").inner_text() == "Canceled 1 job(s)."
    assert row.locator("[data-status]").get_attribute("data-status") == "canceled"
    assert httpx.get(f"{server.v04}/jobs/{job['id']}", headers=auth).json()["status"] == "canceled"


def test_create_a_key_see_it_once_and_revoke_it(chromium, server: LiveServer, shots_dir: Path) -> None:
    page = _login(chromium, server)
    page.get_by_role("link", name="Project", exact=True).click()
    page.get_by_label("New key name").fill("from the browser")
    page.get_by_role("button", name="Create key").click()
    secret = page.get_by_label("API key").input_value()
    assert httpx.get(f"{server.v04}/jobs", headers={"Authorization": f"apiKey {secret}"}).status_code == 200
    page.screenshot(path=shots_dir / "project-new-key.png", full_page=True)
    page.get_by_role("button", name="Revoke key from the browser").click()
    page.get_by_role("row").filter(has_text="from the browser").get_by_text("revoked").wait_for()
    assert httpx.get(f"{server.v04}/jobs", headers={"Authorization": f"apiKey {secret}"}).status_code == 401
    page.screenshot(path=shots_dir / "project.png", full_page=True)


def test_a_budget_refuses_a_job_and_the_project_page_shows_what_is_left(
    chromium, server: LiveServer, shots_dir: Path
) -> None:
    auth = {"Authorization": f"apiKey {server.key}"}
    org_id = httpx.get(f"{server.v04}/whoami", headers=auth).json()["organization_id"]
    lab = httpx.post(
        f"{server.v04}/organizations/{org_id}/projects", json={"name": "Lab"}, headers=auth
    ).json()
    budget = httpx.post(
        f"{server.v04}/projects/{lab['id']}/budgets",
        json={"limit": "0.000001", "period": "month"},
        headers=auth,
    )
    assert budget.status_code == 201, budget.text
    page = _login(chromium, server)
    page.get_by_label("Working in project").select_option(label="Default Organization / Lab")
    page.get_by_role("button", name="Switch").click()
    page.wait_for_url("**/console/jobs")
    assert "Lab" in page.get_by_role("heading", level=1).inner_text()
    page.get_by_role("link", name="Submit", exact=True).click()
    page.get_by_label("Backend").select_option("qpu.harmony")
    page.get_by_label("Circuit", exact=False).fill(BELL)
    page.get_by_role("button", name="Submit", exact=True).click()
    alert = page.get_by_role("alert")
    assert "budget" in alert.inner_text()
    page.screenshot(path=shots_dir / "budget-refusal.png", full_page=True)
    page.get_by_role("link", name="My Jobs").click()
    assert page.get_by_text("No jobs match.").is_visible()  # nothing was created in Lab
    page.get_by_role("link", name="Project", exact=True).click()
    assert page.locator("[data-remaining]").get_attribute("data-remaining") == "0.000001"
    page.screenshot(path=shots_dir / "project-budget.png", full_page=True)


def test_another_organizations_job_page_is_a_404(chromium, server: LiveServer, shots_dir: Path) -> None:
    admin = {"Authorization": f"apiKey {server.key}"}
    org = httpx.post(
        f"{server.v04}/organizations",
        json={"name": "Other Org", "slug": "other", "owner_email": "owner@other.test"},
        headers=admin,
    ).json()
    httpx.post(f"{server.v04}/organizations/{org['id']}/projects", json={"name": "Theirs"}, headers=admin)
    _set_password(server.data_dir, "owner@other.test")
    job = httpx.post(f"{server.v04}/jobs", json=bell_job(), headers=admin).json()
    page = _login(chromium, server, "owner@other.test")
    response = page.goto(f"{server.url}/console/jobs/{job['id']}")
    assert response is not None and response.status == 404
    assert page.get_by_role("heading", name="Not found").is_visible()
    page.screenshot(path=shots_dir / "not-found.png", full_page=True)


def test_backends_details_and_public_status(chromium, server: LiveServer, shots_dir: Path) -> None:
    page = _login(chromium, server)
    page.get_by_role("link", name="Backends", exact=True).click()
    page.screenshot(path=shots_dir / "backends.png", full_page=True)
    page.get_by_role("link", name="Show details of qpu.aria-1").click()
    assert page.locator("table.qubits tbody tr").count() == 25
    assert page.locator("svg circle.node").count() == 25
    assert page.locator("table.history tbody tr").count() >= 1  # the characterization history
    assert page.locator("svg.history polyline").count() == 3  # spam, 1q, 2q medians
    page.screenshot(path=shots_dir / "backend-details.png", full_page=True)
    page.get_by_role("link", name="Organization", exact=True).click()
    assert page.get_by_role("link", name="Export CSV").is_visible()
    page.screenshot(path=shots_dir / "organization.png", full_page=True)
    anonymous = chromium.new_context().new_page()
    anonymous.goto(f"{server.url}/console/status")
    assert anonymous.get_by_role("row").filter(has_text="qpu.aria-1").count() == 1
    anonymous.screenshot(path=shots_dir / "status.png", full_page=True)


def test_narrow_screen_and_keyboard(chromium, server: LiveServer, shots_dir: Path) -> None:
    page = _login(chromium, server, viewport={"width": 375, "height": 800})
    wide = page.evaluate(
        "[...document.querySelectorAll('body *')]"
        ".filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)"
        ".filter(e => !e.closest('.scroll')).map(e => e.tagName + '.' + e.className + '#' + e.id)"
    )
    assert wide == [], f"sticks out of a 375 px screen: {wide}"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.screenshot(path=shots_dir / "jobs-narrow.png", full_page=True)


def test_log_out_ends_the_session(chromium, server: LiveServer) -> None:
    page = _login(chromium, server)
    cookie = next(c for c in page.context.cookies() if c["name"] == "qumulus_session")
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/console/login")
    replay = chromium.new_context()
    replay.add_cookies([cookie])
    again = replay.new_page()
    again.goto(f"{server.url}/console/jobs")
    assert again.url.endswith("/console/login")
