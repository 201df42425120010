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
    from qumulus.platform import Platform

console = Console(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)

DataDir = Annotated[
    Path | None,
    typer.Option(
        "--data-dir", envvar="QUMULUS_DATA_DIR", help="Where the database, results and secrets live."
    ),
]


def open_platform(data_dir: Path | None, **overrides: object) -> Platform:
    """The platform on ``--data-dir`` / ``QUMULUS_DATABASE_URL`` (settings ``overrides`` applied),
    without the job runtime; a clear message and exit 1 when the server extra is not installed."""
    try:
        from qumulus.config import Settings
        from qumulus.platform import Platform
    except ImportError as exc:  # pragma: no cover - depends on the install
        err_console.print(
            f"[red]The server is not installed ({exc.name} missing): pip install 'qumulus[server]'[/red]"
        )
        raise typer.Exit(1) from None
    return Platform(Settings.from_env(data_dir=data_dir, **overrides))


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
