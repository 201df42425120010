"""Issue 17.6: large JSON in slices (qumulus/jsonslices.py) — the same documents and text as the
json module, with the GIL handed over between slices."""

from __future__ import annotations

import json
import random
import sys
import threading
import time

import pytest

from qumulus import jsonslices
from qumulus.api import body

_DECODER = body._DECODER


def _random_value(rng: random.Random, depth: int = 0):  # type: ignore[no-untyped-def]
    kind = rng.random()
    if depth > 3 or kind < 0.35:
        return rng.choice(
            [0, -7, 3.25, 1e-9, True, False, None, "", "a,b:c", 'q"uo\\te', "[{]}", "é"[:0] + "x y"]
        )
    if kind < 0.7:
        return [_random_value(rng, depth + 1) for _ in range(rng.randrange(0, 9))]
    return {f"k{rng.randrange(20)}{'[' if rng.random() < 0.1 else ''}": _random_value(rng, depth + 1)
            for _ in range(rng.randrange(0, 6))}  # fmt: skip


@pytest.fixture
def tiny_slices(monkeypatch: pytest.MonkeyPatch) -> None:
    """Slices and blocks of a few bytes, so every path (runs, lone elements, carries) is taken."""
    monkeypatch.setattr(jsonslices, "SLICE", 24)
    monkeypatch.setattr(jsonslices, "BLOCK", 7)
    monkeypatch.setattr(jsonslices, "RUN", 3)


@pytest.mark.usefixtures("tiny_slices")
def test_loads_and_dumps_agree_with_the_json_module() -> None:
    rng = random.Random(1717)
    for _ in range(400):
        value = _random_value(rng)
        for separators in (None, (",", ":")):
            text = json.dumps(value, separators=separators, indent=rng.choice([None, 1]))
            raw = text.encode()
            assert jsonslices.loads(text, raw, _DECODER) == json.loads(text), text
            structure = jsonslices.scan(raw)
            assert structure.max_depth == body.max_depth(raw), text
        assert jsonslices.dumps(value) == json.dumps(value)


@pytest.mark.usefixtures("tiny_slices")
def test_invalid_text_fails_like_the_json_module() -> None:
    bad = [
        "[1, 2 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]",
        '{"a": 1, "b" 2, "ccccccccccccccccccccccc": 3}',
        "[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,]",
        "[[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 1] x",
        '{"a": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]',
        "[1e999, 1, 2, 3, 4, 5, 6, 7, 8, 9]",
        '{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa": NaN}',
    ]
    for text in bad:
        with pytest.raises(ValueError):
            _DECODER.decode(text)
        with pytest.raises(ValueError):
            jsonslices.loads(text, text.encode(), _DECODER)


def _largest_gap(work) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """Run ``work`` in a thread; return (its seconds, the longest this thread waited for the GIL)."""
    done = threading.Event()
    took: list[float] = []

    def run() -> None:
        started = time.perf_counter()
        work()
        took.append(time.perf_counter() - started)
        done.set()

    thread = threading.Thread(target=run)
    last = time.perf_counter()
    gap = 0.0
    thread.start()
    while not done.is_set():
        time.sleep(0.001)
        now = time.perf_counter()
        gap, last = max(gap, now - last), now
    thread.join()
    return took[0], gap


def test_a_large_body_is_parsed_without_holding_the_gil(monkeypatch: pytest.MonkeyPatch) -> None:
    """The event loop's thread waits at most a small fraction of the parse for the GIL (a generous
    bound on a loaded 2-core machine); plain json.loads holds it for the whole parse."""
    monkeypatch.setattr(sys, "getswitchinterval", sys.getswitchinterval)
    old = sys.getswitchinterval()
    sys.setswitchinterval(0.0005)  # as `qumulus serve` runs
    try:
        gates = [{"gate": "rx", "target": 3, "rotation": 0.125}] * 400_000
        raw = json.dumps({"backend": "simulator", "input": {"qubits": 4, "circuit": gates}}).encode()
        plain, plain_gap = _largest_gap(lambda: json.loads(raw))
        sliced, sliced_gap = _largest_gap(lambda: body.parse_document(raw))
        print(f"{len(raw) / 1e6:.1f} MB: json.loads {plain:.2f} s (GIL held {plain_gap * 1000:.0f} ms), "
              f"parse_document {sliced:.2f} s (longest wait {sliced_gap * 1000:.0f} ms)")  # fmt: skip
        assert sliced_gap < max(0.25, plain_gap / 2), (sliced_gap, plain_gap)
        document = body.parse_document(raw)
        assert document == json.loads(raw)
        _, stored_gap = _largest_gap(lambda: jsonslices.dumps(document["input"]))
        assert stored_gap < max(0.25, plain_gap / 2)
    finally:
        sys.setswitchinterval(old)
