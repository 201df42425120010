"""Admin CLI for tenancy: ``qumulus orgs|projects|users|members|keys ...``.

The commands work directly on the database of ``--data-dir`` / ``QUMULUS_DATABASE_URL`` as the
platform administrator (:data:`qumulus.services.tenancy.access.CLI_ADMIN`), through the same services as the
REST API, so the same rules hold and every change is audited (``details.via = "cli"``).
A key's secret is printed once, by ``keys create``, on the last line of its output.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from qumulus.cli.common import DataDir, admin_platform, console

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

orgs_app = typer.Typer(help="Organizations.", no_args_is_help=True)
projects_app = typer.Typer(help="Projects.", no_args_is_help=True)
users_app = typer.Typer(help="Users and their console passwords.", no_args_is_help=True)
members_app = typer.Typer(help="Organization and project memberships.", no_args_is_help=True)
keys_app = typer.Typer(help="API keys.", no_args_is_help=True)

OrgRef = Annotated[str, typer.Option("--org", help="Organization id or slug.")]


def _fail(message: str) -> typer.Exit:
    from qumulus.cli.common import err_console

    err_console.print(f"[red]{message}[/red]")
    return typer.Exit(1)


def _org_id(session: Session, ref: str) -> str:
    from sqlalchemy import or_, select

    from qumulus.store.models import Organization

    found = session.scalar(
        select(Organization.id).where(or_(Organization.id == ref, Organization.slug == ref))
    )
    if found is None:
        raise _fail(f"No organization {ref!r} (give its id or slug; `qumulus orgs list`).")
    return found


def _project_id(session: Session, ref: str | None, org: str | None = None) -> str:
    """A project by id or name (``--org`` settles a name used in two organizations)."""
    from sqlalchemy import or_, select

    from qumulus.store.models import Project

    stmt = select(Project.id).order_by(Project.created_at)
    if ref is not None:
        stmt = stmt.where(or_(Project.id == ref, Project.name == ref))
    if org is not None:
        stmt = stmt.where(Project.organization_id == _org_id(session, org))
    found = list(session.scalars(stmt.limit(2)))
    if not found:
        raise _fail(
            f"No project {ref!r}. Start the server once to create the default one,"
            " or `qumulus projects create`."
        )
    if len(found) > 1 and ref is not None:
        raise _fail(f"Project name {ref!r} is used in several organizations: add --org or give its id.")
    return found[0]


def _read_password(from_stdin: bool, prompt: str = "Password") -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return typer.prompt(prompt, hide_input=True, confirmation_prompt=True)


def _when(value: object) -> str:
    from qumulus.timeutil import iso

    return iso(value) or ""  # type: ignore[arg-type]


# organizations -----------------------------------------------------------------------------------


@orgs_app.command("create")
def orgs_create(
    name: Annotated[str, typer.Argument(help="Display name.")],
    owner: Annotated[str, typer.Option(help="The owner's email (a new user is created if needed).")],
    slug: Annotated[str | None, typer.Option(help="URL-safe short name (default: from the name).")] = None,
    data_dir: DataDir = None,
) -> None:
    """Create an organization with its first owner."""
    from qumulus.services.tenancy.access import CLI_ADMIN
    from qumulus.services.tenancy.organizations import create_organization

    with admin_platform(data_dir) as platform:
        org = create_organization(platform, CLI_ADMIN, name=name, slug=slug, owner_email=owner)
    console.print(f"Created organization '{org.name}' (slug {org.slug}, id {org.id}), owner {owner.lower()}.")


@orgs_app.command("list")
def orgs_list(data_dir: DataDir = None) -> None:
    """List organizations."""
    from qumulus.services.tenancy.access import CLI_ADMIN
    from qumulus.services.tenancy.organizations import list_organizations

    table = Table("id", "slug", "name", "created")
    with admin_platform(data_dir) as platform:
        cursor = None
        while True:
            rows, cursor = list_organizations(platform, CLI_ADMIN, limit=1000, cursor=cursor)
            for org in rows:
                table.add_row(org.id, org.slug, org.name, _when(org.created_at))
            if cursor is None:
                break
    console.print(table)


# projects ----------------------------------------------------------------------------------------------


@projects_app.command("create")
def projects_create(
    name: Annotated[str, typer.Argument(help="Project name (unique in its organization).")],
    org: OrgRef,
    description: Annotated[str, typer.Option(help="What the project is for.")] = "",
    data_dir: DataDir = None,
) -> None:
    """Create a project in an organization."""
    from qumulus.services.tenancy.access import CLI_ADMIN
    from qumulus.services.tenancy.projects import create_project

    with admin_platform(data_dir) as platform:
        with platform.db.read() as session:
            org_id = _org_id(session, org)
        project = create_project(platform, CLI_ADMIN, org_id, name=name, description=description)
    console.print(f"Created project '{project.name}' (id {project.id}).")


@projects_app.command("list")
def projects_list(
    org: Annotated[str | None, typer.Option("--org", help="Only this organization (id or slug).")] = None,
    archived: Annotated[bool, typer.Option(help="Include archived projects.")] = False,
    data_dir: DataDir = None,
) -> None:
    """List projects."""
    from sqlalchemy import select

    from qumulus.store.models import Organization, Project

    table = Table("id", "organization", "name", "created", "archived")
    with admin_platform(data_dir) as platform, platform.db.read() as session:
        stmt = select(Project, Organization.slug).join(Organization).order_by(Organization.slug, Project.name)
        if org is not None:
            stmt = stmt.where(Project.organization_id == _org_id(session, org))
        if not archived:
            stmt = stmt.where(Project.archived_at.is_(None))
        for project, slug in session.execute(stmt):
            table.add_row(
                project.id, slug, project.name, _when(project.created_at), _when(project.archived_at)
            )
    console.print(table)


# users ---------------------------------------------------------------------------------------------------


@users_app.command("create")
def users_create(
    email: Annotated[str, typer.Argument(help="The user's email (their login).")],
    name: Annotated[str, typer.Option(help="Display name.")] = "",
    admin: Annotated[bool, typer.Option("--admin", help="Make them a platform administrator.")] = False,
    password: Annotated[bool, typer.Option("--password", help="Prompt for a console password.")] = False,
    password_stdin: Annotated[bool, typer.Option(help="Read the console password from stdin.")] = False,
    data_dir: DataDir = None,
) -> None:
    """Create a user (add them to organizations and projects with `qumulus members add`)."""
    from qumulus.services.tenancy.access import CLI_ADMIN
    from qumulus.services.tenancy.users import create_user

    secret = _read_password(password_stdin) if (password or password_stdin) else None
    with admin_platform(data_dir) as platform:
        user = create_user(platform, CLI_ADMIN, email=email, name=name, password=secret, is_admin=admin)
    console.print(f"Created user {user.email} (id {user.id}){' with a password' if secret else ''}.")


@users_app.command("list")
def users_list(data_dir: DataDir = None) -> None:
    """List users with their organizations."""
    from qumulus.services.tenancy.access import CLI_ADMIN
    from qumulus.services.tenancy.users import list_users

    table = Table("id", "email", "name", "admin", "password", "organizations")
    with admin_platform(data_dir) as platform:
        for user, orgs in list_users(platform, CLI_ADMIN):
            table.add_row(
                user.id,
                user.email,
                user.name,
                "yes" if user.is_admin else "",
                "set" if user.password_hash else "",
                ", ".join(f"{slug} ({role})" for slug, role in orgs),
            )
    console.print(table)


@users_app.command("set-password")
def users_set_password(
    email: Annotated[str, typer.Argument(help="The user's email.")],
    password_stdin: Annotated[
        bool, typer.Option(help="Read the password from stdin instead of a prompt.")
    ] = False,
    data_dir: DataDir = None,
) -> None:
    """Set a user's console password (argon2id; the password itself is never stored)."""
    from qumulus.services.tenancy.access import CLI_ADMIN
    from qumulus.services.tenancy.users import set_password

    secret = _read_password(password_stdin, "New password")
    with admin_platform(data_dir) as platform:
        user = set_password(platform, CLI_ADMIN, email=email, password=secret)
    console.print(f"Password set for {user.email}.")


# memberships ---------------------------------------------------------------------------------------------


@members_app.command("add")
def members_add(
    email: Annotated[str, typer.Argument(help="The user's email (created if new, for --org).")],
    org: Annotated[str | None, typer.Option("--org", help="Add to this organization (id or slug).")] = None,
    project: Annotated[str | None, typer.Option(help="Add to this project (id or name).")] = None,
    role: Annotated[
        str | None, typer.Option(help="owner|member (organization), admin|member|viewer (project).")
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """Add a user to an organization (--org) or to a project (--project) with a role."""
    from qumulus.services.tenancy import members
    from qumulus.services.tenancy.access import CLI_ADMIN

    if org is None and project is None:
        raise _fail("Give --org (organization membership) or --project (project membership).")
    with admin_platform(data_dir) as platform:
        with platform.db.read() as session:
            if project is not None:
                scope, target_id, where = (
                    members.PROJECT,
                    _project_id(session, project, org),
                    f"project {project}",
                )
            else:
                scope, target_id, where = (
                    members.ORGANIZATION,
                    _org_id(session, org or ""),
                    f"organization {org}",
                )
        view = members.add_member(platform, CLI_ADMIN, scope, target_id, email=email, role=role or "member")
    console.print(f"Added {view.email} to {where} as {view.role}.")


# keys --------------------------------------------------------------------------------------------------


@keys_app.command("create")
def keys_create(
    project: Annotated[
        str | None, typer.Option(help="Project id or name (default: the only/first project).")
    ] = None,
    name: Annotated[str, typer.Option(help="A label for the key.")] = "",
    user: Annotated[
        str | None, typer.Option(help="Whose key (email; default: the organization's first owner).")
    ] = None,
    scope: Annotated[
        list[str] | None, typer.Option("--scope", help="jobs:read, jobs:write, manage (repeat; default all).")
    ] = None,
    expires_in_days: Annotated[int | None, typer.Option(help="Expire after this many days.")] = None,
    data_dir: DataDir = None,
) -> None:
    """Create an API key for a project and print it once."""
    from datetime import timedelta

    from sqlalchemy import select

    from qumulus.services.tenancy.access import CLI_ADMIN
    from qumulus.services.tenancy.key_admin import create_key
    from qumulus.store.models import OrganizationMember, Project, User
    from qumulus.timeutil import utcnow

    if expires_in_days is not None and expires_in_days <= 0:
        raise _fail("--expires-in-days must be a positive number of days.")
    expires = utcnow() + timedelta(days=expires_in_days) if expires_in_days else None
    with admin_platform(data_dir) as platform:
        with platform.db.read() as session:
            project_id = _project_id(session, project)
            row = session.get(Project, project_id)
            assert row is not None
            if user is None:
                user = session.scalar(
                    select(User.email)
                    .join(OrganizationMember, OrganizationMember.user_id == User.id)
                    .where(
                        OrganizationMember.organization_id == row.organization_id,
                        OrganizationMember.role == "owner",
                    )
                    .order_by(User.created_at)
                )
                if user is None:
                    raise _fail("The project's organization has no owner; name the key's user with --user.")
        view, secret = create_key(
            platform,
            CLI_ADMIN,
            project_id,
            name=name,
            scopes=scope or None,
            expires_at=expires,
            user_email=user,
        )
    console.print(
        f"Created a key for project '{row.name}' ({row.id}), user {view.user_email}, "
        f"scopes {' '.join(view.scopes)}. It is shown only now:"
    )
    typer.echo(secret)


@keys_app.command("list")
def keys_list(
    project: Annotated[str | None, typer.Option(help="Only this project (id or name).")] = None,
    data_dir: DataDir = None,
) -> None:
    """List keys (public part only; the secret is never shown again)."""
    from qumulus.services.tenancy.access import CLI_ADMIN
    from qumulus.services.tenancy.key_admin import all_keys

    table = Table("key", "name", "project", "user", "scopes", "created", "expires", "last used", "revoked")
    with admin_platform(data_dir) as platform:
        project_id = None
        if project is not None:
            with platform.db.read() as session:
                project_id = _project_id(session, project)
        for key, project_name in all_keys(platform, CLI_ADMIN, project_id):
            table.add_row(
                key.prefix,
                key.name,
                project_name,
                key.user_email or "",
                " ".join(key.scopes),
                _when(key.created_at),
                _when(key.expires_at),
                _when(key.last_used_at),
                _when(key.revoked_at),
            )
    console.print(table)


@keys_app.command("revoke")
def keys_revoke(
    key: Annotated[str, typer.Argument(help="The key id, its shown prefix (qmk_<id>_…) or the whole key.")],
    data_dir: DataDir = None,
) -> None:
    """Revoke a key. A running server stops accepting it within 2 seconds."""
    from qumulus.services.tenancy.access import CLI_ADMIN
    from qumulus.services.tenancy.key_admin import revoke_key

    with admin_platform(data_dir) as platform:
        view = revoke_key(platform, CLI_ADMIN, None, key)
    console.print(f"Revoked {view.prefix} ('{view.name}').")
