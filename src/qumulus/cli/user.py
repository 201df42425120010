"""The user commands: they talk HTTP to a server through a saved profile (never to the database).

``qumulus login`` saves a profile (checked against the server first); every other command takes
``--profile`` (default: ``$QUMULUS_PROFILE``, the environment's key, then the default profile, as the
SDK resolves it). The admin commands (``orgs``, ``keys`` ...) act on a database instead.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.live import Live
from rich.spinner import Spinner
from rich.table import Table

from qumulus.cli.common import console, err_console
from qumulus.cli.render import histogram, jobs_table, styled_status

jobs_app = typer.Typer(
    help="Your jobs on the server: list, show, wait, cancel, results.", no_args_is_help=True
)
jobsets_app = typer.Typer(help="Your job sets on the server.", no_args_is_help=True)

Profile = Annotated[
    str | None, typer.Option("--profile", "-p", help="Saved profile (default: the SDK's choice).")
]
F = TypeVar("F", bound=Callable[..., Any])


def friendly(func: F) -> F:
    """An SDK error (bad key, unknown job, unreachable server) → one red line and exit status 1."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from qumulus.client import QumulusClientError

        try:
            return func(*args, **kwargs)
        except QumulusClientError as exc:
            err_console.print(f"[red]{exc}[/red]")
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]


def _provider(profile: str | None) -> Any:
    from qumulus.client import Provider
    from qumulus.client.accounts import resolve

    return Provider(resolve(profile))


# accounts ---------------------------------------------------------------------------------------


@friendly
def login(
    key: Annotated[str, typer.Option("--key", "-k", prompt=True, hide_input=True, help="The API key.")],
    url: Annotated[str, typer.Option("--url", help="The server.")] = "http://127.0.0.1:8000",
    name: Annotated[str, typer.Option("--name", "-n", help="Profile name.")] = "default",
    default: Annotated[bool, typer.Option("--default", help="Make it the default profile.")] = False,
) -> None:
    """Check a key against a server, then save it as a profile (file mode 0600)."""
    from qumulus.client import Provider
    from qumulus.client.accounts import Account, save

    who = Provider(Account(name, url, key)).whoami()  # a wrong key or URL fails here, not later
    save(key, url, name, overwrite=True, set_as_default=default or None)
    console.print(
        f"Saved profile [bold]{name}[/bold]: {url}, organization {who.get('organization_id')}, "
        f"project {who.get('project_id')}"
    )


def profiles() -> None:
    """The saved profiles (keys masked); * marks the default."""
    from qumulus.client.accounts import credentials_path, default_name, saved

    accounts = saved()
    if not accounts:
        console.print(f"No saved profiles ({credentials_path()}): run qumulus login")
        return
    table = Table(title=f"Profiles ({credentials_path()})")
    for column in ("", "name", "url", "key"):
        table.add_column(column)
    default = default_name()
    for name, account in sorted(accounts.items()):
        table.add_row("*" if name == default else "", name, account.url, account.public().get("token", ""))
    console.print(table)


def logout(name: Annotated[str, typer.Argument(help="Profile to delete.")] = "default") -> None:
    """Delete a saved profile."""
    from qumulus.client.accounts import delete

    if delete(name):
        console.print(f"Deleted profile {name}")
    else:
        err_console.print(f"[red]no profile named {name!r}[/red]")
        raise typer.Exit(1)


# backends ---------------------------------------------------------------------------------------


@friendly
def backends(profile: Profile = None) -> None:
    """The server's backends: kind, qubits, status and queue."""
    table = Table(title="Backends")
    for column in ("backend", "kind", "qubits", "status", "pending jobs", "gatesets"):
        table.add_column(column)
    for backend in _provider(profile).backends():
        config = backend.configuration()
        status = backend.status()
        table.add_row(
            backend.name,
            "simulator" if config.simulator else "qpu",
            str(config.n_qubits),
            f"[green]{status.status_msg}[/]" if status.operational else f"[red]{status.status_msg}[/]",
            str(status.pending_jobs),
            ", ".join(config.gatesets),
        )
    console.print(table)


# submit -----------------------------------------------------------------------------------------


def read_circuits(path: Path) -> Any:
    """IonQ JSON (a circuit, a list of circuits, or a whole job body), or the text of an OpenQASM 2/3
    program (sent as is; the server parses it)."""
    text = path.read_text()
    if path.suffix.lower() == ".json" or text.lstrip().startswith(("{", "[")):
        data = json.loads(text)
        if isinstance(data, dict) and isinstance(data.get("input"), dict):
            data = data["input"]
            if isinstance(data.get("circuits"), list):
                return data["circuits"]
        return data
    # OpenQASM 2/3 goes to the server as it is (ionq.qasm3.v1): one parser, errors with line numbers,
    # mid-circuit measurement and classical control kept; the client needs no qiskit.
    return text


@friendly
def submit(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="IonQ JSON or OpenQASM 2/3.")],
    backend: Annotated[str, typer.Option("--backend", "-b")] = "simulator",
    shots: Annotated[int, typer.Option("--shots", "-s", min=1)] = 100,
    name: Annotated[str | None, typer.Option("--name")] = None,
    tag: Annotated[list[str] | None, typer.Option("--tag", help="Repeatable.")] = None,
    wait: Annotated[bool, typer.Option("--wait/--no-wait", help="Follow it to the end.")] = True,
    timeout: Annotated[float | None, typer.Option(help="Give up waiting after this many seconds.")] = None,
    profile: Profile = None,
) -> None:
    """Submit a circuit file as one job; by default follow it live and draw its histogram."""
    circuits = read_circuits(file)
    provider = _provider(profile)
    job = provider.get_backend(backend).run(circuits, shots=shots, name=name or file.stem, tags=tag)
    console.print(f"Submitted job [bold]{job.job_id()}[/bold] to {backend}")
    if wait:
        _follow(job, timeout)
        _print_results(job)


def _follow(job: Any, timeout: float | None) -> None:
    """A live line (spinner, status, queue position) until the job ends; the server pushes changes."""
    from qumulus.client import JobTimeoutError

    def line(status: Any) -> Spinner:
        text = f"job {job.job_id()}: {styled_status(status)}"
        if status.name == "QUEUED":
            try:
                position = job.queue_position()
            except Exception:  # the queue endpoint is advisory: never fail the wait on it
                position = None
            if position is not None:
                text += f" (position {position})"
        return Spinner("dots", text=text)

    with Live(line(job.cached_status()), console=console, transient=True) as live:
        try:
            job.wait_for_final_state(
                timeout=timeout, callback=lambda _id, status, _job: live.update(line(status))
            )
        except JobTimeoutError:
            live.stop()
            err_console.print(f"[yellow]still {job.status().value} after {timeout} s[/yellow]")
            raise typer.Exit(2) from None
    console.print(f"job {job.job_id()}: {styled_status(job.cached_status())}")


def _print_results(job: Any) -> None:
    status = job.cached_status().name
    if status == "ERROR":
        err_console.print(f"[red]{job.error_message()}[/red]")
        raise typer.Exit(1)
    if status == "CANCELLED":
        raise typer.Exit(1)
    result = job.result()
    for experiment in result.results:
        title = f"{experiment.name or job.job_id()}  ({experiment.shots} shots, qubit 0 rightmost)"
        console.print(histogram(experiment.counts(), title=title))


# jobs -------------------------------------------------------------------------------------------


@jobs_app.command("list")
@friendly
def jobs_list(
    limit: Annotated[int, typer.Option("--limit", "-n")] = 20,
    status: Annotated[str | None, typer.Option(help="DONE, QUEUED, RUNNING, ERROR, CANCELLED ...")] = None,
    backend: Annotated[str | None, typer.Option("--backend", "-b")] = None,
    name: Annotated[str | None, typer.Option(help="Substring of the name.")] = None,
    profile: Profile = None,
) -> None:
    """The newest jobs of your project."""
    try:
        jobs = _provider(profile).jobs(limit=limit, status=status, backend_name=backend, name=name)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    console.print(jobs_table(jobs))


@jobs_app.command("show")
@friendly
def jobs_show(job_id: str, profile: Profile = None) -> None:
    """One job's details: status, times, failure reason."""
    job = _provider(profile).retrieve_job(job_id)
    data = job.data
    table = Table(show_header=False, title=f"Job {job_id}")
    table.add_column(style="bold")
    table.add_column()
    rows = [
        ("status", styled_status(job.cached_status())),
        ("name", data.get("name") or ""),
        ("backend", job.backend_name),
        ("shots", str(data.get("shots"))),
        ("tags", ", ".join(job.tags())),
        ("circuits", str(len(data.get("child_job_ids") or []) or 1)),
        *((step.lower(), when.isoformat()) for step, when in job.time_per_step().items()),
    ]
    if data.get("failure"):
        rows.append(("error", f"[red]{job.error_message()}[/red]"))
    workload = data.get("type") in ("quantum-function", "optimization")
    steps = list(job.progress()) if workload else []
    if workload:
        rows[5] = ("evaluations", str(len(steps)))
        results = data.get("results") or {}
        if "value" in results:
            rows.append(("value", f"{results['value']:.6f} (variance {results.get('variance', 0):.2e})"))
        best = min((s for s in steps if s.value is not None), key=lambda s: s.value, default=None)  # type: ignore[arg-type,return-value]
        if best is not None and data.get("type") == "optimization":
            rows.append(("best value", f"{best.value:.6f} at iteration {best.iteration}"))
            rows.append(("best parameters", ", ".join(f"{p:.6g}" for p in best.params)))
    for key, value in rows:
        table.add_row(key, value)
    console.print(table)
    if workload and len(steps) > 1:
        from qumulus.cli.render import convergence

        console.print("convergence (value per iteration)", style="bold")
        console.print(convergence([s.value for s in steps if s.value is not None]), highlight=False)


@jobs_app.command("wait")
@friendly
def jobs_wait(
    job_id: str,
    timeout: Annotated[float | None, typer.Option(help="Give up after this many seconds.")] = None,
    profile: Profile = None,
) -> None:
    """Follow a job live until it ends (exit 2 on timeout, 1 if it failed or was canceled)."""
    job = _provider(profile).retrieve_job(job_id)
    _follow(job, timeout)
    if job.cached_status().name != "DONE":
        if job.cached_status().name == "ERROR":
            err_console.print(f"[red]{job.error_message()}[/red]")
        raise typer.Exit(1)


@jobs_app.command("cancel")
@friendly
def jobs_cancel(job_id: str, profile: Profile = None) -> None:
    """Cancel a job (exit 1 when it had already finished)."""
    job = _provider(profile).retrieve_job(job_id)
    if job.cancel():
        console.print(f"job {job_id}: {styled_status(job.cached_status())}")
    else:
        err_console.print(f"job {job_id} had already finished ({job.cached_status().value})")
        raise typer.Exit(1)


@jobs_app.command("results")
@friendly
def jobs_results(
    job_id: str,
    as_json: Annotated[bool, typer.Option("--json", help="Counts as JSON instead of a histogram.")] = False,
    profile: Profile = None,
) -> None:
    """A finished job's counts, drawn as a histogram (waits if it is still running)."""
    job = _provider(profile).retrieve_job(job_id)
    if as_json:
        console.print_json(json.dumps(job.result().to_dict()))
        return
    job.wait_for_final_state()
    _print_results(job)


# job sets ---------------------------------------------------------------------------------------


@jobsets_app.command("list")
@friendly
def jobsets_list(limit: Annotated[int, typer.Option("--limit", "-n")] = 20, profile: Profile = None) -> None:
    """The newest job sets."""
    table = Table(title="Job sets")
    for column in ("id", "name", "status", "jobs", "experiments"):
        table.add_column(column, no_wrap=column == "id")
    from qumulus.client.status import from_server

    for entry in _provider(profile).job_sets(limit=limit):
        table.add_row(
            entry["id"],
            entry.get("name") or "",
            styled_status(from_server(entry["status"])),
            str(sum((entry.get("counts") or {}).values())),
            str(entry.get("experiments", "")),
        )
    console.print(table)


@jobsets_app.command("show")
@friendly
def jobsets_show(job_set_id: str, profile: Profile = None) -> None:
    """A job set's report: statuses, then each member job and its experiments."""
    console.print(_provider(profile).retrieve_job_set(job_set_id).report(detailed=True), highlight=False)


@jobsets_app.command("cancel")
@friendly
def jobsets_cancel(job_set_id: str, profile: Profile = None) -> None:
    """Cancel every unfinished job of a set."""
    job_set = _provider(profile).retrieve_job_set(job_set_id)
    job_set.cancel()
    console.print(f"job set {job_set_id}: {styled_status(job_set.status())}")


# usage ------------------------------------------------------------------------------------------


@friendly
def usage(
    group_by: Annotated[
        str, typer.Option("--group-by", help="Comma-separated: project, backend, user, period.")
    ] = "backend",
    period: Annotated[str, typer.Option(help="Buckets when grouping by period: day, week, month.")] = "month",
    since: Annotated[str | None, typer.Option("--from", help="From (ISO 8601, inclusive).")] = None,
    until: Annotated[str | None, typer.Option("--to", help="To (ISO 8601, exclusive).")] = None,
    backend: Annotated[str | None, typer.Option("--backend", "-b")] = None,
    profile: Profile = None,
) -> None:
    """Your usage and cost as the server reports it (``GET /v0.4/usage``), through your profile."""
    from qumulus.client import ApiError

    params = {"group_by": group_by, "period": period, "from": since, "to": until, "backend": backend}
    try:
        data = _provider(profile).transport.request(
            "GET", "/usage", params={k: v for k, v in params.items() if v is not None}
        )
    except ApiError as exc:
        if exc.status_code in (404, 405):
            console.print("This server does not report usage (no /v0.4/usage).")
            return
        raise
    rows = list(data.get("rows") or [])
    columns = list(dict.fromkeys(key for row in rows for key in row if not key.endswith("_id")))
    for key in data.get("total") or {}:
        if key not in columns:
            columns.append(key)
    span = f"{data.get('from') or 'start'} → {data.get('to') or 'now'}"
    table = Table(title=f"Usage by {', '.join(data.get('group_by') or [])} ({span})")
    for column in columns:
        table.add_column(column, justify="left" if column in (data.get("group_by") or []) else "right")
    for row in rows:
        table.add_row(*(_cell(row.get(column)) for column in columns))
    total = data.get("total") or {}
    table.add_row(*(f"[bold]{_cell(total.get(c))}[/bold]" if c in total else "" for c in columns))
    console.print(table)


def _cell(value: Any) -> str:
    return "" if value is None else str(value)


def register(app: typer.Typer) -> None:
    """Add the user commands to the ``qumulus`` app (one line in ``cli/main.py``)."""
    for command in (login, profiles, logout, submit):
        app.command()(command)
    # ``qumulus backends`` (no subcommand) lists backends; its admin subcommands are cli/backends.py.
    from qumulus.cli.billing import usage_app  # the admin ``usage report`` reads the database

    usage_app.command("show")(usage)
    app.add_typer(jobs_app, name="jobs")
    app.add_typer(jobsets_app, name="jobsets")
