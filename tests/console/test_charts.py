"""The console's pure parts: money and time formats, and the SVG charts' numbers."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from qumulus.console import charts, flash, fmt


def test_money_is_one_format_with_its_currency() -> None:
    assert fmt.money(Decimal("1234.5")) == "1,234.50 USD"
    assert fmt.money("0.000123", "eur") == "0.000123 EUR"  # below a cent: the millionths
    assert fmt.money(0) == "0.00 USD"
    assert fmt.money(None) == "—"
    assert fmt.money("0.0000004") == "0.00 USD"  # rounds to nothing: not "0." nor scientific


def test_durations_read_at_a_glance() -> None:
    assert [fmt.duration(s) for s in (0.0123, 4.56, 245, 7380)] == [
        "12 ms",
        "4.6 s",
        "4 min 05 s",
        "2 h 03 min",
    ]


def test_times_are_utc_elements_a_script_can_localize() -> None:
    at = datetime(2026, 1, 31, 14, 5, 9, tzinfo=UTC)
    assert str(fmt.when(at)) == (
        '<time datetime="2026-01-31T14:05:09+00:00" data-style="datetime">2026-01-31 14:05:09 UTC</time>'
    )


def test_histogram_bars_are_in_bitstring_order_and_keep_the_most_likely() -> None:
    probabilities = {5: 0.1, 0: 0.4, 3: 0.3, 6: 0.2}
    bars, total = charts.outcome_bars(probabilities, 3, limit=3)
    assert bars == [("000", 0.4), ("011", 0.3), ("110", 0.2)] and total == 4
    svg = charts.histogram_svg(bars, scale="probability")
    assert re.findall(r'data-outcome="(\d+)"', svg) == ["000", "011", "110"]
    assert "<title>011: 0.3000</title>" in svg  # hover value
    assert 'class="unit"' in svg and ">Probability<" in svg


def test_nice_ticks_cover_the_range_with_round_steps() -> None:
    assert charts.nice_ticks(0, 0.52) == [0.0, 0.2, 0.4, 0.6]
    assert charts.nice_ticks(0, 1000) == [0, 200, 400, 600, 800, 1000]


def test_history_axis_is_dated_and_spaced_by_time() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    points = [(start, {"2q error": 0.01}), (start + timedelta(days=1), {"2q error": 0.012}),
              (start + timedelta(days=10), {"2q error": 0.011})]  # fmt: skip
    svg = charts.history_svg(points, title="t", unit="error", fmt=lambda v: f"{v:.3f}")
    xs = [float(x) for x in re.findall(r'<circle class="pt"[^>]* cx="([\d.]+)"', svg)]
    assert (xs[1] - xs[0]) * 9 == __import__("pytest").approx(xs[2] - xs[1])  # time-proportional
    assert "Jan 01" in svg and "2026-01-01 – 2026-01-11 UTC" in svg


def test_qubit_map_colours_by_value_and_labels_readably() -> None:
    svg = charts.qubit_map_svg(3, [(0, 1), (1, 2)], [1.0, 2.0, None], metric="T1", fmt=lambda v: f"{v:g} s")
    fills = re.findall(r'<circle class="node"[^>]* fill="(#[0-9a-f]{6})"', svg)
    assert fills == [charts.SCALE[0], charts.SCALE[-1], "#9e9e9e"]
    assert "Qubit 2: T1 no data" in svg
    assert charts._ink(charts.SCALE[0]) == "#ffffff" and charts._ink(charts.SCALE[-1]) == "#000000"


def test_a_sealed_flash_opens_only_in_its_own_session() -> None:
    sealed = flash.seal({"kind": "ok", "text": "hi", "secret": "qmk_x_y"}, b"server", "token-a")
    assert flash.open_(sealed, b"server", "token-a") == {"kind": "ok", "text": "hi", "secret": "qmk_x_y"}
    assert flash.open_(sealed, b"server", "token-b") is None
    assert flash.open_(sealed, b"other", "token-a") is None
    assert flash.open_("garbage", b"server", "token-a") is None
