"""Distributions as JSON: little-endian decimal keys, ascending; streamed when they are huge.

A 26-qubit ideal result has 67 M entries (~2 GB of JSON): it is produced chunk by chunk so the
server never holds the whole text in memory.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from qumulus.sim.engine import Distribution

#: Above this many entries a response is streamed instead of built in memory.
STREAM_ABOVE = 200_000
_CHUNK = 65_536


def _pairs(indices: np.ndarray, values: np.ndarray) -> Iterator[str]:
    for start in range(0, len(values), _CHUNK):
        idx = indices[start : start + _CHUNK].tolist()
        val = values[start : start + _CHUNK].tolist()
        yield ",".join(f'"{k}":{v!r}' for k, v in zip(idx, val, strict=True))


def distribution_chunks(distribution: Distribution) -> Iterator[str]:
    indices, values = distribution.nonzero()
    yield "{"
    first = True
    for part in _pairs(indices, np.asarray(values, dtype=np.float64)):
        if not part:
            continue
        yield part if first else "," + part
        first = False
    yield "}"


def multi_chunks(items: list[tuple[str, Distribution]]) -> Iterator[str]:
    """``{"<child id>": {...}, ...}`` in circuit order (clients rely on the order)."""
    yield "{"
    for n, (key, distribution) in enumerate(items):
        yield ("," if n else "") + f'"{key}":'
        yield from distribution_chunks(distribution)
    yield "}"


def size(items: list[tuple[str, Distribution]]) -> int:
    return sum(len(d.nonzero()[1]) if d.sparse else d.values.size for _, d in items)


def counts_json(outcomes: np.ndarray) -> dict[str, int]:
    keys, counts = np.unique(outcomes, return_counts=True)
    return {str(k): int(c) for k, c in zip(keys.tolist(), counts.tolist(), strict=True)}
