"""JSON for large documents in slices, so that one large body does not hold the GIL for a second.

``json.loads`` and ``json.dumps`` are single C calls: running them in a worker thread does not help
the event loop, because they hold the GIL from start to end (0.7 s each for a million-gate body on
the reference machine: every other request waited that long, issue 17.6). Here the same work is cut
into many C calls of at most :data:`SLICE` characters driven by a Python loop, and the interpreter
hands the GIL over between them (every ``sys.getswitchinterval()``).

* :func:`scan` finds the structure of a large text with numpy, one block of :data:`BLOCK` bytes at a
  time (brackets, commas and colons outside strings, and their depth; the nesting depth of the whole
  document).
* :func:`loads` descends into every container larger than :data:`SLICE` characters in Python and
  decodes runs of small elements as one C call each (``"[" + run + "]"``, ``"{" + run + "}"``).
  Pure ASCII text only (byte and character offsets must agree); anything it does not understand
  goes back to ``json.loads``, whose result and errors are the reference.
* :func:`dumps` writes the same text as ``json.dumps(obj)`` (default separators), in runs of
  elements for large containers. The store's JSON columns are written through it, and read
  through :func:`loads_text` (SQLite; psycopg decodes PostgreSQL's JSON itself).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np

#: Largest run of text (loads) decoded in one C call, characters.
SLICE = 64 * 1024
#: Bytes scanned per numpy step.
BLOCK = 1 << 20
#: Elements of a large list written in one C call (dumps), when they are small.
RUN = 256
_WS = " \t\n\r"


class _Fallback(Exception):
    """The sliced parser met something it does not handle: ``json.loads`` decides."""


@dataclass
class Structure:
    """Where a JSON text's containers and separators are (outside strings), with their depth: an
    opening bracket's depth is that of the container it opens (1 for the document's), a separator's
    that of its container, a closing bracket's that of the container around it."""

    max_depth: int
    open_pos: np.ndarray
    open_depth: np.ndarray
    close_pos: np.ndarray
    close_depth: np.ndarray
    sep_pos: np.ndarray
    sep_depth: np.ndarray


def scan(raw: bytes) -> Structure:
    """The structure of a JSON text, block by block (each numpy step a millisecond or so)."""
    data = np.frombuffer(raw, np.uint8)
    escaped = escaped_quotes(data) if b'\\"' in raw else np.empty(0, np.int64)
    parity = 0  # quotes so far, mod 2
    depth = 0
    deepest = 0
    parts: dict[str, list[np.ndarray]] = {k: [] for k in ("op", "od", "cp", "cd", "sp", "sd")}
    for at in range(0, data.size, BLOCK):
        block = data[at : at + BLOCK]
        quote = block == 0x22
        if escaped.size:
            inside = escaped[(escaped >= at) & (escaped < at + block.size)] - at
            quote[inside] = False
        count = np.cumsum(quote, dtype=np.int64)
        outside = ((count + parity) & 1) == 0
        parity = int((count[-1] + parity) & 1) if count.size else parity
        opens = ((block == 0x5B) | (block == 0x7B)) & outside
        closes = ((block == 0x5D) | (block == 0x7D)) & outside
        seps = ((block == 0x2C) | (block == 0x3A)) & outside
        level = np.cumsum(opens.astype(np.int32) - closes.astype(np.int32)) + depth
        o, c, s = np.flatnonzero(opens), np.flatnonzero(closes), np.flatnonzero(seps)
        parts["op"].append(o + at)
        parts["od"].append(level[o])
        parts["cp"].append(c + at)
        parts["cd"].append(level[c])
        parts["sp"].append(s + at)
        parts["sd"].append(level[s])
        if level.size:
            deepest = max(deepest, int(level.max()))
            depth = int(level[-1])
    joined = {k: (np.concatenate(v) if v else np.empty(0, np.int64)) for k, v in parts.items()}
    return Structure(
        deepest, joined["op"], joined["od"], joined["cp"], joined["cd"], joined["sp"], joined["sd"]
    )


def loads(text: str, raw: bytes, decoder: json.JSONDecoder, structure: Structure | None = None) -> Any:
    """``decoder.decode(text)`` with the GIL handed over between slices (``raw``: the UTF-8 bytes of
    ``text``; ``structure``: its :func:`scan`, if already made). Raises what ``decoder.decode``
    raises for invalid text."""
    if len(text) <= SLICE or len(raw) != len(text):  # small, or not ASCII: one call
        return decoder.decode(text)
    try:
        return _Parser(text, structure or scan(raw), decoder).document()
    except (_Fallback, IndexError):  # a structure it does not follow: the reference decides
        return decoder.decode(text)


_PLAIN = json.JSONDecoder()


def loads_text(text: str | bytes) -> Any:
    """``json.loads(text)`` in slices when large (the store's JSON columns are read through it)."""
    if len(text) <= SLICE:
        return json.loads(text)
    if isinstance(text, bytes):
        raw, text = text, text.decode("utf-8")
    else:
        raw = text.encode("utf-8")
    return loads(text, raw, _PLAIN)


class _Parser:
    def __init__(self, text: str, structure: Structure, decoder: json.JSONDecoder) -> None:
        self.text = text
        self.s = structure
        self.decoder = decoder
        self._closes: dict[int, np.ndarray] = {}
        self._seps: dict[int, np.ndarray] = {}

    def document(self) -> Any:
        value, end = self._value(self._skip(0))
        if self._skip(end) != len(self.text):
            raise _Fallback  # trailing text: json.loads names it
        return value

    def _skip(self, i: int) -> int:
        text = self.text
        while i < len(text) and text[i] in _WS:
            i += 1
        return i

    def _at(self, cache: dict[int, np.ndarray], pos: np.ndarray, depths: np.ndarray, d: int) -> np.ndarray:
        found = cache.get(d)
        if found is None:
            found = cache[d] = pos[depths == d]
        return found

    def _value(self, i: int) -> tuple[Any, int]:
        """The value starting at ``i`` and the index after it."""
        c = self.text[i]
        if c not in "[{":
            return self.decoder.raw_decode(self.text, i)
        s = self.s
        k = int(np.searchsorted(s.open_pos, i))
        if k >= s.open_pos.size or int(s.open_pos[k]) != i:
            raise _Fallback
        d = int(s.open_depth[k])
        closes = self._at(self._closes, s.close_pos, s.close_depth, d - 1)
        j = int(np.searchsorted(closes, i))
        if j >= closes.size:
            raise _Fallback
        end = int(closes[j])  # the matching bracket
        if end - i <= SLICE:
            value, after = self.decoder.raw_decode(self.text, i)
            if after != end + 1:
                raise _Fallback
            return value, after
        seps = self._at(self._seps, s.sep_pos, s.sep_depth, d)
        inside = seps[int(np.searchsorted(seps, i)) : int(np.searchsorted(seps, end))]
        if self.text[end] != ("]" if c == "[" else "}"):
            raise _Fallback
        if self._skip(i + 1) == end:
            return ([] if c == "[" else {}), end + 1
        if c == "[":
            return self._array(i, end, inside), end + 1
        return self._object(i, end, inside), end + 1

    def _runs(self, i: int, end: int, commas: np.ndarray) -> list[tuple[int, int, bool]]:
        """The container's elements (between ``i + 1`` and ``end``, split at ``commas``) grouped
        into runs of at most SLICE characters: ``(start, stop, alone)``, ``alone`` for one element
        larger than that (it is descended into)."""
        starts = np.concatenate(([i + 1], commas + 1))
        stops = np.concatenate((commas, [end]))
        sizes = stops - starts
        big = sizes > SLICE
        bucket = np.cumsum(sizes) // SLICE
        cuts = np.flatnonzero(np.diff(bucket) != 0) + 1
        where = np.flatnonzero(big)
        cuts = np.unique(np.concatenate(([0], cuts, where, where + 1, [sizes.size])))
        cuts = cuts[cuts <= sizes.size]
        return [
            (int(starts[a]), int(stops[b - 1]), bool(big[a]) and b - a == 1)
            for a, b in zip(cuts[:-1].tolist(), cuts[1:].tolist(), strict=True)
            if b > a
        ]

    def _array(self, i: int, end: int, seps: np.ndarray) -> list[Any]:
        text = self.text
        commas = seps
        if commas.size and not all(text[p] == "," for p in commas[:: max(1, commas.size // 64)].tolist()):
            raise _Fallback
        out: list[Any] = []
        for start, stop, alone in self._runs(i, end, commas):
            if alone:
                value, after = self._value(self._skip(start))
                if self._skip(after) != stop:
                    raise _Fallback
                out.append(value)
            else:
                out.extend(self._run("[", start, stop, "]"))
        return out

    def _run(self, left: str, start: int, stop: int, right: str) -> Any:
        """A run of elements as one C call; an error names its place in the whole text."""
        try:
            return self.decoder.decode(left + self.text[start:stop] + right)
        except json.JSONDecodeError as exc:
            raise json.JSONDecodeError(exc.msg, self.text, min(len(self.text), start + exc.pos - 1)) from None

    def _object(self, i: int, end: int, seps: np.ndarray) -> dict[str, Any]:
        text = self.text
        marks = seps.tolist()
        commas = np.array([p for p in marks if text[p] == ","], dtype=np.int64)
        out: dict[str, Any] = {}
        for start, stop, alone in self._runs(i, end, commas):
            if not alone:
                out.update(self._run("{", start, stop, "}"))
                continue
            key_at = self._skip(start)
            key, after = self.decoder.raw_decode(text, key_at)
            colon = self._skip(after)
            if not isinstance(key, str) or text[colon] != ":":
                raise _Fallback
            value, after = self._value(self._skip(colon + 1))
            if self._skip(after) != stop:
                raise _Fallback
            out[key] = value
        return out


def escaped_quotes(data: np.ndarray) -> np.ndarray:
    """Positions of the quotes preceded by an odd run of backslashes."""
    candidates = np.flatnonzero((data[1:] == 0x22) & (data[:-1] == 0x5C)) + 1
    run = np.zeros(candidates.size, np.int64)
    alive = np.ones(candidates.size, bool)
    for back in range(1, 17):  # runs are short in real bodies; count up to 16 vectorized
        at = candidates - back
        alive &= at >= 0
        alive[alive] = data[at[alive]] == 0x5C
        if not alive.any():
            return candidates[run % 2 == 1]
        run += alive
    # Longer runs: count them exactly from the last non-backslash byte before each candidate.
    index = np.arange(data.size, dtype=np.int64)
    plain = np.maximum.accumulate(np.where(data == 0x5C, -1, index))
    run = candidates - 1 - plain[candidates - 1]
    return candidates[run % 2 == 1]


def dumps(obj: Any) -> str:
    """``json.dumps(obj)``, in runs where ``obj`` is large (the same text)."""
    if not _large(obj):
        return json.dumps(obj)
    return _dumps(obj)


def _dumps(obj: Any) -> str:
    if isinstance(obj, dict) and all(isinstance(k, str) for k in obj):
        return "{" + ", ".join(f"{json.dumps(k)}: {_dumps(v)}" for k, v in obj.items()) + "}"
    if isinstance(obj, list | tuple):
        parts = []
        for k in range(0, len(obj), RUN):
            run = list(obj[k : k + RUN])
            if _large(run):
                parts += [_dumps(v) for v in run]
            elif run:
                parts.append(json.dumps(run)[1:-1])
        return "[" + ", ".join(parts) + "]"
    return json.dumps(obj)


def _large(obj: Any, budget: int = SLICE // 16) -> bool:
    """Whether ``obj`` holds more than ``budget`` items in all (looks no further)."""
    stack = [obj]
    seen = 0
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            seen += len(value)
            if seen > budget:
                return True
            stack.extend(v for v in value.values() if isinstance(v, dict | list))
        elif isinstance(value, list):
            seen += len(value)
            if seen > budget:
                return True
            stack.extend(v for v in value if isinstance(v, dict | list))
        elif isinstance(value, str) and len(value) > SLICE:
            return True
    return False
