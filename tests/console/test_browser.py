"""The console in a real browser (Debian's chromium via Playwright) against a real ``qumulus serve``.

One server and one chromium for the whole module (tests/console/conftest.py).
Each defect the console had (issue 18: re-posting forms, a new organization's owner stuck, JSON 404s,
error pages without the header, wrong members message, no paging, no confirmations) has a test here
that failed before it was fixed.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.api.conftest import BELL, bell_job
from tests.conftest import LiveServer
from tests.console.conftest import login, set_password_cli

BELL_TEXT = json.dumps(BELL)


def _auth(server: LiveServer) -> dict[str, str]:
    return {"Authorization": f"apiKey {server.key}"}


def _wait(server: LiveServer, job_id: str) -> dict:
    return httpx.get(
        f"{server.v04}/jobs/{job_id}", params={"wait": 30}, headers=_auth(server), timeout=40
    ).json()


@pytest.fixture(scope="module")
def blocked_qpu(server: LiveServer) -> str:
    """Another organization holds qpu.aria-1 for the next hour, so jobs there wait in the queue."""
    auth = _auth(server)
    org = httpx.post(
        f"{server.v04}/organizations", json={"name": "Reserver", "slug": "reserver"}, headers=auth
    )
    now = datetime.now(UTC)
    window = {
        "backend": "qpu.aria-1",
        "starts_at": (now - timedelta(minutes=1)).isoformat(),
        "ends_at": (now + timedelta(hours=1)).isoformat(),
    }
    held = httpx.post(
        f"{server.v04}/organizations/{org.json()['id']}/reservations", json=window, headers=auth
    )
    assert held.status_code == 201 and held.json()["status"] == "approved", held.text
    return "qpu.aria-1"


def test_submit_with_preview_and_estimate_then_watch_results_toggle_and_download(
    chromium, server: LiveServer
) -> None:
    page = login(chromium, server, timezone_id="America/New_York", accept_downloads=True)
    page.get_by_role("link", name="Submit", exact=True).click()
    page.get_by_label("Circuit source").fill(BELL_TEXT)
    page.get_by_label("qpu.aria-1").check()
    page.get_by_role("button", name="Preview and estimate").click()
    page.wait_for_function("() => +document.querySelector('#preview [data-estimate]')?.dataset.estimate > 0")
    estimate = page.locator("#preview [data-estimate]")
    assert float(estimate.get_attribute("data-estimate")) > 0  # a QPU second costs money
    assert estimate.inner_text().endswith(" USD")
    assert "CX × 1" in page.locator("#preview").inner_text().upper()
    page.get_by_label("simulator").check()
    page.get_by_label("Shots").fill("500")
    page.get_by_label("Name (optional)").fill("bell from the console")
    page.get_by_label("Tags (optional, separated by commas)").fill("demo")
    page.get_by_role("button", name="Submit job").click()
    page.wait_for_url("**/console/jobs/*")
    page.evaluate("window.__sameDocument = true")  # gone if the page reloads
    page.wait_for_selector('#live [data-status="completed"]', timeout=30_000)
    assert page.evaluate("window.__sameDocument === true"), "the status changed by reloading the page"
    bars = page.locator("figure.histogram rect.bar")
    assert bars.evaluate_all("els => els.map(e => e.dataset.outcome)") == ["00", "11"]  # bitstring order
    assert page.locator("svg.histogram-chart text.unit").text_content() == "Probability"
    # the timeline is in the reader's zone, and says so
    assert (
        page.locator("[data-tz-note]")
        .first.inner_text()
        .startswith("Times are in your time zone (America/New_York)")
    )
    assert page.locator(".steps time").first.inner_text().endswith(("EST", "EDT"))
    assert page.locator("[data-billed]").get_attribute("data-billed") != ""
    page.get_by_role("link", name="Counts").click()
    page.wait_for_selector('figure.histogram[data-scale="counts"]')
    counts = page.locator("figure.histogram rect.bar").evaluate_all(
        "els => els.map(e => +e.dataset.value.replace(/,/g, ''))"
    )
    assert sum(counts) == 500
    with page.expect_download() as got:
        page.locator('a[href*="/download/counts.csv"]').click()
    rows = list(csv.DictReader(io.StringIO(got.value.path().read_text())))
    assert {r["bitstring"] for r in rows} <= {"00", "01", "10", "11"} and sum(
        int(r["count"]) for r in rows
    ) == 500
    job_id = page.url.split("/jobs/")[1].split("?")[0]
    page.get_by_role("button", name="Run again").click()
    page.wait_for_url(lambda url: "/jobs/" in url and job_id not in url)
    assert "Submitted again" in page.get_by_role("status").first.inner_text()
    page.goto(f"{server.url}/console/jobs?q=demo")
    assert page.get_by_role("row").filter(has_text="bell from the console").count() == 2  # found by tag


def test_an_uploaded_openqasm_file_is_submitted_and_runs(chromium, server: LiveServer, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Submit → upload a .qasm file (read into the form, OpenQASM chosen), Submit job: the program
    itself is the job, and it runs to its one answer (qubits 0 and 2 flipped: 101)."""
    program = tmp_path / "flip.qasm"
    program.write_text(
        'OPENQASM 3.0;\ninclude "stdgates.inc";\nqubit[3] q;\nbit[3] c;\nx q[0];\nx q[2];\nc = measure q;\n'
    )
    page = login(chromium, server)
    page.get_by_role("link", name="Submit", exact=True).click()
    page.get_by_label("Or upload a file (.json, .qasm)").set_input_files(str(program))
    page.wait_for_function("() => document.getElementById('source').value.startsWith('OPENQASM 3.0')")
    assert page.get_by_label("OpenQASM 2 or 3").is_checked()
    page.get_by_label("simulator").check()
    page.get_by_label("Shots").fill("64")
    page.get_by_label("Name (optional)").fill("uploaded flip")
    page.get_by_role("button", name="Submit job").click()
    page.wait_for_url("**/console/jobs/*")
    page.wait_for_selector('#live [data-status="completed"]', timeout=30_000)
    job_id = page.url.split("/jobs/")[1].split("?")[0]
    job = _wait(server, job_id)
    assert job["type"] == "ionq.qasm3.v1" and job["name"] == "uploaded flip"
    assert page.locator("figure.histogram rect.bar").evaluate_all(
        "els => els.map(e => e.dataset.outcome)"
    ) == ["101"]
    probabilities = httpx.get(f"{server.v04}/jobs/{job_id}/results/probabilities", headers=_auth(server))
    assert probabilities.json() == {"5": 1.0}


def test_a_waiting_qpu_job_shows_place_times_cost_and_cancel_asks_first(
    chromium, server: LiveServer, blocked_qpu: str
) -> None:
    body = bell_job(backend=blocked_qpu, name="waits for the qpu")
    job = httpx.post(f"{server.v04}/jobs", json=body, headers=_auth(server)).json()
    page = login(chromium, server)
    page.goto(f"{server.url}/console/jobs/{job['id']}")
    outlook = page.locator(".outlook")
    assert outlook.locator("[data-position]").count() == 1
    assert "Expected start" in outlook.inner_text() and "Expected end" in outlook.inner_text()
    cost = outlook.locator("[data-estimate]")
    assert float(cost.get_attribute("data-estimate")) > 0 and cost.inner_text().split()[1] == "USD"
    # the compiled native circuit, in Aria's gates (the artifact the API serves)
    native = page.locator("section.native")
    assert page.get_by_role("heading", name="Compiled to native gates").is_visible()
    chips = {c.split(" × ")[0].lower() for c in native.locator(".chip").all_inner_texts()}
    artifact = httpx.get(f"{server.v04}/jobs/{job['id']}/artifacts/native", headers=_auth(server)).json()
    gates = {op["gate"] for op in (artifact[0] if isinstance(artifact, list) else artifact)["circuit"]}
    assert chips == gates and "ms" in chips and chips <= {"gpi", "gpi2", "ms"}, (chips, gates)
    assert native.locator("pre.drawing").is_visible()
    page.once("dialog", lambda d: d.dismiss())
    page.get_by_role("button", name="Cancel job").click()
    page.wait_for_timeout(300)
    assert httpx.get(f"{server.v04}/jobs/{job['id']}", headers=_auth(server)).json()["status"] == "ready"
    page.once("dialog", lambda d: d.accept())
    page.get_by_role("button", name="Cancel job").click()
    page.wait_for_selector('#live [data-status="canceled"]')
    assert httpx.get(f"{server.v04}/jobs/{job['id']}", headers=_auth(server)).json()["status"] == "canceled"


def test_bulk_cancel_confirms_and_a_reload_does_not_post_again(
    chromium, server: LiveServer, blocked_qpu: str
) -> None:
    job = httpx.post(
        f"{server.v04}/jobs", json=bell_job(backend=blocked_qpu, name="bulk one"), headers=_auth(server)
    )
    page = login(chromium, server)
    page.get_by_label("Select job bulk one").check()
    page.once("dialog", lambda d: d.dismiss())
    page.get_by_role("button", name="Cancel selected").click()
    page.wait_for_timeout(300)
    assert (
        httpx.get(f"{server.v04}/jobs/{job.json()['id']}", headers=_auth(server)).json()["status"] == "ready"
    )
    page.once("dialog", lambda d: d.accept())
    page.get_by_role("button", name="Cancel selected").click()
    page.wait_for_url("**/console/jobs?project=*")
    assert page.get_by_role("status").inner_text() == "Canceled 1 job."
    page.reload()
    assert page.get_by_role("status").count() == 0  # shown once; the reload is a GET


def test_a_new_key_is_shown_once_with_copy_and_a_reload_makes_no_second_key(
    chromium, server: LiveServer
) -> None:
    page = login(chromium, server)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    project = httpx.get(f"{server.v04}/whoami", headers=_auth(server)).json()["project_id"]

    def count() -> int:
        return len(httpx.get(f"{server.v04}/projects/{project}/keys", headers=_auth(server)).json()["keys"])

    before = count()
    page.goto(f"{server.url}/console/project/keys")
    page.get_by_label("New key name").fill("from the browser")
    page.get_by_label("manage").uncheck()
    page.get_by_label("jobs:write").uncheck()
    page.get_by_label("Expires").select_option("30")
    page.get_by_role("button", name="Create key").click()
    page.wait_for_url("**/console/project/keys")  # redirected: the page a reload gets is a GET
    secret = page.get_by_label("API key", exact=False).input_value()
    page.get_by_role("button", name="Copy").click()
    assert page.evaluate("navigator.clipboard.readText()") == secret
    reader = {"Authorization": f"apiKey {secret}"}
    assert httpx.get(f"{server.v04}/jobs", headers=reader).status_code == 200
    assert (
        httpx.post(f"{server.v04}/jobs", json=bell_job(), headers=reader).status_code == 403
    )  # jobs:read only
    row = page.get_by_role("row").filter(has_text="from the browser")
    assert "jobs:read" in row.inner_text() and "jobs:write" not in row.inner_text()
    assert row.locator("time").count() >= 2  # created and expires
    page.reload()
    assert count() == before + 1  # the reload did not create a second key
    assert secret not in page.content()  # shown once
    page.goto(f"{server.url}/console/project/keys/nothing/revoke", wait_until="commit")
    page.goto(f"{server.url}/console/project/keys")
    page.once("dialog", lambda d: d.dismiss())  # "Revoke …?" answered no: nothing is sent
    row.get_by_role("button", name="Revoke key from the browser").click()
    page.wait_for_timeout(300)
    assert httpx.get(f"{server.v04}/jobs", headers=reader).status_code == 200  # the key still works
    assert row.get_by_text("revoked").count() == 0
    key_id = row.get_by_role("button", name="Revoke key from the browser").evaluate(
        "b => b.form.action.split('/keys/')[1].split('/')[0]"
    )
    page.goto(f"{server.url}/console/project/keys/{key_id}/revoke")  # the page asked without JS
    page.get_by_role("link", name="No, keep it").click()
    page.wait_for_url("**/console/project/keys")
    assert httpx.get(f"{server.v04}/jobs", headers=reader).status_code == 200
    page.once("dialog", lambda d: d.accept())
    row.get_by_role("button", name="Revoke key from the browser").click()
    row.get_by_text("revoked").wait_for()
    assert httpx.get(f"{server.v04}/jobs", headers=reader).status_code == 401


def test_opening_a_forms_address_leads_to_its_page_not_json(chromium, server: LiveServer) -> None:
    page = login(chromium, server)
    answer = page.goto(f"{server.url}/console/project/keys/abc/revoke/x", wait_until="load")
    assert answer is not None and "text/html" in answer.headers["content-type"]
    answer = page.goto(f"{server.url}/console/account/password")
    assert page.url.endswith("/console/account") and answer is not None and answer.status == 200


def test_budget_refusal_in_plain_words_with_a_link_to_the_budget(chromium, server: LiveServer) -> None:
    auth = _auth(server)
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
    page = login(chromium, server)
    page.get_by_label("Working in project").select_option(label="Default Organization / Lab")
    page.get_by_role("button", name="Switch").click()
    page.wait_for_url("**/console/jobs")
    page.get_by_role("link", name="Submit", exact=True).click()
    page.get_by_label("qpu.harmony").check()
    page.get_by_label("Circuit source").fill(BELL_TEXT)
    page.get_by_role("button", name="Submit job").click()
    page.wait_for_url("**/console/jobs/new")
    alert = page.get_by_role("alert")
    assert alert.inner_text().startswith("Not enough budget: this job would cost about")
    assert "0.000001 USD left" in alert.inner_text()
    assert page.get_by_label("Circuit source").input_value() == BELL_TEXT  # the draft is kept
    page.reload()  # a GET: nothing is posted again
    page.get_by_role("link", name="My Jobs").click()
    assert page.get_by_text("No jobs match.").is_visible()  # nothing was created in Lab
    page.goto(f"{server.url}/console/jobs/new")
    page.get_by_label("qpu.harmony").check()
    page.get_by_role("button", name="Submit job").click()
    page.get_by_role("link", name="See the project's budget").click()
    assert page.locator("[data-remaining]").get_attribute("data-remaining") == "0.000001"
    assert page.locator("svg.meter-chart").count() == 1


def test_a_new_organizations_owner_is_led_to_create_the_first_project(chromium, server: LiveServer) -> None:
    made = httpx.post(
        f"{server.v04}/organizations",
        json={"name": "Fresh Lab", "slug": "fresh", "owner_email": "owner@fresh.test"},
        headers=_auth(server),
    )
    assert made.status_code == 201, made.text
    set_password_cli(server.data_dir, "owner@fresh.test")
    page = login(chromium, server, "owner@fresh.test")
    assert page.url.endswith("/console/welcome")
    assert "Fresh Lab" in page.get_by_role("main").inner_text()
    page.get_by_label("Project name").fill("First experiments")
    page.get_by_role("button", name="Create project").click()
    page.wait_for_url("**/console/jobs")
    assert "Fresh Lab / First experiments" in page.locator(".sub").inner_text()
    page.get_by_role("link", name="Project", exact=True).click()
    page.get_by_role("link", name="Members").click()
    # the owner of a project with no members is told so, not that their role hides them
    assert "No one is a member of this project yet" in page.get_by_role("main").inner_text()
    page.get_by_role("link", name="Organization", exact=True).click()
    assert page.title() == "Fresh Lab · Qumulus console"  # the <title> is closed


def test_unknown_urls_and_errors_are_pages_with_the_signed_in_header(chromium, server: LiveServer) -> None:
    other = httpx.post(
        f"{server.v04}/organizations",
        json={"name": "Other Org", "slug": "other", "owner_email": "owner@other.test"},
        headers=_auth(server),
    ).json()
    httpx.post(
        f"{server.v04}/organizations/{other['id']}/projects", json={"name": "Theirs"}, headers=_auth(server)
    )
    set_password_cli(server.data_dir, "owner@other.test")
    job = httpx.post(f"{server.v04}/jobs", json=bell_job(), headers=_auth(server)).json()
    page = login(chromium, server, "owner@other.test")
    for path in (f"/console/jobs/{job['id']}", "/console/no-such-page"):
        answer = page.goto(f"{server.url}{path}")
        assert answer is not None and answer.status == 404 and "text/html" in answer.headers["content-type"]
        assert page.get_by_role("heading", name="Not found").is_visible()
        assert page.get_by_role("button", name="Log out").is_visible()  # still signed in, and shown so
        assert page.get_by_role("navigation", name="Main").is_visible()


def test_my_jobs_pages_through_more_than_a_page(chromium, server: LiveServer) -> None:
    auth = _auth(server)
    org_id = httpx.get(f"{server.v04}/whoami", headers=auth).json()["organization_id"]
    many = httpx.post(
        f"{server.v04}/organizations/{org_id}/projects", json={"name": "Many"}, headers=auth
    ).json()
    key = httpx.post(f"{server.v04}/projects/{many['id']}/keys", json={"name": "k"}, headers=auth).json()[
        "key"
    ]
    for n in range(27):
        made = httpx.post(f"{server.v04}/jobs", json=bell_job(name=f"page job {n:02d}", dry_run=True),
                          headers={"Authorization": f"apiKey {key}"})  # fmt: skip
        assert made.status_code in (200, 201), made.text
    page = login(chromium, server)
    page.goto(f"{server.url}/console/jobs?project={many['id']}")
    first = page.locator("table.jobs tbody tr").count()
    page.get_by_role("link", name="Older jobs →").click()
    second = page.locator("table.jobs tbody tr").count()
    assert (first, second) == (25, 2)
    assert "page job 00" in page.locator("table.jobs").inner_text()
    page.get_by_role("link", name="← Newer jobs").click()
    assert "page job 26" in page.locator("table.jobs").inner_text()


def test_backends_qubit_map_sorting_history_and_calibration(chromium, server: LiveServer) -> None:
    page = login(chromium, server, accept_downloads=True)
    page.get_by_role("link", name="Backends", exact=True).click()
    page.get_by_role("button", name="Qubits").click()  # sort by qubits, ascending
    names = page.locator("table.backends tbody th").all_inner_texts()
    widths = [int(t) for t in page.locator("table.backends tbody tr td:nth-child(3)").all_inner_texts()]
    assert widths == sorted(widths) and len(names) == len(widths)
    page.get_by_role("link", name="qpu.aria-1").click()
    nodes = page.locator("svg.qubit-map circle.node")
    assert nodes.count() == 25
    by_2q = nodes.evaluate_all("els => els.map(e => e.getAttribute('fill'))")
    page.get_by_label("Colour by").select_option("t1")
    page.get_by_role("button", name="Show").click()
    assert page.locator("svg.qubit-map").get_attribute("aria-label").endswith("coloured by T1")
    assert nodes.evaluate_all("els => els.map(e => e.getAttribute('fill'))") != by_2q
    header = page.locator("table.qubits th").filter(has_text="T1 (s)")
    header.get_by_role("button").click()
    header.get_by_role("button").click()  # descending
    t1 = [float(v) for v in page.locator("table.qubits tbody tr td:nth-child(2)").all_inner_texts()]
    assert t1 == sorted(t1, reverse=True)
    assert page.locator("svg.history polyline").count() == 3  # spam, 1q, 2q medians
    assert page.locator("svg.history text.tick").filter(has_text="UTC").count() == 1  # a dated axis
    with page.expect_download() as got:
        page.get_by_role("link", name="per qubit (CSV)").click()
    lines = got.value.path().read_text().splitlines()
    assert lines[0].startswith("qubit,t1_s,t2_s") and len(lines) == 26
    assert page.get_by_role("heading", name="Status history").is_visible()


def test_usage_charts_and_breakdowns_on_project_and_organization(chromium, server: LiveServer) -> None:
    job = httpx.post(
        f"{server.v04}/jobs", json=bell_job(backend="qpu.harmony", shots=50), headers=_auth(server)
    )
    assert _wait(server, job.json()["id"])["status"] == "completed"
    page = login(chromium, server)
    page.get_by_role("link", name="Project", exact=True).click()
    page.wait_for_url("**/console/project")  # count on the new page, not the one being left
    page.locator("svg.usage-chart rect.seg").first.wait_for()
    assert page.locator("table.by-backend").filter(has_text="qpu.harmony").count() == 1
    assert page.locator("table.by-user").filter(has_text="admin@localhost").count() == 1
    page.get_by_role("link", name="Organization", exact=True).click()
    page.wait_for_url("**/console/organization")
    page.locator("svg.meter-chart").first.wait_for()  # allocation meters
    assert page.locator("svg.usage-chart").count() >= 1
    csv_text = page.request.get(f"{server.url}/console/organization/usage.csv").text()
    assert csv_text.startswith("project_id,project_name,backend,jobs")


def test_members_and_roles_and_the_account_password(chromium, server: LiveServer) -> None:
    auth = _auth(server)
    org_id = httpx.get(f"{server.v04}/whoami", headers=auth).json()["organization_id"]
    invited = httpx.post(
        f"{server.v04}/organizations/{org_id}/members",
        json={"email": "pat@example.test", "role": "member"},
        headers=auth,
    )
    assert invited.status_code == 201, invited.text
    page = login(chromium, server)
    page.goto(f"{server.url}/console/project/members")
    page.get_by_label("Email of someone in the organization").fill("pat@example.test")
    page.get_by_label("Role", exact=True).select_option("viewer")
    page.get_by_role("button", name="Add member").click()
    row = page.get_by_role("row").filter(has_text="pat@example.test")
    assert row.get_by_label("Role of pat@example.test").input_value() == "viewer"
    row.get_by_label("Role of pat@example.test").select_option("admin")
    row.get_by_role("button", name="Change role of pat@example.test").click()
    assert (
        page.get_by_role("row")
        .filter(has_text="pat@example.test")
        .get_by_label("Role of pat@example.test")
        .input_value()
        == "admin"
    )
    page.get_by_role("row").filter(has_text="pat@example.test").get_by_role(
        "link", name="Remove pat@example.test"
    ).click()
    page.get_by_role("button", name="Yes, remove").click()
    assert page.get_by_role("row").filter(has_text="pat@example.test").count() == 0
    page.get_by_role("link", name="admin@localhost", exact=True).click()
    page.get_by_label("Current password").fill("not it")
    page.get_by_label("New password", exact=True).fill("a brand new password")
    page.get_by_label("New password again").fill("a brand new password")
    page.get_by_role("button", name="Change password").click()
    assert "does not match" in page.get_by_role("alert").inner_text()


def test_job_sets_and_sessions_have_pages(chromium, server: LiveServer) -> None:
    auth = _auth(server)
    made = httpx.post(
        f"{server.v04}/job_sets",
        json={
            "backend": "simulator",
            "circuits": [BELL, BELL, BELL],
            "max_experiments_per_job": 2,
            "name": "trio",
        },
        headers=auth,
    )
    assert made.status_code == 201, made.text
    session = httpx.post(f"{server.v04}/sessions", json={"backend": "simulator"}, headers=auth).json()
    page = login(chromium, server)
    page.get_by_role("link", name="Job sets").click()
    page.get_by_role("link", name="trio").click()
    assert page.locator("table tbody tr").count() == 2
    page.get_by_role("link", name="Sessions").click()
    page.get_by_role("link", name=session["id"][:8]).click()
    page.once("dialog", lambda d: d.accept())
    page.get_by_role("button", name="End session").click()
    page.wait_for_selector("h1 .s-ended")


def test_narrow_screen_and_keyboard(chromium, server: LiveServer) -> None:
    page = login(chromium, server, viewport={"width": 375, "height": 800})
    for path in ("/console/jobs", "/console/jobs/new", "/console/project", "/console/backends/qpu.aria-1"):
        page.goto(f"{server.url}{path}")
        wide = page.evaluate(
            "[...document.querySelectorAll('body *')]"
            ".filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)"
            ".filter(e => !e.closest('.scroll') && !e.closest('figure') && !e.closest('pre'))"
            ".map(e => e.tagName + '.' + e.className + '#' + e.id)"
        )
        assert wide == [], f"sticks out of a 375 px screen on {path}: {wide}"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"


def test_log_out_ends_the_session(chromium, server: LiveServer) -> None:
    page = login(chromium, server)
    cookie = next(c for c in page.context.cookies() if c["name"] == "qumulus_session")
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/console/login")
    replay = chromium.new_context()
    replay.add_cookies([cookie])
    again = replay.new_page()
    again.goto(f"{server.url}/console/jobs")
    assert again.url.endswith("/console/login")
