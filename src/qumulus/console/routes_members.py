"""Members of an organization or a project in the console: list, add, change a role, remove after
confirming — one set of pages for both, over the one membership service
(:mod:`qumulus.services.tenancy.members` with its :class:`~qumulus.services.tenancy.members.Scope`),
as the API's ``_member_routes`` does for JSON.

What differs between the two is data in a :class:`MemberPages` (the scope, where the pages live,
who may manage, the words on the page); the handlers and the template (``members.html``) are shared.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from qumulus.auth.permissions import ORG_ROLES, PROJECT_ROLES, Action, allowed
from qumulus.auth.principal import Principal
from qumulus.console import web
from qumulus.errors import NotFound, QumulusError
from qumulus.services.tenancy import members, organizations, projects


@dataclass(frozen=True)
class MemberPages:
    """One scope's member pages: where they live, who manages them, and what they say."""

    scope: members.Scope
    #: ``organization`` or ``project``: the pages are ``/console/<path>/members``.
    path: str
    #: The template of the scope's tabs.
    tabs: str
    #: The organization or project the caller works in, its page heading, and whether they manage.
    header: Callable[[Any, Principal], dict[str, Any]]
    #: The roles a member may be given, and the roles offered when adding someone.
    roles: Sequence[str]
    add_roles: Sequence[str]
    default_role: str
    #: Whether the list offers to remove the caller themselves.
    remove_self: bool
    title: str
    heading: str
    hidden: str
    empty: str
    added: str
    removed: str
    add_title: str
    add_label: str
    add_button: str
    add_hint: str
    roles_hint: str
    manage_hint: str

    @property
    def base(self) -> str:
        return f"{web.PREFIX}/{self.path}/members"

    def target(self, principal: Principal) -> str:
        """The id of the organization or project the caller works in."""
        return principal.organization_id if self.scope is members.ORGANIZATION else principal.project_id


def _org_header(platform: Any, principal: Principal) -> dict[str, Any]:
    org = organizations.get_organization(platform, principal, principal.organization_id)
    owner = principal.org_role == "owner" or principal.is_admin
    return {"organization": org, "name": f"Organization {org.name}", "short": org.name, "can_manage": owner}


def _project_header(platform: Any, principal: Principal) -> dict[str, Any]:
    project = projects.get_project(platform, principal, principal.project_id)
    return {
        "project": project,
        "name": f"Project {project.name}",
        "short": project.name,
        "can_manage": allowed(principal.actor(), Action.PROJECT_MEMBERS_MANAGE),
        "is_org_owner": principal.org_role == "owner",
    }


ORGANIZATION = MemberPages(
    scope=members.ORGANIZATION,
    path="organization",
    tabs="_org_tabs.html",
    header=_org_header,
    roles=ORG_ROLES,
    add_roles=("member", "owner"),
    default_role="member",
    remove_self=False,
    title="People",
    heading="People",
    hidden="Only the organization's owners see its people.",
    empty="No one is in this organization yet.",
    added="{email} invited as {role}.",
    removed="Removed from the organization; their projects' memberships and keys are gone.",
    add_title="Invite a user",
    add_label="Email",
    add_button="Invite",
    add_hint="Owners manage people, projects and budgets; members work in the projects they are added to.",
    roles_hint="",
    manage_hint="Only the organization's owners change users and projects.",
)
PROJECT = MemberPages(
    scope=members.PROJECT,
    path="project",
    tabs="_project_tabs.html",
    header=_project_header,
    roles=PROJECT_ROLES,
    add_roles=PROJECT_ROLES,
    default_role="member",
    remove_self=True,
    title="Members",
    heading="Members",
    hidden="Your role does not show this project's members.",
    empty="No one is a member of this project yet.",
    added="{email} added to the project as {role}.",
    removed="Removed from the project; their keys in it are revoked.",
    add_title="Add a member",
    add_label="Email of someone in the organization",
    add_button="Add member",
    add_hint="New people join the organization first (Organization → People).",
    roles_hint=(
        "Roles: <strong>viewer</strong> reads jobs and usage; <strong>member</strong> also submits and"
        " cancels jobs; <strong>admin</strong> also manages members, keys and webhooks. Organization"
        " owners hold every role in every project."
    ),
    manage_hint="",
)


def add_member_routes(router: APIRouter, pages: MemberPages) -> None:
    """``members`` (list, add), ``members/{user_id}/role`` and ``members/{user_id}/remove`` (asks
    first, then removes) on ``router``, whose prefix is ``/console/<pages.path>``."""

    async def members_page(request: Request) -> Response:
        me = await web.member_of_project(request)
        context = await run_in_threadpool(_members, web.platform_of(request), me.principal, pages)
        return web.page(request, me, "members.html", {**context, "nav": pages.path, "tab": "members"})

    async def add_member(request: Request) -> Response:
        def change(platform: Any, who: Principal, form: dict[str, Any]) -> Any:
            return members.add_member(
                platform, who, pages.scope, pages.target(who),
                email=str(form.get("email") or "").strip(), role=_role(form, pages.default_role),
            )  # fmt: skip

        return await _change(
            request, pages, change,
            lambda form: pages.added.format(email=form.get("email"), role=_role(form, pages.default_role)),
        )  # fmt: skip

    async def change_role(request: Request, user_id: str) -> Response:
        def change(platform: Any, who: Principal, form: dict[str, Any]) -> Any:
            return members.update_member(
                platform, who, pages.scope, pages.target(who), user_id, role=_role(form, "")
            )

        return await _change(request, pages, change, lambda form: f"Role changed to {form.get('role')}.")

    async def confirm_remove(request: Request, user_id: str) -> Response:
        me = await web.member_of_project(request)
        context = await run_in_threadpool(_members, web.platform_of(request), me.principal, pages)
        person = next((m for m in context["people"] or [] if m.user_id == user_id), None)
        if person is None:
            raise NotFound(f"Member {user_id} not found.")
        return web.page(
            request, me, "confirm_remove.html",
            {"person": person, "scope": pages.path, "action": f"{pages.base}/{user_id}/remove",
             "back": pages.base, "nav": pages.path},
        )  # fmt: skip

    async def remove_member(request: Request, user_id: str) -> Response:
        me = await web.member_of_project(request)
        form = await web.form_checked(request, me)
        if form.get("confirmed") != "yes":
            return web.redirect(request, f"{pages.base}/{user_id}/remove")

        def change(platform: Any, who: Principal, form: dict[str, Any]) -> Any:
            return members.remove_member(platform, who, pages.scope, pages.target(who), user_id)

        return await _change(request, pages, change, lambda form: pages.removed)

    router.add_api_route("/members", members_page, methods=["GET"])
    router.add_api_route("/members", add_member, methods=["POST"])
    router.add_api_route("/members/{user_id}/role", change_role, methods=["POST"])
    router.add_api_route("/members/{user_id}/remove", confirm_remove, methods=["GET"])
    router.add_api_route("/members/{user_id}/remove", remove_member, methods=["POST"])


def _role(form: dict[str, Any], default: str) -> str:
    return str(form.get("role") or default)


async def _change(request: Request, pages: MemberPages, change: Any, said: Any) -> Response:
    """Run a membership change through the service, then back to the list (post/redirect/get),
    saying what happened or why the service refused."""
    me = await web.member_of_project(request)
    form = await web.form_checked(request, me)
    try:
        await run_in_threadpool(change, web.platform_of(request), me.principal, form)
    except QumulusError as exc:
        return web.refused(request, pages.base, exc)
    request.app.state.authenticator.invalidate()  # roles changed: keys act with them at once
    return web.done(request, pages.base, said(form))


def _members(platform: Any, principal: Principal, pages: MemberPages) -> dict[str, Any]:
    header = pages.header(platform, principal)
    try:
        people, _ = members.list_members(platform, principal, pages.scope, pages.target(principal), limit=100)
    except QumulusError:
        people = None  # the role may not list them: the page says so (an empty list is no one yet)
    return {**header, "people": people, "pages": pages}
