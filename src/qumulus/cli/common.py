"""What the administrative CLI commands share: the ``--data-dir`` option, the console, the platform.

Commands import the server stack lazily (inside the command) so the client-only install keeps a
working ``qumulus --help``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

if TYPE_CHECKING:
    from qumulus.config import Settings
    from qumulus.platform import Platform

console = Console(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)

DataDir = Annotated[
    Path | None,
    typer.Option(
        "--data-dir", envvar="QUMULUS_DATA_DIR", help="Where the database, results and secrets live."
    ),
]


def secret_problem(settings: Settings) -> str | None:
    """Why a command that makes or checks API keys must not run with these settings, or None.

    API keys are stored as HMACs under the server's secret. Without ``QUMULUS_SECRET_KEY`` the
    secret is ``<data-dir>/secret-key``, made on first use — right for the default embedded setup,
    where the database is the SQLite file in that same directory and ``qumulus serve`` reads the
    same file. With any other database (PostgreSQL, distributed mode, or an SQLite file elsewhere)
    the servers' secret is not necessarily this directory's: an admin command there silently made a
    new secret and minted keys every API process answered with 401.
    """
    if settings.secret_key:
        return None
    default_url = f"sqlite:///{settings.data_dir / 'qumulus.db'}"
    if settings.database_url == default_url:
        return None
    return (
        "QUMULUS_SECRET_KEY is not set. With QUMULUS_DATABASE_URL pointing at a database other than "
        "the data directory's own SQLite file, API keys can only be made and checked with the secret "
        "the API processes use: set QUMULUS_SECRET_KEY to the value given to every `qumulus api` "
        "(for `qumulus serve` without it: the contents of its <data-dir>/secret-key file)."
    )


def open_platform(data_dir: Path | None, *, check_secret: bool = True, **overrides: object) -> Platform:
    """The platform on ``--data-dir`` / ``QUMULUS_DATABASE_URL`` (settings ``overrides`` applied),
    without the job runtime; a clear message and exit 1 when the server extra is not installed, and
    exit 2 naming ``QUMULUS_SECRET_KEY`` when keys made here would not be the servers' (see
    :func:`secret_problem`; ``qumulus serve`` passes ``check_secret=False``: it *is* the server)."""
    try:
        from qumulus.platform import Platform
    except ImportError as exc:  # pragma: no cover - depends on the install
        err_console.print(
            f"[red]The server is not installed ({exc.name} missing): pip install 'qumulus[server]'[/red]"
        )
        raise typer.Exit(1) from None
    return Platform(checked_settings(data_dir, check_secret=check_secret, **overrides))


def checked_settings(data_dir: Path | None, *, check_secret: bool, **overrides: object) -> Settings:
    """Settings from the environment; with ``check_secret``, exit 2 naming ``QUMULUS_SECRET_KEY``
    where keys made here would not be the servers' (:func:`secret_problem`)."""
    from qumulus.config import Settings

    settings = Settings.from_env(data_dir=data_dir, **overrides)
    problem = secret_problem(settings) if check_secret else None
    if problem is not None:
        err_console.print(f"[red]{problem}[/red]")
        raise typer.Exit(2)
    return settings


@contextmanager
def admin_platform(data_dir: Path | None) -> Iterator[Platform]:
    """The platform on ``--data-dir`` / ``QUMULUS_DATABASE_URL``, without the job runtime.

    A service error (bad input, a conflict, not found) is printed in red and exits with status 1.
    """
    platform = open_platform(data_dir)
    from qumulus.errors import QumulusError

    try:
        yield platform
    except QumulusError as exc:
        err_console.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(1) from None
    finally:
        platform.db.dispose()
