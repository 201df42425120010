"""The pure tenancy rules: names, slugs, emails, roles, scopes and the last-owner invariant."""

from __future__ import annotations

import pytest

from qumulus.auth.permissions import Actor
from qumulus.auth.principal import Principal
from qumulus.errors import InvalidRequest
from qumulus.services.tenancy import rules
from qumulus.services.tenancy.access import CLI_ADMIN, project_visible, reaches_org


def test_slug_from_any_name_is_a_valid_slug() -> None:
    for name, slug in [("Quantum Lab (Zürich)", "quantum-lab-z-rich"), ("  ", "org"), ("A" * 300, "a" * 100)]:
        assert rules.slug_from_name(name) == slug
        assert rules.clean_slug(slug) == slug


@pytest.mark.parametrize("slug", ["", "-lead", "trail-", "UPPER", "with space", "a" * 101, "under_score"])
def test_bad_slugs_name_the_field(slug: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        rules.clean_slug(slug)
    assert caught.value.field == "slug"


def test_emails_are_normalised_and_checked() -> None:
    assert rules.clean_email("  Ada@Lab.Test ") == "ada@lab.test"
    assert rules.clean_email("admin@localhost") == "admin@localhost"
    for bad in ("", "no-at-sign", "two@@signs", "spa ce@x.test", "@x.test"):
        with pytest.raises(InvalidRequest):
            rules.clean_email(bad)


def test_roles_and_scopes() -> None:
    assert rules.check_org_role("owner") == "owner"
    with pytest.raises(InvalidRequest):
        rules.check_org_role("admin")  # a project role, not an organization role
    assert rules.check_project_role("viewer") == "viewer"
    with pytest.raises(InvalidRequest):
        rules.check_project_role("owner")
    assert rules.check_scopes(["manage", "jobs:read"], {"jobs:read", "manage"}) == (
        ["jobs:read", "manage"],
        [],
    )
    assert rules.check_scopes(["jobs:write"], {"jobs:read"}) == (["jobs:write"], ["jobs:write"])
    for bad in ([], ["root"]):
        with pytest.raises(InvalidRequest):
            rules.check_scopes(bad, {"jobs:read"})


def test_the_last_owner_cannot_leave_or_step_down() -> None:
    assert rules.leaves_no_owner({"ada"}, "ada", None)
    assert rules.leaves_no_owner({"ada"}, "ada", "member")
    assert not rules.leaves_no_owner({"ada"}, "ada", "owner")
    assert not rules.leaves_no_owner({"ada", "bob"}, "ada", None)
    assert not rules.leaves_no_owner({"ada"}, "bob", None)  # bob was not an owner


def test_reach_and_visibility() -> None:
    key = Principal(organization_id="org-a", project_id="p1", user_id="u", api_key_id="k")
    assert reaches_org(key, False, "org-a") and not reaches_org(key, False, "org-b")
    assert reaches_org(key, True, "org-b")  # a platform administrator reaches every organization
    assert project_visible(key, Actor(org_role="member"), "p1")  # the key's own project
    assert not project_visible(key, Actor(org_role="member"), "p2")
    assert project_visible(key, Actor(org_role="member", project_role="viewer"), "p2")
    assert project_visible(key, Actor(org_role="owner"), "p2")
    assert CLI_ADMIN.is_admin and CLI_ADMIN.user_id is None
