"""Distributions as JSON: little-endian decimal keys, ascending; streamed when they are huge.

A 26-qubit ideal result has 67 M entries (~2 GB of JSON): it is produced chunk by chunk so the
server never holds the whole text in memory.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from qumulus.sim.engine import Distribution
from qumulus.sim.results_io import iter_json_text

#: Above this many entries a response is streamed instead of built in memory.
STREAM_ABOVE = 200_000


def multi_chunks(items: list[tuple[str, Distribution]]) -> Iterator[str]:
    """``{"<child id>": {...}, ...}`` in circuit order (clients rely on the order)."""
    yield "{"
    for n, (key, distribution) in enumerate(items):
        yield ("," if n else "") + f'"{key}":'
        yield from iter_json_text(distribution)
    yield "}"


def size(items: list[tuple[str, Distribution]]) -> int:
    return sum(d.nonzero_count() for _, d in items)


def counts_json(outcomes: np.ndarray) -> dict[str, int]:
    keys, counts = np.unique(outcomes, return_counts=True)
    return {str(k): int(c) for k, c in zip(keys.tolist(), counts.tolist(), strict=True)}
