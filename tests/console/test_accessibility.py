"""Every console page through axe-core (vendored, pinned: tests/console/vendor/) in chromium: zero
serious or critical WCAG 2.1 A/AA violations, colour contrast included. Each page is also
screenshotted; with ``QUMULUS_UPDATE_SCREENSHOTS=1`` the PNGs (palette-reduced, each well under
300 KB) replace ``docs/screenshots/``, which docs/console.md links.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections import Counter
from pathlib import Path

import httpx
import pytest

from tests.api.conftest import BELL, bell_job
from tests.conftest import ROOT, LiveServer
from tests.console.conftest import login, set_password_cli
from tests.workloads._bodies import optimization

AXE = Path(__file__).parent / "vendor" / "axe-core-4.14.1" / "axe.min.js"
AXE_SRI = "sha256-KTSJmUUM3yhJqOcLeRL8LahahJ2jnA0NU5T1HUqe2Vw="
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
MAX_PNG = 300 * 1024


def _axe_source() -> str:
    data = AXE.read_bytes()
    assert "sha256-" + base64.b64encode(hashlib.sha256(data).digest()).decode() == AXE_SRI, (
        "axe.min.js changed"
    )
    return data.decode()


@pytest.fixture(scope="module")
def pages(server: LiveServer) -> dict[str, str]:
    """Data for every page to show something: a completed job, a waiting QPU job, a finished
    optimization (its convergence chart), a job set, a session, a budget, a key and a member to
    confirm revoking and removing; returns the paths to check, by screenshot name."""
    auth = {"Authorization": f"apiKey {server.key}"}
    done = httpx.post(
        f"{server.v04}/jobs", json=bell_job(name="bell pair", shots=1000, tags=["demo"]), headers=auth
    ).json()
    qpu = httpx.post(
        f"{server.v04}/jobs", json=bell_job(backend="qpu.harmony", name="on harmony"), headers=auth
    ).json()
    for job in (done, qpu):
        httpx.get(f"{server.v04}/jobs/{job['id']}", params={"wait": 30}, headers=auth, timeout=40)
    job_set = httpx.post(
        f"{server.v04}/job_sets",
        json={
            "backend": "simulator",
            "circuits": [BELL, BELL, BELL],
            "max_experiments_per_job": 2,
            "name": "sweep",
        },
        headers=auth,
    ).json()
    session = httpx.post(f"{server.v04}/sessions", json={"backend": "simulator"}, headers=auth).json()
    whoami = httpx.get(f"{server.v04}/whoami", headers=auth).json()
    httpx.post(
        f"{server.v04}/projects/{whoami['project_id']}/budgets",
        json={"limit": "25", "period": "month"},
        headers=auth,
    )
    workload = httpx.post(f"{server.v04}/jobs", json=optimization("COBYLA", maxiter=20), headers=auth).json()
    key = httpx.post(
        f"{server.v04}/projects/{whoami['project_id']}/keys", json={"name": "lab laptop"}, headers=auth
    )
    person = httpx.post(
        f"{server.v04}/organizations/{whoami['organization_id']}/members",
        json={"email": "pat@example.test"},
        headers=auth,
    )
    joined = httpx.post(
        f"{server.v04}/projects/{whoami['project_id']}/members",
        json={"email": "pat@example.test", "role": "member"},
        headers=auth,
    )
    assert (key.status_code, person.status_code, joined.status_code) == (201, 201, 201), (
        key.text + person.text
    )
    for _ in range(4):  # an optimization takes a few seconds to a minute on a shared machine
        ended = httpx.get(
            f"{server.v04}/jobs/{workload['id']}", params={"wait": 50}, headers=auth, timeout=60
        )
        if ended.json()["status"] in ("completed", "failed", "canceled"):
            break
    assert ended.json()["status"] == "completed", ended.text  # its page draws the convergence chart
    pat = person.json()["user_id"]
    return {
        "jobs": "/console/jobs",
        "job-detail": f"/console/jobs/{done['id']}",
        "job-counts": f"/console/jobs/{done['id']}?scale=counts",
        "job-qpu": f"/console/jobs/{qpu['id']}",
        "job-cancel-confirm": f"/console/jobs/cancel?job_id={done['id']}",
        "job-workload": f"/console/jobs/{workload['id']}",
        "submit": "/console/jobs/new",
        "job-sets": "/console/job-sets",
        "job-set": f"/console/job-sets/{job_set['id']}",
        "sessions": "/console/sessions",
        "session": f"/console/sessions/{session['id']}",
        "backends": "/console/backends",
        "backend-details": "/console/backends/qpu.aria-1",
        "backend-simulator": "/console/backends/simulator",
        "project": "/console/project",
        "project-keys": "/console/project/keys",
        "key-revoke-confirm": f"/console/project/keys/{key.json()['key_id']}/revoke",
        "project-members": "/console/project/members",
        "project-member-remove-confirm": f"/console/project/members/{pat}/remove",
        "organization": "/console/organization",
        "organization-people": "/console/organization/members",
        "organization-member-remove-confirm": f"/console/organization/members/{pat}/remove",
        "organization-projects": "/console/organization/projects",
        "organization-reservations": "/console/organization/reservations",
        "account": "/console/account",
        "status": "/console/status",
        "not-found": "/console/no-such-page",
    }


@pytest.fixture(scope="module")
def shots_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("screenshots")


#: Every violation axe reported in this run, by impact (minor and moderate are reported, not failed).
IMPACTS: Counter[str] = Counter()


def _check(page, name: str, shots_dir: Path) -> list[str]:  # type: ignore[no-untyped-def]
    """axe's serious and critical violations on the page (as readable lines), and a screenshot."""
    page.add_script_tag(content=_axe_source())
    result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", TAGS)
    IMPACTS.update(v["impact"] for v in result["violations"])
    problems = [
        f"{name}: {v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    _screenshot(page, shots_dir / f"{name}.png")
    return problems


def _screenshot(page, path: Path) -> None:  # type: ignore[no-untyped-def]
    """A full-page PNG (at most 2400 px tall) reduced to a 256-colour palette: small, still crisp."""
    from PIL import Image

    height = min(page.evaluate("document.documentElement.scrollHeight"), 2400)
    page.screenshot(path=path, clip={"x": 0, "y": 0, "width": page.viewport_size["width"], "height": height},
                    full_page=True)  # fmt: skip
    with Image.open(path) as image:
        image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)
    assert path.stat().st_size < MAX_PNG, f"{path.name} is {path.stat().st_size} bytes"


def test_every_page_has_no_serious_or_critical_accessibility_violations(
    chromium, server: LiveServer, pages: dict[str, str], shots_dir: Path
) -> None:
    visitor = chromium.new_context(viewport={"width": 1280, "height": 860}).new_page()
    problems: list[str] = []
    visitor.goto(f"{server.url}/console/login")
    problems += _check(visitor, "login", shots_dir)
    visitor.goto(f"{server.url}/console/status")
    problems += _check(visitor, "status-public", shots_dir)
    page = login(chromium, server, viewport={"width": 1280, "height": 860})
    for name, path in pages.items():
        page.goto(f"{server.url}{path}")
        page.wait_for_load_state("networkidle")
        problems += _check(page, name, shots_dir)
        if name == "job-workload":  # checked (and shown) with its convergence chart drawn
            assert page.locator(".convergence-chart").count() == 1
    narrow = login(chromium, server, viewport={"width": 390, "height": 800})
    narrow.goto(f"{server.url}/console/jobs")
    problems += _check(narrow, "jobs-narrow", shots_dir)
    made = httpx.post(
        f"{server.v04}/organizations",
        json={"name": "Optics Lab", "owner_email": "owner@optics.test"},
        headers={"Authorization": f"apiKey {server.key}"},
    )
    assert made.status_code == 201, made.text
    set_password_cli(server.data_dir, "owner@optics.test")
    owner = login(chromium, server, "owner@optics.test", viewport={"width": 1280, "height": 860})
    assert owner.url.endswith("/console/welcome")  # a new owner, in no project yet
    problems += _check(owner, "welcome", shots_dir)
    assert problems == [], "\n".join(problems)
    checked = sorted(p.stem for p in shots_dir.glob("*.png"))
    version = AXE.parent.name.removeprefix("axe-core-")
    print(f"\naxe-core {version}: {len(checked)} pages {checked}; violations by impact: {dict(IMPACTS)}")
    if os.environ.get("QUMULUS_UPDATE_SCREENSHOTS") == "1":
        target = ROOT / "docs" / "screenshots"
        for old in target.glob("*.png"):
            old.unlink()
        for png in shots_dir.glob("*.png"):
            (target / png.name).write_bytes(png.read_bytes())
    print(f"\nconsole screenshots: {shots_dir}")
