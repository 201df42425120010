"""Terminal rendering for the user commands: a histogram of counts, job tables, statuses in colour.

Why bars drawn by hand rather than a plotting library: the CLI must work over SSH and in CI logs,
and the client install carries only ``rich``.
"""

from __future__ import annotations

from typing import Any

from rich.table import Table

STATUS_STYLE = {
    "DONE": "green",
    "ERROR": "red",
    "CANCELLED": "yellow",
    "RUNNING": "cyan",
    "QUEUED": "blue",
    "INITIALIZING": "blue",
    "VALIDATING": "blue",
}
BAR_WIDTH = 40


def styled_status(status: Any) -> str:
    name = str(getattr(status, "value", status))
    return f"[{STATUS_STYLE.get(name, 'white')}]{name}[/]"


def histogram(counts: dict[str, int], *, title: str | None = None, top: int = 32) -> Table:
    """One row per outcome (most frequent first, at most ``top``): bit string, bar, count, share."""
    total = sum(counts.values()) or 1
    peak = max(counts.values(), default=1) or 1
    table = Table(title=title, show_edge=False, box=None, pad_edge=False)
    table.add_column("outcome", style="bold")
    table.add_column("", min_width=BAR_WIDTH)
    table.add_column("count", justify="right")
    table.add_column("share", justify="right")
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    for key, n in ordered[:top]:
        bar = "█" * max(1, round(BAR_WIDTH * n / peak)) if n else ""
        table.add_row(key, f"[magenta]{bar}[/]", str(n), f"{100 * n / total:.1f}%")
    if len(ordered) > top:
        rest = sum(n for _, n in ordered[top:])
        table.add_row(f"({len(ordered) - top} more)", "", str(rest), f"{100 * rest / total:.1f}%")
    return table


def jobs_table(jobs: list[Any]) -> Table:
    table = Table(title="Jobs")
    for column in ("id", "name", "backend", "status", "shots", "submitted"):
        table.add_column(column, no_wrap=column == "id")
    for job in jobs:
        data = job.data
        table.add_row(
            job.job_id(),
            data.get("name") or "",
            job.backend_name,
            styled_status(job.cached_status()),
            str(data.get("shots") or ""),
            str(data.get("submitted_at") or "")[:19].replace("T", " "),
        )
    return table


def convergence(values: list[float], *, width: int = 60, height: int = 10) -> str:
    """A text chart of an optimization's values per iteration (iteration 1 at the left).

    One column per iteration (iterations averaged into columns past ``width``), each a dot at its
    value's height, the y axis labelled with the highest and lowest value. Plain characters: it
    reads the same over SSH, in CI logs and in a test.
    """
    if not values:
        return "(no iterations yet)"
    columns = len(values) if len(values) <= width else width
    sampled = [
        sum(chunk) / len(chunk)
        for chunk in (
            values[
                i * len(values) // columns : max(
                    (i + 1) * len(values) // columns, i * len(values) // columns + 1
                )
            ]
            for i in range(columns)
        )
    ]
    top, bottom = max(sampled), min(sampled)
    span = (top - bottom) or 1.0
    rows = [[" "] * columns for _ in range(height)]
    for x, value in enumerate(sampled):
        y = round((top - value) / span * (height - 1))
        rows[y][x] = "•"
    label = max(len(f"{top:.4f}"), len(f"{bottom:.4f}"))
    lines = []
    for y, row in enumerate(rows):
        mark = f"{top:.4f}" if y == 0 else f"{bottom:.4f}" if y == height - 1 else ""
        lines.append(f"{mark:>{label}} │{''.join(row)}")
    lines.append(f"{'':>{label}} └{'─' * columns}")
    lines.append(f"{'':>{label}}  iteration 1 … {len(values)}")
    return "\n".join(lines)
