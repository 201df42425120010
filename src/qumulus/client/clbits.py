"""Reading a Qiskit circuit's shots back in its own classical bits, without importing qiskit.

The server measures every qubit of the circuit it was sent, once, at the end, and reports outcomes
as integers with qubit 0 least significant. A Qiskit circuit names classical bits instead: clbit
``c`` holds the measurement of some qubit (or nothing), and registers are printed separated by
spaces (``"01 1"``). The converter (``interop/qiskit_circuits.py``) records, per circuit, which
(compacted) qubit each clbit reads; this module turns server outcomes into Qiskit's bit strings with
that record, so ``get_counts()`` reads the same whether qiskit is installed here or not.

The record travels in the job's metadata (key :data:`LAYOUT_KEY`, a JSON string: the server keeps
string values), so a job retrieved in another process reads the same. Identical entries are stored
once (a table plus run lengths): a job set of ``[circuit] * 1000`` carries one entry, not a thousand.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

LAYOUT_KEY = "qiskit_layout"


@dataclass(frozen=True)
class ClbitLayout:
    """Which compact qubit each clbit reads (``None``: never measured, always 0), the registers as
    ``[[name, size], ...]`` (first register = lowest clbits) and the circuit's name."""

    sources: tuple[int | None, ...]
    num_clbits: int
    creg_sizes: tuple[tuple[str, int], ...]
    name: str | None = None

    def value(self, outcome: int) -> int:
        """A server outcome (qubit 0 = least significant bit) as an integer over the clbits."""
        value = 0
        for clbit, qubit in enumerate(self.sources):
            if qubit is not None and (outcome >> qubit) & 1:
                value |= 1 << clbit
        return value

    def bits(self, outcome: int) -> str:
        """Qiskit's bit string of a server outcome: clbit 0 rightmost, registers split by spaces
        (the last register leftmost), as ``qiskit.result.Result.get_counts`` prints it."""
        raw = format(self.value(outcome), f"0{max(self.num_clbits, 1)}b")
        if len(self.creg_sizes) <= 1:
            return raw
        parts = []
        start = 0
        for _, size in reversed(self.creg_sizes):
            parts.append(raw[start : start + size])
            start += size
        return " ".join(parts)

    def to_json(self) -> list[Any]:
        return [list(self.sources), self.num_clbits, [list(r) for r in self.creg_sizes], self.name]

    @classmethod
    def from_json(cls, entry: list[Any]) -> ClbitLayout:
        sources, num_clbits, creg_sizes, name = (list(entry) + [None] * 4)[:4]
        return cls(
            tuple(None if s is None else int(s) for s in sources),
            int(num_clbits),
            tuple((str(n), int(s)) for n, s in creg_sizes),
            name,
        )


def encode(layouts: list[ClbitLayout | None]) -> str:
    """One metadata string for the circuits of a job (or a whole job set), in circuit order;
    ``None`` for a circuit read in plain qubit order (an IonQ circuit in the same list)."""
    table: list[Any] = []
    runs: list[list[int]] = []
    for layout in layouts:
        entry = None if layout is None else layout.to_json()
        if entry in table:
            index = table.index(entry)
        else:
            table.append(entry)
            index = len(table) - 1
        if runs and runs[-1][0] == index:
            runs[-1][1] += 1
        else:
            runs.append([index, 1])
    return json.dumps({"table": table, "runs": runs}, separators=(",", ":"))


def decode(raw: str | None) -> list[ClbitLayout | None] | None:
    """The per-circuit layouts a job's metadata holds, or None when it holds none. Also reads the
    first form (a plain list, one entry per circuit) that jobs submitted before this one carry."""
    if not raw:
        return None
    data = json.loads(raw)
    if isinstance(data, list):
        return [ClbitLayout.from_json(entry) for entry in data]
    table = [None if entry is None else ClbitLayout.from_json(entry) for entry in data["table"]]
    out: list[ClbitLayout | None] = []
    for index, count in data["runs"]:
        out.extend([table[index]] * int(count))
    return out


def from_metadata(metadata: dict[str, Any] | None) -> list[ClbitLayout | None] | None:
    return decode((metadata or {}).get(LAYOUT_KEY))
