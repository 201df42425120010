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

from qumulus.cli import backends as backends_cli
from qumulus.cli import billing
from qumulus.cli import distributed as distributed_cli
from qumulus.cli import scheduling as scheduling_cli
from qumulus.cli import tenancy as tenancy_cli
from qumulus.cli import user as user_cli
from qumulus.cli.common import open_platform

app = typer.Typer(help="Qumulus: a self-hostable quantum cloud.", no_args_is_help=True)
app.add_typer(tenancy_cli.orgs_app, name="orgs")
app.add_typer(tenancy_cli.projects_app, name="projects")
app.add_typer(tenancy_cli.users_app, name="users")
app.add_typer(tenancy_cli.members_app, name="members")
app.add_typer(tenancy_cli.keys_app, name="keys")
app.add_typer(billing.contracts_app, name="contracts")
app.add_typer(billing.budgets_app, name="budgets")
app.add_typer(billing.usage_app, name="usage")
app.add_typer(scheduling_cli.reservations_app, name="reservations")
app.add_typer(scheduling_cli.priority_app, name="priority")
distributed_cli.register(app)  # api, scheduler, worker
user_cli.register(app)
app.add_typer(backends_cli.backends_app, name="backends")
console = Console(soft_wrap=True)

DataDir = Annotated[
    Path | None,
    typer.Option(
        "--data-dir", envvar="QUMULUS_DATA_DIR", help="Where the database, results and secrets live."
    ),
]


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

    from qumulus.api import server
    from qumulus.api.app import create_app
    from qumulus.platform.bootstrap import bootstrap_tenancy, write_bootstrap_key

    # The event loop, request threads and worker threads hand the GIL to each other constantly;
    # CPython's default 5 ms switch interval then shows up directly as request latency.
    sys.setswitchinterval(float(os.environ.get("QUMULUS_SWITCH_INTERVAL", "0.0005")))
    platform = open_platform(data_dir, check_secret=False, host=host, port=port, worker_threads=workers)
    key = None
    if platform.settings.bootstrap:
        with platform.db.write() as session:
            key = bootstrap_tenancy(session, secret=platform.secret)
    url = f"http://{host}:{port}"
    console.print(f"[bold]Qumulus[/bold] serving at {url}   (data: {platform.data_dir})")
    console.print(f"  IonQ-compatible API: {url}/v0.4     API docs: {url}/docs")
    console.print(
        f"  Web console: {url}/console   (log in as admin@localhost after: qumulus users set-password"
        " admin@localhost)"
    )
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
    server.run(create_app(platform), host=host, port=port, log_level=log_level)


def main() -> None:
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    app()


if __name__ == "__main__":
    main()
