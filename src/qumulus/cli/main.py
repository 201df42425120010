"""``qumulus``: run the server and administer it from a terminal.

Server commands import the server stack lazily so ``pip install qumulus`` (client only) still gets a
working ``qumulus --help``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

app = typer.Typer(help="Qumulus: a self-hostable quantum cloud.", no_args_is_help=True)
keys_app = typer.Typer(help="API keys.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
console = Console(soft_wrap=True)

DataDir = Annotated[
    Path | None,
    typer.Option(
        "--data-dir", envvar="QUMULUS_DATA_DIR", help="Where the database, results and secrets live."
    ),
]


def _platform(data_dir: Path | None, **overrides: object):  # type: ignore[no-untyped-def]
    try:
        from qumulus.config import Settings
        from qumulus.services.platform import Platform
    except ImportError as exc:  # pragma: no cover - depends on the install
        console.print(
            f"[red]The server is not installed ({exc.name} missing): pip install 'qumulus[server]'[/red]"
        )
        raise typer.Exit(1) from None
    settings = Settings.from_env(data_dir=data_dir, **overrides)
    return Platform(settings)


@app.command()
def serve(
    host: Annotated[str, typer.Option(envvar="QUMULUS_HOST", help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(envvar="QUMULUS_PORT", help="TCP port.")] = 8000,
    data_dir: DataDir = None,
    workers: Annotated[int, typer.Option(envvar="QUMULUS_WORKER_THREADS", help="Worker threads.")] = 2,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "warning",
) -> None:
    """Run the API, the job runtime and (first start) create demo data, in one process."""
    import sys

    import uvicorn

    from qumulus.api.app import create_app
    from qumulus.services.bootstrap import bootstrap_tenancy, write_bootstrap_key

    # The event loop, request threads and worker threads hand the GIL to each other constantly;
    # CPython's default 5 ms switch interval then shows up directly as request latency.
    sys.setswitchinterval(float(os.environ.get("QUMULUS_SWITCH_INTERVAL", "0.0005")))
    platform = _platform(data_dir, host=host, port=port, worker_threads=workers)
    key = None
    if platform.settings.bootstrap:
        with platform.db.write() as session:
            key = bootstrap_tenancy(session, secret=platform.secret)
    url = f"http://{host}:{port}"
    console.print(f"[bold]Qumulus[/bold] serving at {url}   (data: {platform.data_dir})")
    console.print(f"  IonQ-compatible API: {url}/v0.4     API docs: {url}/docs")
    if key is not None:
        path = write_bootstrap_key(platform.data_dir, key)
        console.print(
            "  First start: created organization 'default', project 'Default Project', user admin@localhost."
        )
        console.print(f"  API key (shown once, also saved to {path}):")
        console.print(f"  [bold green]{key}[/bold green]")
    else:
        console.print(
            f"  API key: see {platform.data_dir / 'bootstrap-key'}, or create one: qumulus keys create"
        )
    console.print(
        f"  Try it:  export IONQ_API_KEY=$(cat {platform.data_dir / 'bootstrap-key'}) IONQ_API_URL={url}/v0.4"
    )
    uvicorn.run(create_app(platform), host=host, port=port, log_level=log_level, access_log=False)


@keys_app.command("create")
def keys_create(
    project: Annotated[
        str | None, typer.Option(help="Project id or name (default: the only/first project).")
    ] = None,
    name: Annotated[str, typer.Option(help="A label for the key.")] = "",
    data_dir: DataDir = None,
) -> None:
    """Create an API key for a project and print it once."""
    from sqlalchemy import or_, select

    from qumulus.services.keys import create_api_key
    from qumulus.store.models import Project

    platform = _platform(data_dir)
    with platform.db.write() as session:
        stmt = select(Project).order_by(Project.created_at)
        if project:
            stmt = stmt.where(or_(Project.id == project, Project.name == project))
        row = session.scalars(stmt).first()
        if row is None:
            console.print(
                f"[red]No project {project!r}. Start the server once to create the default one.[/red]"
            )
            raise typer.Exit(1)
        _, key = create_api_key(session, secret=platform.secret, project_id=row.id, user_id=None, name=name)
    platform.db.dispose()
    console.print(f"Created a key for project '{row.name}' ({row.id}). It is shown only now:")
    typer.echo(key)


@keys_app.command("list")
def keys_list(data_dir: DataDir = None) -> None:
    """List keys (public part only)."""
    from rich.table import Table
    from sqlalchemy import select

    from qumulus.auth.keys import display_form
    from qumulus.store.models import ApiKey, Project
    from qumulus.timeutil import iso

    platform = _platform(data_dir)
    table = Table("key", "name", "project", "created", "last used", "revoked")
    with platform.db.read() as session:
        for key, project in session.execute(select(ApiKey, Project.name).join(Project)).all():
            table.add_row(
                display_form(key.key_id),
                key.name,
                project,
                iso(key.created_at) or "",
                iso(key.last_used_at) or "",
                iso(key.revoked_at) or "",
            )
    platform.db.dispose()
    console.print(table)


def main() -> None:
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    app()


if __name__ == "__main__":
    main()
