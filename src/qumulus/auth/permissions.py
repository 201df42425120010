"""Who may do what: the whole permission matrix, as pure data and one pure function.

Every guarded endpoint and service asks :func:`allowed`; nothing else decides access. Three things
combine, and all three must agree:

1. **Role** of the caller's user, relative to the target: platform administrator (``users.is_admin``),
   organization role (``owner`` or ``member``, the glossary's "user"), project role (``admin``,
   ``member``, ``viewer``). An organization owner holds every project permission in that
   organization without being a project member.
2. **Scope** of the API key presenting the request (a key can be narrower than its user, never
   wider): ``jobs:read``, ``jobs:write``, ``manage``.
3. **Reach**: a key reaches its own organization only. Whether the target is in it is the caller's
   check (a target outside it is a 404, not a 403, so nothing leaks); :func:`allowed` decides among
   targets the caller can see.

"Own" actions (a member revoking their own key, deleting their own job) pass ``owns_target=True``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache


class Action(StrEnum):
    # jobs (always in the key's own project)
    JOB_READ = "job.read"
    JOB_SUBMIT = "job.submit"
    JOB_CANCEL = "job.cancel"
    JOB_DELETE = "job.delete"
    # a project
    PROJECT_READ = "project.read"
    PROJECT_UPDATE = "project.update"
    PROJECT_MEMBERS_READ = "project.members.read"
    PROJECT_MEMBERS_MANAGE = "project.members.manage"
    KEY_READ = "key.read"
    KEY_CREATE = "key.create"
    #: Minting a key that acts as another user: only those who already hold every power that user
    #: has in the organization (owners; platform administrators for a platform administrator's key).
    KEY_CREATE_FOR_OTHERS = "key.create_for_others"
    KEY_REVOKE = "key.revoke"
    BUDGET_READ = "budget.read"
    BUDGET_MANAGE = "budget.manage"
    USAGE_READ = "usage.read"
    WEBHOOK_MANAGE = "webhook.manage"  # list, create, delete a project's webhooks
    # an organization
    ORG_READ = "org.read"
    ORG_UPDATE = "org.update"
    ORG_MEMBERS_READ = "org.members.read"
    ORG_MEMBERS_MANAGE = "org.members.manage"
    PROJECT_CREATE = "project.create"
    PROJECT_ARCHIVE = "project.archive"
    CONTRACT_READ = "contract.read"
    CONTRACT_MANAGE = "contract.manage"
    ORG_USAGE_READ = "org.usage.read"
    AUDIT_READ = "audit.read"
    RESERVATION_REQUEST = "reservation.request"
    # the caller's own user account (name, password): only ever "own"
    ACCOUNT_UPDATE = "account.update"
    # the platform
    ORG_CREATE = "org.create"
    PLATFORM_MANAGE = "platform.manage"  # backend status, reservation approval, priority tier


ORG_ROLES = ("owner", "member")
PROJECT_ROLES = ("admin", "member", "viewer")
SCOPES = ("jobs:read", "jobs:write", "manage")
DEFAULT_SCOPES = frozenset(SCOPES)

#: The scope a key needs for each action (on top of the role).
REQUIRED_SCOPE: dict[Action, str] = {
    Action.JOB_READ: "jobs:read",
    Action.JOB_SUBMIT: "jobs:write",
    Action.JOB_CANCEL: "jobs:write",
    Action.JOB_DELETE: "jobs:write",
    Action.PROJECT_READ: "jobs:read",
    Action.BUDGET_READ: "jobs:read",
    Action.USAGE_READ: "jobs:read",
    Action.ORG_READ: "jobs:read",
}
# everything else needs "manage"

_VIEWER = frozenset(
    {
        Action.JOB_READ,
        Action.PROJECT_READ,
        Action.PROJECT_MEMBERS_READ,
        Action.BUDGET_READ,
        Action.USAGE_READ,
    }
)
_MEMBER = _VIEWER | {Action.JOB_SUBMIT, Action.JOB_CANCEL}
_PROJECT_ADMIN = _MEMBER | {
    Action.JOB_DELETE,
    Action.PROJECT_UPDATE,
    Action.PROJECT_MEMBERS_MANAGE,
    Action.KEY_READ,
    Action.KEY_CREATE,
    Action.KEY_REVOKE,
    Action.WEBHOOK_MANAGE,
}
#: What a project role grants inside that project.
PROJECT_GRANTS: dict[str, frozenset[Action]] = {
    "viewer": _VIEWER,
    "member": _MEMBER,
    "admin": _PROJECT_ADMIN,
}
#: What a project member may do to something of their own (their key, their job, their account).
OWN_GRANTS: dict[str, frozenset[Action]] = {
    "viewer": frozenset({Action.KEY_READ, Action.KEY_CREATE, Action.KEY_REVOKE, Action.ACCOUNT_UPDATE}),
    "member": frozenset(
        {Action.KEY_READ, Action.KEY_CREATE, Action.KEY_REVOKE, Action.JOB_DELETE, Action.ACCOUNT_UPDATE}
    ),
    "admin": frozenset({Action.ACCOUNT_UPDATE}),
}
_ORG_MEMBER = frozenset({Action.ORG_READ})
#: Contracts set prices: platform administrators manage them; owners read them.
_ORG_OWNER = frozenset(
    a for a in Action if a not in {Action.ORG_CREATE, Action.PLATFORM_MANAGE, Action.CONTRACT_MANAGE}
)
#: What an organization role grants in the organization and every project in it.
ORG_GRANTS: dict[str, frozenset[Action]] = {"member": _ORG_MEMBER, "owner": _ORG_OWNER}


@dataclass(frozen=True, slots=True)
class Actor:
    """The caller, seen from one target: roles there, and the presenting key's scopes."""

    scopes: frozenset[str] = DEFAULT_SCOPES
    is_admin: bool = False
    org_role: str | None = None
    project_role: str | None = None


@lru_cache(maxsize=1024)  # pure, and asked on every request: a handful of distinct actors exist
def role_grants(actor: Actor, *, owns_target: bool = False) -> frozenset[Action]:
    """Every action the actor's roles allow on this target, before key scopes."""
    if actor.is_admin:
        return frozenset(Action)
    grants: set[Action] = set()
    if actor.org_role is not None:
        grants |= ORG_GRANTS.get(actor.org_role, frozenset())
    if actor.project_role is not None:
        grants |= PROJECT_GRANTS.get(actor.project_role, frozenset())
        if owns_target:
            grants |= OWN_GRANTS.get(actor.project_role, frozenset())
    return frozenset(grants)


def allowed(actor: Actor, action: Action, *, owns_target: bool = False) -> bool:
    """Whether ``actor`` may perform ``action`` on a target it can see."""
    if REQUIRED_SCOPE.get(action, "manage") not in actor.scopes:
        return False
    return action in role_grants(actor, owns_target=owns_target)


def grantable_scopes(actor: Actor) -> frozenset[str]:
    """Scopes a key created by this actor may carry: never more than the creating key holds."""
    return actor.scopes


def denial_reason(actor: Actor, action: Action, *, owns_target: bool = False) -> str:
    """Why :func:`allowed` said no, in words a caller can act on."""
    scope = REQUIRED_SCOPE.get(action, "manage")
    if scope not in actor.scopes:
        return f"This API key lacks the '{scope}' scope needed for {action.value}."
    roles = [
        r
        for r in (
            actor.org_role and f"organization {actor.org_role}",
            actor.project_role and f"project {actor.project_role}",
        )
        if r
    ]
    held = " and ".join(roles) if roles else "no role here"
    return f"Your role ({held}) does not allow {action.value}."
