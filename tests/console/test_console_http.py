"""The console over plain HTTP: login, CSRF, logout, tenant isolation, roles, keys.

No browser here (tests/console/test_browser.py has those); these run on every machine.
"""

from __future__ import annotations

import re

from tests.api.conftest import BELL, bell_job
from tests.api.tenants import make_tenant, ok
from tests.conftest import Api
from tests.console.helpers import PASSWORD, browser, csrf, login, set_password

BELL_TEXT = (
    '{"qubits": 2, "circuit": [{"gate": "h", "target": 0}, {"gate": "cnot", "control": 0, "target": 1}]}'
)


def _jobs(api: Api, key: str | None = None) -> list[dict]:
    headers = {"Authorization": f"apiKey {key}"} if key else {}
    return ok(api.get("/v0.4/jobs", headers=headers))["jobs"]


def test_wrong_password_is_refused_and_gives_no_session(idle_api: Api) -> None:
    set_password(idle_api.platform, "admin@localhost")
    client = browser(idle_api.client.app)
    form = client.get("/console/login")
    refused = client.post(
        "/console/login",
        data={"email": "admin@localhost", "password": "not the password", "csrf_token": csrf(form)},
        follow_redirects=False,
    )
    assert refused.status_code == 401
    assert "Wrong email or password" in refused.text
    assert "qumulus_session" not in client.cookies
    # Without a session every page sends the person to the login form.
    assert client.get("/console/jobs", follow_redirects=False).headers["location"] == "/console/login"


def test_login_form_without_its_csrf_cookie_is_refused(idle_api: Api) -> None:
    set_password(idle_api.platform, "admin@localhost")
    client = browser(idle_api.client.app)
    refused = client.post(
        "/console/login",
        data={"email": "admin@localhost", "password": PASSWORD, "csrf_token": "forged"},
        follow_redirects=False,
    )
    assert refused.status_code == 403
    assert "qumulus_session" not in client.cookies


def test_session_cookie_is_httponly_and_samesite(idle_api: Api) -> None:
    set_password(idle_api.platform, "admin@localhost")
    client = browser(idle_api.client.app)
    form = client.get("/console/login")
    done = client.post(
        "/console/login",
        data={"email": "admin@localhost", "password": PASSWORD, "csrf_token": csrf(form)},
        follow_redirects=False,
    )
    cookie = next(v for v in done.headers.get_list("set-cookie") if v.startswith("qumulus_session="))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Secure" not in cookie  # plain http here; over https the cookie is Secure
    over_tls = browser(idle_api.client.app, "https://testserver")
    form = over_tls.get("/console/login")
    done = over_tls.post(
        "/console/login",
        data={"email": "admin@localhost", "password": PASSWORD, "csrf_token": csrf(form)},
        follow_redirects=False,
    )
    cookie = next(v for v in done.headers.get_list("set-cookie") if v.startswith("qumulus_session="))
    assert "Secure" in cookie


def test_a_form_without_the_csrf_token_changes_nothing(idle_api: Api) -> None:
    set_password(idle_api.platform, "admin@localhost")
    client = login(idle_api.client.app, "admin@localhost")
    form = {"backend": "simulator", "shots": "10", "source": BELL_TEXT}
    refused = client.post("/console/jobs/new", data=form, follow_redirects=False)
    assert refused.status_code == 403
    assert "csrf_token" in refused.text
    forged = client.post("/console/jobs/new", data={**form, "csrf_token": "x" * 32}, follow_redirects=False)
    assert forged.status_code == 403
    assert _jobs(idle_api) == []
    # With the page's token the same form submits a job.
    page = client.get("/console/jobs/new")
    made = client.post("/console/jobs/new", data={**form, "csrf_token": csrf(page)}, follow_redirects=False)
    assert made.status_code == 303
    assert [j["id"] for j in _jobs(idle_api)] == [made.headers["location"].rsplit("/", 1)[1]]


def test_bulk_cancel_needs_the_token_asks_first_and_cancels_the_selected_jobs(idle_api: Api) -> None:
    set_password(idle_api.platform, "admin@localhost")
    ids = [ok(idle_api.post("/v0.4/jobs", json=bell_job()), 201)["id"] for _ in range(3)]
    client = login(idle_api.client.app, "admin@localhost")
    listing = client.get("/console/jobs")
    assert all(i in listing.text for i in ids)
    assert client.post("/console/jobs/cancel", data={"job_id": ids[:2]}).status_code == 403
    # unconfirmed (no script asked): a confirmation page naming the jobs, and nothing canceled yet
    asked = client.post("/console/jobs/cancel", data={"job_id": ids[:2], "csrf_token": csrf(listing)})
    assert asked.status_code == 200 and "Cancel 2 jobs?" in asked.text and ids[0] in asked.text
    assert {j["status"] for j in _jobs(idle_api)} == {"ready"}
    done = client.post(
        "/console/jobs/cancel", data={"job_id": ids[:2], "csrf_token": csrf(listing), "confirmed": "yes"},
        follow_redirects=False,
    )  # fmt: skip
    assert done.status_code == 303 and done.headers["location"].startswith("/console/jobs?")
    assert "Canceled 2 jobs." in client.get(done.headers["location"]).text
    assert "Canceled 2 jobs." not in client.get(done.headers["location"]).text  # shown once
    statuses = {j["id"]: j["status"] for j in _jobs(idle_api)}
    assert statuses == {ids[0]: "canceled", ids[1]: "canceled", ids[2]: "ready"}
    # The filter shows only what was asked for.
    only_active = client.get("/console/jobs", params={"status": "ready"})
    assert ids[2] in only_active.text and ids[0] not in only_active.text


def test_logout_ends_the_session_for_that_cookie(idle_api: Api) -> None:
    set_password(idle_api.platform, "admin@localhost")
    client = login(idle_api.client.app, "admin@localhost")
    cookie = client.cookies["qumulus_session"]
    page = client.get("/console/jobs")
    assert page.status_code == 200
    out = client.post("/console/logout", data={"csrf_token": csrf(page)}, follow_redirects=False)
    assert out.status_code == 303
    replay = browser(idle_api.client.app)
    replay.cookies.set("qumulus_session", cookie, path="/console")
    again = replay.get("/console/jobs", follow_redirects=False)
    assert again.status_code == 303 and again.headers["location"] == "/console/login"


def test_another_organizations_job_is_a_404(idle_api: Api) -> None:
    a, b = make_tenant(idle_api, "alpha"), make_tenant(idle_api, "beta")
    theirs = ok(
        idle_api.post("/v0.4/jobs", json=bell_job(), headers={"Authorization": f"apiKey {a.keys['owner']}"}),
        201,
    )
    set_password(idle_api.platform, "owner@beta.test")
    set_password(idle_api.platform, "owner@alpha.test")
    mine = login(idle_api.client.app, "owner@alpha.test").get(f"/console/jobs/{theirs['id']}")
    assert mine.status_code == 200 and theirs["id"] in mine.text
    client = login(idle_api.client.app, "owner@beta.test")
    for path in (
        f"/console/jobs/{theirs['id']}",
        f"/console/jobs/{theirs['id']}?project={a.project_id}",
        f"/console/jobs/{theirs['id']}/panel",
        f"/console/jobs?project={a.project_id}",
    ):
        page = client.get(path)
        assert page.status_code == 404, path
        assert "Not found" in page.text
    assert b.project_id in client.get("/console/jobs").text


def test_a_viewer_sees_jobs_but_cannot_submit(idle_api: Api) -> None:
    tenant = make_tenant(idle_api, "gamma")
    ok(
        idle_api.post(
            "/v0.4/jobs", json=bell_job(), headers={"Authorization": f"apiKey {tenant.keys['admin']}"}
        ),
        201,
    )
    set_password(idle_api.platform, "viewer@gamma.test")
    client = login(idle_api.client.app, "viewer@gamma.test")
    page = client.get("/console/jobs/new")
    refused = client.post(
        "/console/jobs/new",
        data={"backend": "simulator", "shots": "10", "source": BELL_TEXT, "csrf_token": csrf(page)},
    )
    assert "does not allow job.submit" in refused.text  # back on the form, saying why
    assert len(_jobs(idle_api, tenant.keys["admin"])) == 1


def test_a_key_made_in_the_console_works_once_shown_and_stops_when_revoked(idle_api: Api) -> None:
    set_password(idle_api.platform, "admin@localhost")
    client = login(idle_api.client.app, "admin@localhost")
    page = client.get("/console/project/keys")
    made = client.post(
        "/console/project/keys",
        data={
            "name": "laptop",
            "scopes": ["jobs:read", "jobs:write"],
            "expires": "30",
            "csrf_token": csrf(page),
        },
        follow_redirects=False,
    )
    assert made.status_code == 303 and made.headers["location"] == "/console/project/keys"
    shown = client.get("/console/project/keys").text
    secret = shown.split('id="new-key" class="mono" readonly value="', 1)[1].split('"', 1)[0]
    assert ok(idle_api.get("/v0.4/jobs", headers={"Authorization": f"apiKey {secret}"}))["jobs"] == []
    assert secret not in client.get("/console/project/keys").text  # shown once
    listed = ok(idle_api.get(f"/v0.4/projects/{ok(idle_api.get('/v0.4/whoami'))['project_id']}/keys"))["keys"]
    laptop = next(k for k in listed if k["name"] == "laptop")
    assert laptop["scopes"] == ["jobs:read", "jobs:write"] and laptop["expires_at"] is not None
    key_id = secret.split("_")[1]
    gone = client.post(
        f"/console/project/keys/{key_id}/revoke", data={"csrf_token": csrf(page), "confirmed": "yes"},
        follow_redirects=False,
    )  # fmt: skip
    assert gone.status_code == 303
    assert idle_api.get("/v0.4/jobs", headers={"Authorization": f"apiKey {secret}"}).status_code == 401


def test_the_flash_cookie_is_sealed_and_bound_to_the_session(idle_api: Api) -> None:
    """The one-time message carries a secret: another session cannot open it, nor can a forgery."""
    set_password(idle_api.platform, "admin@localhost")
    client = login(idle_api.client.app, "admin@localhost")
    page = client.get("/console/project/keys")
    client.post("/console/project/keys", data={"name": "x", "csrf_token": csrf(page)}, follow_redirects=False)
    sealed = client.cookies["qumulus_flash"]
    assert "qmk_" not in sealed
    other = login(idle_api.client.app, "admin@localhost")
    other.cookies.set("qumulus_flash", sealed, path="/console")
    assert 'id="new-key"' not in other.get("/console/project/keys").text
    other.cookies.set("qumulus_flash", sealed[:-4] + "AAAA", path="/console")
    assert 'id="new-key"' not in other.get("/console/project/keys").text


def test_status_page_is_public_and_lists_every_backend(idle_api: Api) -> None:
    page = browser(idle_api.client.app).get("/console/status")
    assert page.status_code == 200
    names = [b["backend"] for b in ok(idle_api.get("/v0.4/backends"))]
    assert names and all(name in page.text for name in names)


def test_submit_form_reports_a_bad_circuit_by_field(idle_api: Api) -> None:
    set_password(idle_api.platform, "admin@localhost")
    client = login(idle_api.client.app, "admin@localhost")
    page = client.get("/console/jobs/new")
    bad = {"qubits": 1, "circuit": [{"gate": "h", "target": 3}]}
    refused = client.post(
        "/console/jobs/new",
        data={
            "backend": "simulator",
            "shots": "10",
            "source": str(bad).replace("'", '"'),
            "csrf_token": csrf(page),
        },
    )
    assert refused.url.path == "/console/jobs/new"  # redirected back to the form
    assert "target" in refused.text and 'role="alert"' in refused.text
    assert BELL  # the shared example stays importable for the browser test


def test_an_owner_invites_promotes_and_creates_a_project_a_member_cannot(idle_api: Api) -> None:
    tenant = make_tenant(idle_api, "delta")
    set_password(idle_api.platform, "owner@delta.test")
    set_password(idle_api.platform, "member@delta.test")
    owner = login(idle_api.client.app, "owner@delta.test")
    page = owner.get("/console/organization/members")
    token = csrf(page)
    invited = owner.post(
        "/console/organization/members",
        data={"email": "new@delta.test", "role": "member", "csrf_token": token},
    )
    assert invited.status_code == 200 and "new@delta.test" in invited.text
    assert invited.url.path == "/console/organization/members"
    members = ok(idle_api.get(f"/v0.4/organizations/{tenant.org_id}/members"))["members"]
    new_id = next(m["user_id"] for m in members if m["email"] == "new@delta.test")
    promoted = owner.post(
        f"/console/organization/members/{new_id}/role", data={"role": "owner", "csrf_token": token}
    )
    assert promoted.status_code == 200
    members = ok(idle_api.get(f"/v0.4/organizations/{tenant.org_id}/members"))["members"]
    assert {m["email"]: m["role"] for m in members}["new@delta.test"] == "owner"
    made = owner.post("/console/organization/projects", data={"name": "Optics", "csrf_token": token})
    assert made.status_code == 200 and "Optics" in made.text
    # A plain member sees the organization but every change is refused, and nothing changes.
    member = login(idle_api.client.app, "member@delta.test")
    page = member.get("/console/organization/members")
    assert "Invite a user" not in page.text
    refused = member.post("/console/organization/projects", data={"name": "Mine", "csrf_token": csrf(page)})
    assert "does not allow project.create" in refused.text
    projects = ok(idle_api.get(f"/v0.4/organizations/{tenant.org_id}/projects"))["projects"]
    assert sorted(p["name"] for p in projects) == ["Optics", "delta main"]


def test_an_owner_sees_usage_and_exports_it_as_csv(api: Api) -> None:
    job = ok(api.post("/v0.4/jobs", json=bell_job()), 201)
    assert api.wait(job["id"])["status"] == "completed"
    set_password(api.platform, "admin@localhost")
    client = login(api.client.app, "admin@localhost")
    page = client.get("/console/organization")
    assert page.status_code == 200
    assert "Contracts and allocations" in page.text and "simulator" in page.text
    exported = client.get("/console/organization/usage.csv")
    assert exported.headers["content-type"].startswith("text/csv")
    lines = exported.text.strip().splitlines()
    assert lines[0].startswith("project_id,project_name,backend,jobs")
    assert any(",Default Project,simulator,1," in line for line in lines[1:])
    # Without a session there is no report.
    assert (
        browser(api.client.app).get("/console/organization/usage.csv", follow_redirects=False).status_code
        == 303
    )


def test_an_owner_requests_a_reservation_and_sees_it_listed(idle_api: Api) -> None:
    tenant = make_tenant(idle_api, "epsilon")
    set_password(idle_api.platform, "owner@epsilon.test")
    client = login(idle_api.client.app, "owner@epsilon.test")
    page = client.get("/console/organization/reservations")
    window = {"backend": "qpu.aria-1", "starts_at": "2099-01-01T10:00", "ends_at": "2099-01-01T12:00"}
    made = client.post("/console/organization/reservations", data={**window, "csrf_token": csrf(page)})
    assert made.status_code == 200
    assert "2099-01-01 10:00" in made.text and "requested" in made.text
    listed = ok(idle_api.get(f"/v0.4/organizations/{tenant.org_id}/reservations"))
    rows = listed["reservations"] if isinstance(listed, dict) else listed
    assert [(r["backend"], r["status"]) for r in rows] == [("qpu.aria-1", "requested")]
    backwards = {**window, "ends_at": "2099-01-01T09:00", "csrf_token": csrf(page)}
    refused = client.post("/console/organization/reservations", data=backwards)
    assert 'role="alert"' in refused.text and "ends_at" in refused.text


def test_an_owner_sets_a_budget_that_then_refuses_a_job_a_project_admin_cannot_set_one(idle_api: Api) -> None:
    tenant = make_tenant(idle_api, "zeta")
    terms = {"backend": "qpu.harmony", "rate_per_second": "1"}
    ok(idle_api.post(f"/v0.4/organizations/{tenant.org_id}/contracts", json=terms), 201)
    for role in ("owner", "admin"):
        set_password(idle_api.platform, f"{role}@zeta.test")
    admin = login(idle_api.client.app, "owner@zeta.test")
    page = admin.get("/console/project")
    assert "No budget in force" in page.text
    saved = admin.post("/console/project/budget", data={"limit": "0.000001", "csrf_token": csrf(page)})
    assert saved.url.path == "/console/project" and 'data-remaining="0.000001"' in saved.text
    form = admin.get("/console/jobs/new")
    refused = admin.post(
        "/console/jobs/new",
        data={"backend": "qpu.harmony", "shots": "100", "source": BELL_TEXT, "csrf_token": csrf(form)},
    )
    assert refused.url.path == "/console/jobs/new"
    assert "Not enough budget: this job would cost about" in refused.text, refused.text[-1500:]
    assert 'href="/console/project#budget"' in refused.text
    assert _jobs(idle_api, tenant.keys["admin"]) == []
    member = login(idle_api.client.app, "admin@zeta.test")  # budgets are the organization owners' call
    page = member.get("/console/project")
    assert "Save budget" not in page.text
    denied = member.post("/console/project/budget", data={"limit": "100", "csrf_token": csrf(page)})
    assert "does not allow budget.manage" in denied.text
    assert 'data-remaining="0.000001"' in admin.get("/console/project").text


def test_status_page_shows_maintenance_windows_and_recent_changes(idle_api: Api) -> None:
    """An administrator's status change and a planned window appear on the public page."""
    from datetime import timedelta

    from qumulus.services.backends import status as backend_status
    from qumulus.services.tenancy.access import CLI_ADMIN
    from qumulus.timeutil import utcnow

    platform = idle_api.platform
    backend_status.set_status(platform, CLI_ADMIN, "qpu.aria-1", "degraded", "ion loading is slow today")
    start = (utcnow() + timedelta(days=2)).replace(hour=6, minute=0, second=0, microsecond=0)
    backend_status.schedule_maintenance(
        platform, CLI_ADMIN, "qpu.forte-1", starts_at=start, ends_at=start + timedelta(hours=3),
        message="trap replacement",
    )  # fmt: skip
    page = browser(idle_api.client.app).get("/console/status").text
    assert "ion loading is slow today" in page and "operational → degraded" in page
    assert f"{start:%Y-%m-%d} 06:00 – {start:%Y-%m-%d} 09:00 UTC: trap replacement" in page


def test_unknown_console_urls_are_html_404_pages_and_form_addresses_lead_to_their_page(idle_api: Api) -> None:
    set_password(idle_api.platform, "admin@localhost")
    client = login(idle_api.client.app, "admin@localhost")
    missing = client.get("/console/no/such/page")
    assert missing.status_code == 404 and missing.headers["content-type"].startswith("text/html")
    assert "Not found" in missing.text and "Log out" in missing.text  # the signed-in header stays
    assert client.post("/console/no/such/page", data={}).status_code == 404
    for action, page in (
        ("/console/project/keys/abc/revoke/now", None),
        ("/console/account/password", "/console/account"),
    ):
        answer = client.get(action, follow_redirects=False)
        if page is not None:
            assert answer.status_code == 303 and answer.headers["location"] == page
    # without a session, still HTML
    anonymous = browser(idle_api.client.app).get("/console/nothing-here")
    assert anonymous.status_code == 404 and "Log in" in anonymous.text


def test_a_new_organizations_owner_creates_the_first_project_from_the_welcome_page(idle_api: Api) -> None:
    ok(idle_api.post("/v0.4/organizations", json={"name": "Fresh", "owner_email": "boss@fresh.test"}), 201)
    set_password(idle_api.platform, "boss@fresh.test")
    client = login(idle_api.client.app, "boss@fresh.test")
    first = client.get("/console/jobs", follow_redirects=False)
    assert first.status_code == 303 and first.headers["location"] == "/console/welcome"
    welcome = client.get("/console/welcome")
    assert "Fresh" in welcome.text and "Create project" in welcome.text
    made = client.post("/console/welcome", data={"name": "Optics", "organization_id": _org_id(welcome.text),
                                                  "csrf_token": csrf(welcome)})  # fmt: skip
    assert made.url.path == "/console/jobs" and "Fresh / Optics" in made.text
    members = client.get("/console/project/members")
    assert "No one is a member of this project yet" in members.text  # not "your role does not show"
    org = client.get("/console/organization")
    assert "<title>Fresh · Qumulus console</title>" in org.text


def _org_id(html: str) -> str:
    return html.split('name="organization_id" value="', 1)[1].split('"', 1)[0]


def test_my_jobs_searches_by_name_tag_and_id_and_pages(idle_api: Api) -> None:
    set_password(idle_api.platform, "admin@localhost")
    ids = [
        ok(
            idle_api.post("/v0.4/jobs", json=bell_job(name=f"sweep {n:02d}", tags=["t"] if n == 3 else [])),
            201,
        )["id"]
        for n in range(27)
    ]
    client = login(idle_api.client.app, "admin@localhost")
    first = client.get("/console/jobs")
    assert first.text.count('name="job_id"') == 25 and "Older jobs" in first.text
    older = re.search(r'href="([^"]+)" rel="next"', first.text)
    assert older is not None
    second = client.get(older.group(1).replace("&amp;", "&"))
    assert second.text.count('name="job_id"') == 2 and "Newer jobs" in second.text
    assert ids[0] in second.text and ids[26] not in second.text
    by_name = client.get("/console/jobs", params={"q": "SWEEP 1"})
    assert by_name.text.count('name="job_id"') == 10
    assert (
        client.get("/console/jobs", params={"q": "t"}).text.count('name="job_id"') == 1
    )  # the tag, not names
    assert client.get("/console/jobs", params={"q": ids[5][:8]}).text.count('name="job_id"') == 1


def test_downloads_rerun_and_clone_of_a_completed_job(api: Api) -> None:
    job = ok(api.post("/v0.4/jobs", json=bell_job(shots=200, name="dl")), 201)
    assert api.wait(job["id"])["status"] == "completed"
    set_password(api.platform, "admin@localhost")
    client = login(api.client.app, "admin@localhost")
    counts = client.get(f"/console/jobs/{job['id']}/download/counts.csv")
    assert counts.headers["content-type"].startswith("text/csv")
    rows = [line.split(",") for line in counts.text.strip().splitlines()[1:]]
    assert {r[1] for r in rows} <= {"00", "11"} and sum(int(r[3]) for r in rows) == 200
    probs = client.get(f"/console/jobs/{job['id']}/download/probabilities.json").json()
    assert probs["circuits"][0]["probabilities"] == {"00": 0.5, "11": 0.5}
    shots = client.get(f"/console/jobs/{job['id']}/download/shots.json").json()["circuits"][0]["shots"]
    assert len(shots) == 200 and set(shots) <= {"00", "11"}
    # the counts are the API's own histogram
    assert sum(ok(api.get(f"/v0.4/jobs/{job['id']}/results/histogram")).values()) == 200
    page = client.get(f"/console/jobs/{job['id']}")
    again = client.post(
        f"/console/jobs/{job['id']}/rerun", data={"csrf_token": csrf(page)}, follow_redirects=False
    )
    new_id = again.headers["location"].split("/jobs/")[1].split("?")[0]
    assert new_id != job["id"] and ok(api.get(f"/v0.4/jobs/{new_id}"))["name"] == "dl"
    clone = client.get(f"/console/jobs/new?from={job['id']}")
    assert '"gate": "cnot"' in clone.text.replace("&#34;", '"') and 'value="200"' in clone.text


def test_the_preview_prices_a_qpu_job_before_it_is_submitted(idle_api: Api) -> None:
    set_password(idle_api.platform, "admin@localhost")
    client = login(idle_api.client.app, "admin@localhost")
    page = client.get("/console/jobs/new")
    form = {
        "backend": "qpu.aria-1",
        "shots": "100",
        "source": BELL_TEXT,
        "format": "ionq",
        "csrf_token": csrf(page),
    }
    preview = client.post("/console/jobs/preview", data=form, headers={"HX-Request": "true"})
    estimate = preview.text.split('data-estimate="', 1)[1].split('"', 1)[0]
    assert float(estimate) > 0 and "USD" in preview.text and "<html" not in preview.text
    qasm = {
        **form,
        "format": "openqasm",
        "source": 'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[3];\nh q[0];',
    }
    assert "Qubits" in client.post("/console/jobs/preview", data=qasm, headers={"HX-Request": "true"}).text
    wide = {
        **form,
        "backend": "qpu.harmony",
        "source": '{"qubits": 20, "circuit": [{"gate": "h", "target": 19}]}',
    }
    refused = client.post("/console/jobs/preview", data=wide, headers={"HX-Request": "true"})
    assert "data-preview-error" in refused.text and "qubits" in refused.text
    assert _jobs(idle_api) == []  # previews submit nothing


def test_project_members_are_managed_in_the_console(idle_api: Api) -> None:
    tenant = make_tenant(idle_api, "eta")
    ok(idle_api.post(f"/v0.4/organizations/{tenant.org_id}/members", json={"email": "pat@eta.test"}), 201)
    set_password(idle_api.platform, "owner@eta.test")
    client = login(idle_api.client.app, "owner@eta.test")
    page = client.get("/console/project/members")
    added = client.post("/console/project/members", data={"email": "pat@eta.test", "role": "admin",
                                                          "csrf_token": csrf(page)})  # fmt: skip
    assert "pat@eta.test added to the project as admin." in added.text
    people = ok(idle_api.get(f"/v0.4/projects/{tenant.project_id}/members"))["members"]
    person = next(m for m in people if m["email"] == "pat@eta.test")
    assert person["role"] == "admin"
    client.post(
        f"/console/project/members/{person['user_id']}/remove",
        data={"csrf_token": csrf(page), "confirmed": "yes"},
    )
    people = ok(idle_api.get(f"/v0.4/projects/{tenant.project_id}/members"))["members"]
    assert "pat@eta.test" not in {m["email"] for m in people}


def test_a_password_is_changed_on_the_account_page(idle_api: Api) -> None:
    set_password(idle_api.platform, "admin@localhost")
    client = login(idle_api.client.app, "admin@localhost")
    page = client.get("/console/account")
    changed = client.post("/console/account/password", data={
        "current_password": PASSWORD, "new_password": "another long password",
        "confirm_password": "another long password", "csrf_token": csrf(page)})  # fmt: skip
    assert "Password changed" in changed.text
    login(idle_api.client.app, "admin@localhost", "another long password")


def test_a_waiting_job_shows_its_place_and_estimated_cost(idle_api: Api) -> None:
    """Jobs stay queued here (no runtime): the page gives the API's queue place and the estimate."""
    first = ok(idle_api.post("/v0.4/jobs", json=bell_job(backend="qpu.aria-1")), 201)
    second = ok(idle_api.post("/v0.4/jobs", json=bell_job(backend="qpu.aria-1", shots=1000)), 201)
    set_password(idle_api.platform, "admin@localhost")
    client = login(idle_api.client.app, "admin@localhost")
    page = client.get(f"/console/jobs/{second['id']}").text
    api_view = ok(idle_api.get(f"/v0.4/jobs/{second['id']}"))
    assert f'data-position="{api_view["queue_position"]}"' in page and api_view["queue_position"] == 1
    cost = float(page.split('data-estimate="', 1)[1].split('"', 1)[0])
    first_cost = float(
        client.get(f"/console/jobs/{first['id']}").text.split('data-estimate="', 1)[1].split('"', 1)[0]
    )
    assert cost > first_cost > 0  # ten times the shots costs more
    assert "Expected start" in page and "USD" in page


QASM_FLIP = 'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[3];\ncreg c[3];\nx q[1];\nmeasure q -> c;\n'


def _job_id(answer) -> str:  # type: ignore[no-untyped-def]
    assert answer.status_code == 303, answer.text[:500]
    return answer.headers["location"].rsplit("/", 1)[1]


def test_openqasm_pasted_or_uploaded_is_submitted_and_runs(api: Api) -> None:
    """Submit takes OpenQASM pasted into the form or uploaded as a file (``<input type=file
    name=upload>``; a ``.qasm`` name means OpenQASM whatever the radio says), submits it as an
    ``ionq.qasm3.v1`` job, and the job runs to the program's answer: only qubit 1 flipped (state 2)."""
    set_password(api.platform, "admin@localhost")
    client = login(api.client.app, "admin@localhost")
    token = csrf(client.get("/console/jobs/new"))
    fields = {"backend": "simulator", "shots": "40", "csrf_token": token}
    pasted = client.post(
        "/console/jobs/new",
        data={**fields, "format": "openqasm", "source": QASM_FLIP, "name": "pasted qasm"},
        follow_redirects=False,
    )
    uploaded = client.post(
        "/console/jobs/new",
        data={**fields, "format": "ionq", "source": BELL_TEXT, "name": "uploaded qasm"},
        files={"upload": ("flip.qasm", QASM_FLIP.replace("x q[1];", "x q[0];\nx q[2];"), "text/plain")},
        follow_redirects=False,
    )
    for answer, name, state in ((pasted, "pasted qasm", "2"), (uploaded, "uploaded qasm", "5")):
        job = api.wait(_job_id(answer), timeout=60)
        assert job["status"] == "completed" and job["name"] == name, job
        assert job["type"] == "ionq.qasm3.v1"  # sent as the program, not converted in the browser
        probabilities = ok(api.get(f"/v0.4/jobs/{job['id']}/results/probabilities"))
        assert probabilities == {state: 1.0}, (name, probabilities)
        page = client.get(f"/console/jobs/{job['id']}")
        assert f'data-outcome="{int(state):03b}"' in page.text  # the histogram shows it as a bitstring


PICKER = re.compile(
    r'<input type="radio" name="backend" value="(?P<name>[^"]+)"(?P<attrs>[^>]*)>\s*'
    r'<span class="name">[^<]*<span class="badge b-(?P<status>[a-z_]+)">[^<]*</span></span>\s*'
    r'<span id="[^"]+" class="facts-line">(?P<line>[^<]*)</span>'
)


def _picker(client) -> dict[str, dict[str, str]]:  # type: ignore[no-untyped-def]
    html = client.get("/console/jobs/new").text
    return {m["name"]: m.groupdict() for m in PICKER.finditer(html)}


def test_the_backend_picker_shows_each_backends_qubits_status_queue_and_price(idle_api: Api) -> None:
    """Every backend's line in Submit agrees with ``GET /v0.4/backends`` (qubits, status_detail, jobs
    waiting) and with the organization's contracts (the most specific one in force sets the price;
    a QPU without one says so and cannot be chosen)."""
    me = ok(idle_api.get("/v0.4/whoami"))
    # the bootstrap organization: simulator at 0 (free), qpu.* at 0.50/s; aria-1 gets its own price
    ok(idle_api.post(f"/v0.4/organizations/{me['organization_id']}/contracts",
                     json={"backend": "qpu.aria-1", "rate_per_second": "0.25"}), 201)  # fmt: skip
    for body in (bell_job(), bell_job(), bell_job(backend="qpu.aria-1")):
        ok(idle_api.post("/v0.4/jobs", json=body), 201)  # no runtime: they wait in the queue
    listed = {b["backend"]: b for b in ok(idle_api.get("/v0.4/backends"))}
    set_password(idle_api.platform, "admin@localhost")
    picker = _picker(login(idle_api.client.app, "admin@localhost"))
    assert set(picker) == set(listed)
    for name, shown in picker.items():
        b = listed[name]
        price = (
            "free"
            if b["kind"] == "simulator"
            else ("0.25" if name == "qpu.aria-1" else "0.50") + " USD per second"
        )
        wait = r"(?: · ~[^·]+ wait)?"
        expected = (
            re.escape(f"{b['qubits']} qubits · {b['pending_jobs']} waiting") + wait + re.escape(f" · {price}")
        )
        assert re.fullmatch(expected, shown["line"]), (name, shown["line"], expected)
        assert shown["status"] == b["status_detail"], (name, shown["status"], b["status_detail"])
    assert picker["simulator"]["line"].startswith("29 qubits · 2 waiting")
    assert picker["qpu.aria-1"]["line"].startswith("25 qubits · 1 waiting")
    # an organization with no contracts: its QPUs say so and are not offered
    tenant = make_tenant(idle_api, "theta")
    set_password(idle_api.platform, "owner@theta.test")
    theirs = _picker(login(idle_api.client.app, "owner@theta.test"))
    for name, shown in theirs.items():
        if listed[name]["kind"] == "qpu":
            assert shown["line"].endswith(" · no contract") and "disabled" in shown["attrs"], shown
    assert tenant.org_id != me["organization_id"]


def test_a_qpu_jobs_page_shows_its_compiled_native_circuit(idle_api: Api) -> None:
    """A QPU job's page shows the circuit compiled at submission in the QPU's native gates (GPI, GPI2
    and MS on Aria; ZZ on Forte), the same operations ``GET …/artifacts/native`` returns; a simulator
    job of the ideal gate set has no such section."""
    set_password(idle_api.platform, "admin@localhost")
    client = login(idle_api.client.app, "admin@localhost")
    for backend, entangler in (("qpu.aria-1", "ms"), ("qpu.forte-1", "zz")):
        job = ok(idle_api.post("/v0.4/jobs", json=bell_job(backend=backend)), 201)
        native = ok(idle_api.get(f"/v0.4/jobs/{job['id']}/artifacts/native"))
        ops = [op["gate"] for op in (native[0] if isinstance(native, list) else native)["circuit"]]
        assert set(ops) <= {"gpi", "gpi2", entangler} and entangler in ops, ops
        html = client.get(f"/console/jobs/{job['id']}").text
        assert "Compiled to native gates" in html
        section = html.split('<section class="native card">', 1)[1].split("</section>", 1)[0]
        chips = dict(re.findall(r'<span class="chip">([A-Za-z0-9]+) × (\d+)</span>', section))
        assert {g.lower() for g in chips} == set(ops), (chips, ops)
        assert {g.lower(): int(n) for g, n in chips.items()} == {g: ops.count(g) for g in set(ops)}
        assert f"2 qubits, {len(ops)} native operations" in section
    simulated = ok(idle_api.post("/v0.4/jobs", json=bell_job()), 201)
    assert "Compiled to native gates" not in client.get(f"/console/jobs/{simulated['id']}").text
