"""The permission matrix, without a server: roles, scopes and ownership combine as documented."""

from __future__ import annotations

import pytest

from qumulus.auth.permissions import (
    Action,
    Actor,
    allowed,
    denial_reason,
    role_grants,
)

JOB_ACTIONS = [Action.JOB_READ, Action.JOB_SUBMIT, Action.JOB_CANCEL, Action.JOB_DELETE]


def test_viewer_reads_but_never_changes() -> None:
    viewer = Actor(project_role="viewer")
    assert allowed(viewer, Action.JOB_READ)
    assert allowed(viewer, Action.BUDGET_READ)
    for action in (Action.JOB_SUBMIT, Action.JOB_CANCEL, Action.JOB_DELETE, Action.KEY_CREATE):
        assert not allowed(viewer, action), action


def test_member_submits_reads_cancels_but_does_not_administer() -> None:
    member = Actor(project_role="member")
    assert all(allowed(member, a) for a in (Action.JOB_READ, Action.JOB_SUBMIT, Action.JOB_CANCEL))
    assert not allowed(member, Action.JOB_DELETE)
    assert allowed(member, Action.JOB_DELETE, owns_target=True)
    for action in (
        Action.PROJECT_MEMBERS_MANAGE,
        Action.BUDGET_MANAGE,
        Action.KEY_READ,
        Action.ORG_USAGE_READ,
    ):
        assert not allowed(member, action), action


def test_member_manages_only_their_own_keys() -> None:
    member = Actor(project_role="member")
    assert not allowed(member, Action.KEY_REVOKE)
    assert allowed(member, Action.KEY_REVOKE, owns_target=True)
    assert allowed(member, Action.KEY_CREATE, owns_target=True)


def test_project_admin_manages_the_project_not_the_organization() -> None:
    admin = Actor(project_role="admin")
    for action in (*JOB_ACTIONS, Action.PROJECT_MEMBERS_MANAGE, Action.KEY_CREATE, Action.KEY_REVOKE):
        assert allowed(admin, action), action
    for action in (
        Action.BUDGET_MANAGE,
        Action.CONTRACT_MANAGE,
        Action.PROJECT_CREATE,
        Action.ORG_MEMBERS_MANAGE,
    ):
        assert not allowed(admin, action), action


def test_organization_owner_holds_every_organization_and_project_permission() -> None:
    owner = Actor(org_role="owner")
    for action in Action:
        expected = action not in {Action.ORG_CREATE, Action.PLATFORM_MANAGE, Action.CONTRACT_MANAGE}
        assert allowed(owner, action) is expected, action


def test_organization_member_without_a_project_role_sees_only_the_organization() -> None:
    user = Actor(org_role="member")
    assert allowed(user, Action.ORG_READ)
    assert role_grants(user) == {Action.ORG_READ}


def test_platform_administrator_may_do_everything() -> None:
    assert all(allowed(Actor(is_admin=True), a) for a in Action)


def test_nobody_without_a_role_may_do_anything() -> None:
    assert not any(allowed(Actor(), a) for a in Action)


@pytest.mark.parametrize(
    ("scopes", "action", "expected"),
    [
        ({"jobs:read"}, Action.JOB_READ, True),
        ({"jobs:read"}, Action.JOB_SUBMIT, False),
        ({"jobs:read", "jobs:write"}, Action.JOB_SUBMIT, True),
        ({"jobs:read", "jobs:write"}, Action.BUDGET_MANAGE, False),
        ({"manage"}, Action.BUDGET_MANAGE, True),
        ({"manage"}, Action.JOB_READ, False),
    ],
)
def test_a_key_scope_narrows_even_an_owner(scopes: set[str], action: Action, expected: bool) -> None:
    assert allowed(Actor(scopes=frozenset(scopes), org_role="owner"), action) is expected


def test_denial_names_the_missing_scope_or_the_role() -> None:
    assert "'jobs:write' scope" in denial_reason(
        Actor(scopes=frozenset({"jobs:read"}), org_role="owner"), Action.JOB_SUBMIT
    )
    reason = denial_reason(Actor(project_role="viewer"), Action.JOB_SUBMIT)
    assert "project viewer" in reason and "job.submit" in reason


def test_only_the_own_account_may_be_updated_and_only_with_the_manage_scope() -> None:
    for role in ("viewer", "member", "admin"):
        actor = Actor(project_role=role)
        assert allowed(actor, Action.ACCOUNT_UPDATE, owns_target=True), role
        assert not allowed(actor, Action.ACCOUNT_UPDATE), role  # someone else's account
        read_only = Actor(scopes=frozenset({"jobs:read"}), project_role=role)
        assert not allowed(read_only, Action.ACCOUNT_UPDATE, owns_target=True), role
    assert not allowed(Actor(org_role="member"), Action.ACCOUNT_UPDATE, owns_target=True)


def test_only_owners_and_platform_administrators_mint_keys_for_other_users() -> None:
    for role in ("viewer", "member", "admin"):
        assert not allowed(Actor(project_role=role), Action.KEY_CREATE_FOR_OTHERS), role
    assert allowed(Actor(org_role="owner"), Action.KEY_CREATE_FOR_OTHERS)
    assert allowed(Actor(is_admin=True), Action.KEY_CREATE_FOR_OTHERS)
    assert not allowed(
        Actor(scopes=frozenset({"jobs:read", "jobs:write"}), org_role="owner"), Action.KEY_CREATE_FOR_OTHERS
    )


def test_webhooks_are_managed_by_project_admins_and_organization_owners_only() -> None:
    assert allowed(Actor(project_role="admin"), Action.WEBHOOK_MANAGE)
    assert allowed(Actor(org_role="owner"), Action.WEBHOOK_MANAGE)
    for actor in (Actor(project_role="member"), Actor(project_role="viewer"), Actor(org_role="member")):
        assert not allowed(actor, Action.WEBHOOK_MANAGE), actor
    assert not allowed(
        Actor(scopes=frozenset({"jobs:read", "jobs:write"}), project_role="admin"), Action.WEBHOOK_MANAGE
    )
