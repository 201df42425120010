"""Charts as inline SVG, drawn on the server: histograms, usage over time, breakdowns, meters, the
qubit map and characterization history.

Why on the server, and not a charting library in the browser: the numbers are already here, a
chart then costs no script, no build step and no vendored library to keep patched; it shows with
scripts off, in screenshots and in print; and each chart is an ``<svg role="img">`` with a title,
hover values (``<title>`` on each mark) and a data table beside it for screen readers. The price is
less interactivity (no zoom, no brushing), which these pages do not need.

Everything here is pure (numbers in, markup out); values are escaped.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from html import escape

from qumulus.circuits import Circuit

MAX_BARS = 64
#: Colour-blind-safe series colours (Okabe–Ito, darkened where needed to keep 3:1 against white).
PALETTE = ("#0b57d0", "#c05800", "#00796b", "#b3261e", "#6a3d9a", "#8a6d00", "#0072b2", "#5f6368")
#: A sequential scale for the qubit map (viridis stops): low values dark, high values light.
SCALE = ("#440154", "#414487", "#2a788e", "#22a884", "#7ad151", "#fde725")
FONT = 'font-family="system-ui, sans-serif"'


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """Round tick values covering ``[lo, hi]`` (1, 2, 2.5 or 5 × a power of ten apart)."""
    if not math.isfinite(lo) or not math.isfinite(hi):
        return [0.0]
    if hi <= lo:
        hi = lo + (abs(lo) or 1.0)
    raw = (hi - lo) / max(count, 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    start = math.floor(lo / step) * step
    ticks = []
    value = start
    while value <= hi + step * 1e-9:
        ticks.append(round(value, 12))
        value += step
    if ticks[-1] < hi:
        ticks.append(round(value, 12))
    return ticks


def short_number(value: float) -> str:
    """Tick labels: ``0.25``, ``1,500``, ``12k``, ``3.5M``."""
    if value == 0:
        return "0"
    a = abs(value)
    if a >= 1e6:
        return f"{value / 1e6:g}M"
    if a >= 1e4:
        return f"{value / 1e3:g}k"
    if a >= 1:
        return f"{value:,.{0 if float(value).is_integer() else 1}f}"
    return f"{value:.3g}"


def _open(width: float, height: float, label: str, cls: str = "chart") -> str:
    return (
        f'<svg class="{cls}" role="img" aria-label="{escape(label)}" viewBox="0 0 {width:.0f} {height:.0f}" '
        f'width="{width:.0f}" height="{height:.0f}" preserveAspectRatio="xMinYMin meet" '
        f'xmlns="http://www.w3.org/2000/svg" {FONT}>'
    )


def _y_axis(ticks: list[float], top: float, bottom: float, left: float, right: float, unit: str) -> list[str]:
    hi = ticks[-1] or 1.0
    lo = ticks[0]
    parts = []
    for t in ticks:
        y = bottom - (bottom - top) * (t - lo) / ((hi - lo) or 1.0)
        parts.append(f'<line class="grid" x1="{left}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}"/>')
        parts.append(
            f'<text class="tick" x="{left - 6}" y="{y + 4:.1f}"'
            f' text-anchor="end">{escape(short_number(t))}</text>'
        )
    parts.append(f'<line class="axis" x1="{left}" y1="{top}" x2="{left}" y2="{bottom}"/>')
    parts.append(f'<line class="axis" x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}"/>')
    if unit:
        parts.append(
            f'<text class="unit" x="12" y="{(top + bottom) / 2:.0f}" text-anchor="middle" '
            f'transform="rotate(-90 12 {(top + bottom) / 2:.0f})">{escape(unit)}</text>'
        )
    return parts


# --- results ------------------------------------------------------------------------------------


def outcome_bars(
    probabilities: dict[int, float], qubits: int, limit: int = MAX_BARS
) -> tuple[list[tuple[str, float]], int]:
    """The outcomes to draw as (bitstring, probability), **ordered by bitstring**, and how many
    outcomes there were. Past ``limit`` outcomes only the most likely ``limit`` are kept (still in
    bitstring order). Bitstrings have qubit 0 on the right (the little-endian key in binary)."""
    kept = sorted(probabilities.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
    kept.sort(key=lambda kv: kv[0])
    return [(format(k, f"0{max(qubits, 1)}b"), p) for k, p in kept], len(probabilities)


def histogram_svg(
    bars: Sequence[tuple[str, float]],
    *,
    scale: str = "probability",
    shots: int | None = None,
    title: str = "Result histogram",
) -> str:
    """Vertical bars of (bitstring, value): probabilities (0–1) or counts, with a y axis, gridlines,
    the bitstring under each bar and the exact value on hover (and on the bar when few)."""
    if not bars:
        return ""
    n = len(bars)
    label_len = max(len(label) for label, _ in bars)
    slanted = n > 8 or label_len > 6
    bar_w = max(16.0, min(110.0, 640 / n))
    left, top, right_pad = 64, 16, 12
    bottom_pad = (min(label_len, 24) * 6.5 + 26) if slanted else 40
    width = left + n * bar_w + right_pad
    height = 260 + bottom_pad
    bottom = height - bottom_pad
    top_value = max(v for _, v in bars) or 1.0
    ticks = nice_ticks(0, top_value, 5)
    hi = ticks[-1] or 1.0
    unit = "Probability" if scale == "probability" else "Counts"
    parts = [_open(width, height, title, "chart histogram-chart")]
    parts += _y_axis(ticks, top, bottom, left, width - right_pad, unit)
    for i, (label, value) in enumerate(bars):
        h = (bottom - top) * value / hi
        x = left + i * bar_w + bar_w * 0.12
        w = bar_w * 0.76
        y = bottom - h
        shown = f"{value:.4f}" if scale == "probability" else f"{value:,.0f}"
        extra = f" of {shots:,} shots" if scale == "counts" and shots else ""
        parts.append(
            f'<rect class="bar" data-outcome="{escape(label)}" data-value="{escape(shown)}" x="{x:.1f}" '
            f'y="{y:.1f}" width="{w:.1f}" height="{max(h, 0.5):.1f}"><title>{escape(label)}: '
            f"{escape(shown)}{escape(extra)}</title></rect>"
        )
        cx = x + w / 2
        if n <= 16:
            parts.append(
                f'<text class="val" x="{cx:.1f}" y="{y - 4:.1f}" text-anchor="middle">'
                f"{escape(shown if scale == 'counts' else f'{value:.3f}')}</text>"
            )
        if slanted:
            parts.append(
                f'<text class="lbl mono" x="{cx + 3:.1f}" y="{bottom + 12}" text-anchor="end" '
                f'transform="rotate(-60 {cx + 3:.1f} {bottom + 12})">{escape(label)}</text>'
            )
        else:
            parts.append(
                f'<text class="lbl mono" x="{cx:.1f}" y="{bottom + 16}"'
                f' text-anchor="middle">{escape(label)}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)


def convergence_svg(points: Sequence[tuple[int, float]], *, best: int | None = None, title: str) -> str:
    """An optimization's value per iteration: a line through the recorded points, a dot on each
    (its exact value on hover), the best iteration ringed, axes with round ticks."""
    if not points:
        return ""
    left, top, right_pad, bottom_pad = 64, 16, 16, 40
    width, height = 680, 280
    bottom, right = height - bottom_pad, width - right_pad
    values = [v for _, v in points]
    ticks = nice_ticks(min(values), max(values), 5)
    lo, hi = ticks[0], ticks[-1]
    if hi == lo:
        lo, hi = lo - 1, hi + 1
        ticks = [lo, hi]
    first, last = points[0][0], points[-1][0]

    def xy(iteration: int, value: float) -> tuple[float, float]:
        x = left + (right - left) * ((iteration - first) / ((last - first) or 1))
        y = bottom - (bottom - top) * (value - lo) / (hi - lo)
        return x, y

    parts = [_open(width, height, title, "chart convergence-chart")]
    parts += _y_axis(ticks, top, bottom, left, right, "Value")
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y in (xy(i, v) for i, v in points))
    parts.append(f'<polyline class="line" fill="none" stroke="currentColor" points="{line}"/>')
    for iteration, value in points:
        x, y = xy(iteration, value)
        cls = "point best" if iteration == best else "point"
        parts.append(
            f'<circle class="{cls}" data-iteration="{iteration}" data-value="{value:.6f}" cx="{x:.1f}" '
            f'cy="{y:.1f}" r="{5 if iteration == best else 2.5}"><title>iteration {iteration}: '
            f"{value:.6f}</title></circle>"
        )
    for iteration in sorted({first, last}):
        x, _ = xy(iteration, lo)
        parts.append(
            f'<text class="tick" x="{x:.1f}" y="{bottom + 16}" text-anchor="middle">{iteration}</text>'
        )
    middle = (left + right) / 2
    parts.append(
        f'<text class="unit" x="{middle:.0f}" y="{height - 6}" text-anchor="middle">Iteration</text>'
    )
    parts.append("</svg>")
    return "".join(parts)


# --- usage and money ----------------------------------------------------------------------------


def stacked_days_svg(
    days: Sequence[str],
    series: dict[str, Sequence[float]],
    *,
    title: str,
    unit: str,
    fmt: Callable[[float], str] = short_number,
) -> str:
    """One stacked bar per day (``YYYY-MM-DD``, oldest left), one colour per series (a project, a
    backend), a dated x axis, and a legend. Hovering a segment tells its series, day and value."""
    if not days or not series:
        return ""
    names = list(series)
    totals = [sum(series[name][i] for name in names) for i in range(len(days))]
    ticks = nice_ticks(0, max(totals) or 1.0, 4)
    hi = ticks[-1] or 1.0
    left, top, right_pad = 64, 12, 12
    slot = max(10.0, min(40.0, 720 / len(days)))
    width = max(360.0, left + slot * len(days) + right_pad)
    legend_rows = math.ceil(len(names) / 3)
    height = 220 + 36 + 18 * legend_rows
    bottom = 220
    parts = [_open(width, height, title, "chart usage-chart")]
    parts += _y_axis(ticks, top, bottom, left, width - right_pad, unit)
    every = max(1, math.ceil(len(days) / 8))
    for i, day in enumerate(days):
        x = left + i * slot + slot * 0.12
        w = slot * 0.76
        y = float(bottom)
        for s, name in enumerate(names):
            value = series[name][i]
            if value <= 0:
                continue
            h = (bottom - top) * value / hi
            y -= h
            parts.append(
                f'<rect class="seg" fill="{PALETTE[s % len(PALETTE)]}" x="{x:.1f}" y="{y:.1f}"'
                f' width="{w:.1f}" '
                f'height="{max(h, 0.5):.1f}"><title>{escape(name)}, {escape(day)}:'
                f" {escape(fmt(value))}</title></rect>"
            )
        if i % every == 0:
            parts.append(
                f'<text class="tick" x="{x + w / 2:.1f}" y="{bottom + 16}"'
                f' text-anchor="middle">{escape(day[5:])}</text>'
            )
    parts.append(
        f'<text class="tick" x="{left}" y="{bottom + 32}">{escape(days[0][:4])}'
        f"{'' if days[0][:4] == days[-1][:4] else '–' + escape(days[-1][:4])} (UTC days)</text>"
    )
    for s, name in enumerate(names):
        lx = left + (s % 3) * ((width - left) / 3)
        ly = bottom + 52 + 18 * (s // 3)
        parts.append(
            f'<rect x="{lx:.0f}" y="{ly - 10}" width="12" height="12" fill="{PALETTE[s % len(PALETTE)]}"/>'
        )
        parts.append(f'<text class="legend" x="{lx + 18:.0f}" y="{ly}">{escape(name[:32])}</text>')
    parts.append("</svg>")
    return "".join(parts)


def breakdown_svg(rows: Sequence[tuple[str, float, str]], *, title: str) -> str:
    """Horizontal bars, largest first: (label, value, value as text)."""
    if not rows:
        return ""
    rows = sorted(rows, key=lambda r: -r[1])[:12]
    label_w = min(240, max(60, 7.6 * max(len(r[0]) for r in rows) + 14))
    text_w = 8 + 7.2 * max(len(r[2]) for r in rows)
    bar_space = 320
    width = label_w + bar_space + text_w + 16
    height = 28 * len(rows) + 8
    top_value = max(r[1] for r in rows) or 1.0
    parts = [_open(width, height, title, "chart breakdown-chart")]
    for i, (label, value, text) in enumerate(rows):
        y = 6 + i * 28
        w = bar_space * value / top_value
        parts.append(
            f'<text class="lbl" x="{label_w - 8:.0f}" y="{y + 15}"'
            f' text-anchor="end">{escape(label[:30])}</text>'
        )
        parts.append(
            f'<rect class="bar" fill="{PALETTE[i % len(PALETTE)]}" x="{label_w:.0f}" y="{y}"'
            f' width="{max(w, 1):.1f}" '
            f'height="20"><title>{escape(label)}: {escape(text)}</title></rect>'
        )
        parts.append(f'<text class="val" x="{label_w + w + 6:.1f}" y="{y + 15}">{escape(text)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def meter_svg(parts_: Sequence[tuple[str, float, str, str]], total: float, *, title: str) -> str:
    """A horizontal meter of ``total`` split into parts (label, value, text, css class), e.g.
    spent / held / left of a budget, or used / left of an allocation."""
    width, height = 560, 46
    parts = [_open(width, height, title, "chart meter-chart")]
    parts.append(f'<rect class="meter-track" x="0" y="4" width="{width}" height="22" rx="4"/>')
    x = 0.0
    for label, value, text, cls in parts_:
        if value <= 0 or total <= 0:
            continue
        w = min(width - x, width * value / total)
        parts.append(
            f'<rect class="{escape(cls)}" x="{x:.1f}" y="4" width="{w:.1f}" height="22">'
            f"<title>{escape(label)}: {escape(text)}</title></rect>"
        )
        x += w
    parts.append('<text class="tick" x="0" y="42">0</text>')
    parts.append(
        f'<text class="tick" x="{width}" y="42" text-anchor="end">{escape(short_number(total))}</text>'
    )
    parts.append("</svg>")
    return "".join(parts)


# --- backends -----------------------------------------------------------------------------------


def colour_of(fraction: float) -> str:
    """A colour of :data:`SCALE` for a position 0–1 (interpolated between stops)."""
    f = min(max(fraction, 0.0), 1.0) * (len(SCALE) - 1)
    i = min(int(f), len(SCALE) - 2)
    a, b = SCALE[i], SCALE[i + 1]
    t = f - i
    mix = [round(int(a[k : k + 2], 16) * (1 - t) + int(b[k : k + 2], 16) * t) for k in (1, 3, 5)]
    return "#" + "".join(f"{c:02x}" for c in mix)


def _ink(fill: str) -> str:
    """Black or white text, whichever reads better on ``fill`` (WCAG relative luminance)."""

    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.03928 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = (int(fill[k : k + 2], 16) for k in (1, 3, 5))
    lum = 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)
    return "#000000" if (lum + 0.05) / 0.05 > 1.05 / (lum + 0.05) else "#ffffff"


def qubit_map_svg(
    qubits: int,
    pairs: Sequence[tuple[int, int]],
    values: Sequence[float | None],
    *,
    metric: str,
    fmt: Callable[[float], str],
) -> str:
    """Qubits on a circle (trapped ions: any pair can interact), a line per connected pair, each
    qubit filled by its value of ``metric`` on a colour scale with a legend (min → max)."""
    if qubits <= 0:
        return ""
    size = 420 if qubits <= 40 else 520
    r = size / 2 - 34
    cx = cy = size / 2
    node_r = max(7.0, min(14.0, 2 * math.pi * r / qubits / 2.6))
    pos = [
        (
            cx + r * math.cos(2 * math.pi * q / qubits - math.pi / 2),
            cy + r * math.sin(2 * math.pi * q / qubits - math.pi / 2),
        )
        for q in range(qubits)
    ]
    known = [v for v in values if v is not None]
    lo, hi = (min(known), max(known)) if known else (0.0, 1.0)
    span = (hi - lo) or 1.0
    height = size + 64
    parts = [_open(size, height, f"Qubit map: {qubits} qubits coloured by {metric}", "chart qubit-map")]
    edge_w = 0.6 if len(pairs) > 200 else 1.2
    for a, b in pairs:
        if a < qubits and b < qubits:
            (x1, y1), (x2, y2) = pos[a], pos[b]
            parts.append(
                f'<line class="edge" stroke-width="{edge_w}" x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}"'
                f' y2="{y2:.1f}"/>'
            )
    for q, (x, y) in enumerate(pos):
        value = values[q] if q < len(values) else None
        fill = colour_of((value - lo) / span) if value is not None else "#9e9e9e"
        shown = fmt(value) if value is not None else "no data"
        parts.append(
            f'<circle class="node" data-qubit="{q}" data-value="{escape(shown)}" cx="{x:.1f}" cy="{y:.1f}" '
            f'r="{node_r:.1f}" fill="{fill}"><title>Qubit {q}: {escape(metric)}'
            f" {escape(shown)}</title></circle>"
        )
        if node_r >= 9:
            parts.append(
                f'<text class="nodelbl" x="{x:.1f}" y="{y + 3.5:.1f}" text-anchor="middle"'
                f' fill="{_ink(fill)}">{q}</text>'
            )
    # the legend: the scale from min to max
    lx, ly, lw = 40, size + 22, size - 80
    parts.append(
        f'<text class="tick" x="{lx + lw / 2}" y="{ly - 6}" text-anchor="middle">{escape(metric)}</text>'
    )
    stops = "".join(
        f'<stop offset="{i / (len(SCALE) - 1):.2f}" stop-color="{c}"/>' for i, c in enumerate(SCALE)
    )
    parts.append(f'<defs><linearGradient id="qmap-scale">{stops}</linearGradient></defs>')
    parts.append(f'<rect x="{lx}" y="{ly}" width="{lw}" height="12" fill="url(#qmap-scale)"/>')
    parts.append(f'<text class="tick" x="{lx}" y="{ly + 28}">{escape(fmt(lo))}</text>')
    parts.append(f'<text class="tick" x="{lx + lw}" y="{ly + 28}" text-anchor="end">{escape(fmt(hi))}</text>')
    parts.append("</svg>")
    return "".join(parts)


def time_ticks(start: datetime, end: datetime, count: int = 6) -> list[datetime]:
    """Round instants (hours or days apart) between ``start`` and ``end`` for a dated axis."""
    span = (end - start).total_seconds() or 3600.0
    steps = [3600 * h for h in (1, 2, 3, 6, 12)] + [86400 * d for d in (1, 2, 7, 14, 30, 90)]
    step = next((s for s in steps if span / s <= count), steps[-1])
    first = datetime.fromtimestamp(math.ceil(start.timestamp() / step) * step, tz=start.tzinfo)
    ticks = []
    at = first
    while at <= end:
        ticks.append(at)
        at += timedelta(seconds=step)
    return ticks


def history_svg(
    points: Sequence[tuple[datetime, dict[str, float]]],
    *,
    title: str,
    unit: str,
    fmt: Callable[[float], str],
) -> str:
    """One line per figure over time: x is real time (dated ticks, UTC), y the figure's value with
    ticks; each point tells its date and value on hover."""
    if not points:
        return ""
    points = sorted(points, key=lambda p: p[0])
    names = sorted({k for _, values in points for k in values})
    values = [v for _, vs in points for v in vs.values()]
    ticks = nice_ticks(min(values), max(values), 4)
    lo, hi = ticks[0], ticks[-1]
    left, top, right = 72, 12, 600
    width, bottom = right + 16, 200
    height = bottom + 40 + 18 * math.ceil(len(names) / 3)
    start, end = points[0][0], points[-1][0]
    if end <= start:
        start, end = start - timedelta(hours=12), end + timedelta(hours=12)
    span = (end - start).total_seconds()

    def x_of(at: datetime) -> float:
        return left + (right - left) * (at - start).total_seconds() / span

    def y_of(v: float) -> float:
        return bottom - (bottom - top) * (v - lo) / ((hi - lo) or 1.0)

    parts = [_open(width, height, title, "chart history")]
    for t in ticks:
        y = y_of(t)
        parts.append(f'<line class="grid" x1="{left}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}"/>')
        parts.append(
            f'<text class="tick" x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{escape(fmt(t))}</text>'
        )
    parts.append(f'<line class="axis" x1="{left}" y1="{top}" x2="{left}" y2="{bottom}"/>')
    parts.append(f'<line class="axis" x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}"/>')
    daily = span >= 2 * 86400
    for at in time_ticks(start, end):
        x = x_of(at)
        label = at.strftime("%b %d") if daily else at.strftime("%H:%M")
        parts.append(f'<line class="axis" x1="{x:.1f}" y1="{bottom}" x2="{x:.1f}" y2="{bottom + 4}"/>')
        parts.append(
            f'<text class="tick" x="{x:.1f}" y="{bottom + 16}" text-anchor="middle">{escape(label)}</text>'
        )
    parts.append(
        f'<text class="tick" x="{right}" y="{bottom + 30}" text-anchor="end">'
        f"{escape(start.strftime('%Y-%m-%d'))} – {escape(end.strftime('%Y-%m-%d'))}"
        f" UTC{escape(' · ' + unit if unit else '')}</text>"
    )
    for n, name in enumerate(names):
        colour = PALETTE[n % len(PALETTE)]
        xy = [(x_of(at), y_of(vs[name]), at, vs[name]) for at, vs in points if name in vs]
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _, _ in xy)
        parts.append(f'<polyline class="line" stroke="{colour}" points="{path}"/>')
        for x, y, at, value in xy:
            parts.append(
                f'<circle class="pt" fill="{colour}" cx="{x:.1f}" cy="{y:.1f}"'
                f' r="3.5"><title>{escape(name)}, '
                f"{escape(at.strftime('%Y-%m-%d %H:%M'))} UTC: {escape(fmt(value))}</title></circle>"
            )
        lx = left + (n % 3) * 180
        ly = bottom + 50 + 18 * (n // 3)
        parts.append(
            f'<line x1="{lx}" y1="{ly - 4}" x2="{lx + 16}" y2="{ly - 4}" stroke="{colour}" stroke-width="3"/>'
        )
        parts.append(f'<text class="legend" x="{lx + 22}" y="{ly}">{escape(name)}</text>')
    parts.append("</svg>")
    return "".join(parts)


# --- circuits -----------------------------------------------------------------------------------


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
        if not touched:
            continue
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
