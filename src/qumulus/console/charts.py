"""Inline SVG for the console: histograms, circuit drawings, connectivity. No JavaScript needed,
so a chart shows without scripts and a screen reader gets the same numbers from its table."""

from __future__ import annotations

import math
from collections import Counter
from html import escape

from qumulus.circuits import Circuit

MAX_BARS = 32


def top_outcomes(
    probabilities: dict[int, float], qubits: int, limit: int = MAX_BARS
) -> list[tuple[str, float]]:
    """The most likely outcomes as (bitstring, probability), most likely first; bitstrings are
    written with qubit 0 on the right (the little-endian integer key in binary)."""
    ranked = sorted(probabilities.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
    return [(format(k, f"0{max(qubits, 1)}b"), p) for k, p in ranked]


def histogram_svg(bars: list[tuple[str, float]], *, title: str = "Result histogram") -> str:
    """A vertical bar chart of (label, probability) pairs, with the value on each bar."""
    if not bars:
        return ""
    width, height, pad_left, pad_bottom = max(320, 44 * len(bars) + 50), 240, 40, 60
    plot_h = height - pad_bottom - 20
    bar_w = (width - pad_left - 10) / len(bars)
    top = max(p for _, p in bars) or 1.0
    parts = [
        f'<svg class="chart" role="img" aria-labelledby="hist-title" viewBox="0 0 {width:.0f} {height}" '
        f'width="100%" style="max-width:{width:.0f}px" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="hist-title">{escape(title)}</title>',
        f'<line x1="{pad_left}" y1="{20 + plot_h}" x2="{width - 10}" y2="{20 + plot_h}" class="axis"/>',
    ]
    for i, (label, p) in enumerate(bars):
        h = plot_h * p / top
        x = pad_left + i * bar_w + bar_w * 0.1
        y = 20 + plot_h - h
        parts.append(
            f'<rect class="bar" data-outcome="{escape(label)}" x="{x:.1f}" y="{y:.1f}" '
            f'width="{bar_w * 0.8:.1f}" height="{h:.1f}"><title>{escape(label)}: {p:.4f}</title></rect>'
        )
        parts.append(
            f'<text x="{x + bar_w * 0.4:.1f}" y="{y - 4:.1f}" text-anchor="middle" class="val">{p:.2f}</text>'
        )
        parts.append(
            f'<text x="{x + bar_w * 0.4:.1f}" y="{20 + plot_h + 14}" text-anchor="end" class="lbl" '
            f'transform="rotate(-45 {x + bar_w * 0.4:.1f} {20 + plot_h + 14})">{escape(label)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def gate_counts(circuit: Circuit) -> list[tuple[str, int]]:
    """Gate name (with a ``c`` per control, as IonQ's console counts them) and how often it occurs."""
    counts = Counter(("c" * len(op.controls)) + op.name for op in circuit.operations)
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


def circuit_text(circuit: Circuit, *, max_columns: int = 60) -> str:
    """A plain-text drawing: one wire per qubit, one column per operation (● control, gate name on
    its targets, │ across the qubits in between). Long circuits are cut with an ellipsis."""
    n = circuit.qubits
    rows = [[f"q{q}: "] for q in range(n)]
    label_w = max(len(r[0]) for r in rows) if rows else 0
    for r in rows:
        r[0] = r[0].rjust(label_w)
    for col, op in enumerate(circuit.operations):
        if col >= max_columns:
            for r in rows:
                r.append("─…")
            break
        name = op.name.upper() if len(op.name) <= 4 else op.name[:4].upper()
        touched = set(op.targets) | set(op.controls)
        lo, hi = min(touched), max(touched)
        w = max(len(name), 1) + 2
        for q in range(n):
            if q in op.targets:
                cell = name.center(w - 2, "─")
                cell = f"[{cell}]" if len(name) > 1 else f"─{cell}─"
            elif q in op.controls:
                cell = "●".center(w, "─")
            elif lo < q < hi:
                cell = "│".center(w, "─")
            else:
                cell = "─" * w
            rows[q].append(cell + "─")
    return "\n".join("".join(r) for r in rows)


def connectivity_svg(qubits: int, pairs: list[tuple[int, int]]) -> str:
    """Qubits on a circle, a line for each connected pair (all-to-all for trapped ions)."""
    if qubits <= 0:
        return ""
    size, r = 300, 120
    pos = [
        (
            size / 2 + r * math.cos(2 * math.pi * q / qubits - math.pi / 2),
            size / 2 + r * math.sin(2 * math.pi * q / qubits - math.pi / 2),
        )
        for q in range(qubits)
    ]
    parts = [
        f'<svg class="chart" role="img" aria-label="Connectivity of {qubits} qubits, {len(pairs)} pairs" '
        f'viewBox="0 0 {size} {size}" width="100%" style="max-width:{size}px" xmlns="http://www.w3.org/2000/svg">'
    ]
    for a, b in pairs:
        if a < qubits and b < qubits:
            (x1, y1), (x2, y2) = pos[a], pos[b]
            parts.append(f'<line class="edge" x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}"/>')
    for q, (x, y) in enumerate(pos):
        parts.append(f'<circle class="node" cx="{x:.1f}" cy="{y:.1f}" r="11"/>')
        parts.append(f'<text x="{x:.1f}" y="{y + 4:.1f}" text-anchor="middle" class="nodelbl">{q}</text>')
    parts.append("</svg>")
    return "".join(parts)


def history_svg(points: list[tuple[str, dict[str, float]]], *, title: str) -> str:
    """One line per figure over dated snapshots (oldest left); each point has a tooltip."""
    if not points:
        return ""
    names = sorted({k for _, values in points for k in values})
    all_values = [v for _, values in points for v in values.values()]
    lo, hi = min(all_values), max(all_values)
    span = (hi - lo) or 1e-6
    width, height, pad = 480, 200, 40
    step = (width - 2 * pad) / max(len(points) - 1, 1)
    parts = [
        f'<svg class="chart history" role="img" aria-label="{escape(title)}" viewBox="0 0 {width} {height}" '
        f'width="100%" style="max-width:{width}px" xmlns="http://www.w3.org/2000/svg">',
        f'<text x="{pad}" y="14" class="lbl">{hi:.5g}</text><text x="{pad}" y="{height - 6}" class="lbl">'
        f"{lo:.5g}</text>",
    ]
    for n, name in enumerate(names):
        xy = [
            (pad + i * step, 20 + (height - 50) * (hi - values[name]) / span, date, values[name])
            for i, (date, values) in enumerate(points)
            if name in values
        ]
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _, _ in xy)
        parts.append(f'<polyline class="line line{n}" fill="none" points="{path}"/>')
        for x, y, date, value in xy:
            parts.append(
                f'<circle class="pt line{n}" cx="{x:.1f}" cy="{y:.1f}" r="3"><title>{escape(name)} '
                f"{escape(date)}: {value:.6g}</title></circle>"
            )
        parts.append(
            f'<text x="{width - pad}" y="{20 + 14 * n}" text-anchor="end" class="lbl line{n}">'
            f"{escape(name)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)
