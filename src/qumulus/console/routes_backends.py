"""Backends: the list (status, queue, price, headline errors), a backend's page (qubit map by a chosen
metric, per-qubit and per-pair tables with units, calibration history and downloads, status
history), and the public status page."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC
from typing import Any

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from qumulus.console import backend_info, charts, fmt, web
from qumulus.errors import NotFound
from qumulus.services.backends import catalog
from qumulus.services.backends import status as backend_status

#: The qubit map's metrics: (key, label, unit for its numbers, how to read a snapshot's value).
METRICS = {
    "t1": ("T1", "s"),
    "t2": ("T2", "s"),
    "error_1q": ("1-qubit gate error", "%"),
    "error_2q": ("2-qubit gate error (mean over pairs)", "%"),
    "readout": ("Readout error", "%"),
}
HISTORY = 30


def build() -> APIRouter:
    router = APIRouter(prefix=web.PREFIX, route_class=web.ConsoleRoute)

    @router.get("/status")
    async def status_page(request: Request) -> Response:
        """Public: no login, no tenant data; what a person checks when jobs seem slow."""
        states, changes = await run_in_threadpool(_status_and_changes, web.platform_of(request))
        try:
            me = await web.user_of(request)
        except web.LoginRequired:
            return web.render(request, "status.html", {"me": None, "states": states, "changes": changes})
        return web.page(request, me, "status.html", {"states": states, "changes": changes, "nav": "status"})

    @router.get("/backends")
    async def backends_page(request: Request) -> Response:
        me = await web.user_of(request)
        rows = await run_in_threadpool(_listing, web.platform_of(request), me)
        return web.page(request, me, "backends.html", {"rows": rows, "nav": "backends"})

    @router.get("/backends/{name}/calibration.{form}")
    async def calibration(request: Request, name: str, form: str) -> Response:
        """The characterization in force (or ``?id=`` one of its history) as JSON, or its per-qubit
        figures as CSV."""
        await web.user_of(request)
        if form not in ("json", "csv"):
            raise NotFound("No such download: calibration.json or calibration.csv.")
        snap = await run_in_threadpool(
            _snapshot, web.platform_of(request), name, request.query_params.get("id")
        )
        stamp = snap.date.strftime("%Y%m%dT%H%M")
        if form == "json":
            body = json.dumps(
                {
                    "backend": snap.backend,
                    "id": snap.id,
                    "date": snap.date.isoformat(),
                    "qubits": snap.qubits,
                    **snap.data,
                },
                indent=2,
            )
            media = "application/json"
        else:
            body, media = _qubits_csv(snap), "text/csv; charset=utf-8"
        return Response(
            body,
            media_type=media,
            headers={"Content-Disposition": f'attachment; filename="{snap.backend}-{stamp}.{form}"'},
        )

    @router.get("/backends/{name}")
    async def backend_page(request: Request, name: str) -> Response:
        me = await web.user_of(request)
        metric = request.query_params.get("metric", "error_2q")
        metric = metric if metric in METRICS else "error_2q"
        context = await run_in_threadpool(_backend, web.platform_of(request), name, metric)
        return web.page(request, me, "backend.html", {**context, "nav": "backends"})

    return router


def _status_and_changes(platform: Any) -> tuple[list[Any], dict[str, list[Any]]]:
    """Every backend's status now (maintenance windows applied) and its last five changes."""
    states = backend_status.status_page(platform)
    return states, {s.backend: backend_status.history(platform, s.backend, limit=5)[0] for s in states}


def _listing(platform: Any, me: Any) -> list[dict[str, Any]]:
    out = []
    for row in backend_info.rows(platform, me.principal if me.principal.project_id else None):
        backend = catalog.get_backend(platform, row.name)
        medians: dict[str, float] = {}
        if backend.characterization_id:
            snap = catalog.characterization(platform, backend.characterization_id)
            medians = {
                k: 1 - float(v["median"])
                for k, v in (snap.data.get("fidelity") or {}).items()
                if "median" in v
            }
        out.append({"row": row, "errors": medians})
    return out


def _snapshot(platform: Any, name: str, snapshot_id: str | None) -> Any:
    if snapshot_id:
        snap = catalog.characterization(platform, snapshot_id)
        if snap.backend != catalog.get_backend(platform, name).name:
            raise NotFound(f"Characterization {snapshot_id} not found.")
        return snap
    found, _ = catalog.characterizations(platform, name, limit=1)
    if not found:
        raise NotFound(f"Backend {name} has no characterization (an ideal simulator has no noise).")
    return found[0]


def qubit_table(data: dict[str, Any], qubits: int) -> list[dict[str, Any]]:
    """Per qubit: T1, T2 (s), 1q error, readout error and the mean 2q error of its pairs (fractions)."""
    q = data.get("qubit") or {}
    pair_errors: dict[int, list[float]] = {}
    for key, fidelity in ((data.get("pair") or {}).get("2q") or {}).items():
        a, b = (int(x) for x in key.split("-"))
        for n in (a, b):
            pair_errors.setdefault(n, []).append(1 - float(fidelity))

    def at(name: str, n: int) -> float | None:
        values = q.get(name) or []
        return float(values[n]) if n < len(values) and values[n] is not None else None

    rows = []
    for n in range(qubits):
        one_q, spam = at("1q", n), at("spam", n)
        errors = pair_errors.get(n)
        rows.append(
            {
                "q": n,
                "t1": at("t1", n),
                "t2": at("t2", n),
                "error_1q": None if one_q is None else 1 - one_q,
                "error_2q": sum(errors) / len(errors) if errors else None,
                "readout": None if spam is None else 1 - spam,
            }
        )
    return rows


def _qubits_csv(snap: Any) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["qubit", "t1_s", "t2_s", "error_1q", "error_2q_mean", "readout_error"])
    for r in qubit_table(snap.data, snap.qubits):
        writer.writerow(
            [
                r["q"],
                *(
                    ("" if r[k] is None else f"{r[k]:.6g}")
                    for k in ("t1", "t2", "error_1q", "error_2q", "readout")
                ),
            ]
        )
    return buffer.getvalue()


def _metric_fmt(metric: str) -> Any:
    return fmt.percent if METRICS[metric][1] == "%" else (lambda v: f"{v:.3g} s")


def _backend(platform: Any, name: str, metric: str) -> dict[str, Any]:
    backend = catalog.get_backend(platform, name)
    snapshots, total = catalog.characterizations(platform, backend.name, limit=HISTORY)
    snap = snapshots[0] if snapshots else None
    data: dict[str, Any] = snap.data if snap else {}
    table = qubit_table(data, backend.qubits) if snap else []
    pairs = [(int(a), int(b)) for a, b in (data.get("connectivity") or [])]
    label, _ = METRICS[metric]
    qmap = (
        charts.qubit_map_svg(
            backend.qubits, pairs, [r[metric] for r in table], metric=label, fmt=_metric_fmt(metric)
        )
        if table
        else ""
    )
    worst_pairs = sorted(
        ((k, 1 - float(v)) for k, v in ((data.get("pair") or {}).get("2q") or {}).items()),
        key=lambda kv: -kv[1],
    )[:50]
    history_points = [
        (
            s.date.replace(tzinfo=UTC) if s.date.tzinfo is None else s.date,
            {
                f"{k} error": 1 - float(v["median"])
                for k, v in (s.data.get("fidelity") or {}).items()
                if "median" in v
            },
        )
        for s in snapshots
    ]
    events, windows = backend_status.history(platform, backend.name, limit=50)
    effective = backend_status.current(platform, [backend])[backend.name]
    return {
        "backend": backend,
        "status": effective,
        "snapshot": snap,
        "snapshot_count": total,
        "snapshots": snapshots,
        "fidelity": data.get("fidelity") or {},
        "timing": data.get("timing") or {},
        "qubit_rows": table,
        "pair_rows": worst_pairs,
        "pair_count": len(pairs),
        "metric": metric,
        "metrics": METRICS,
        "qubit_map": qmap,
        "history": history_points,
        "history_svg": charts.history_svg(
            history_points,
            title=f"Median errors of {backend.name} over time",
            unit="error",
            fmt=lambda v: f"{v * 100:.2f} %",
        ),
        "events": events,
        "windows": windows,
    }
