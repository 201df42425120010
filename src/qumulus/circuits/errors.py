"""Validation errors that say exactly where a circuit is wrong."""

from __future__ import annotations


class CircuitError(ValueError):
    """An invalid circuit: names the circuit index, gate index, field and reason.

    ``path`` is a dotted/indexed location inside the job body, e.g.
    ``input.circuits[1].circuit[3].targets``, so an API error can point at the offending key.
    """

    def __init__(
        self,
        reason: str,
        *,
        field: str | None = None,
        circuit_index: int | None = None,
        gate_index: int | None = None,
        prefix: str = "input",
    ) -> None:
        self.reason = reason
        self.field = field
        self.circuit_index = circuit_index
        self.gate_index = gate_index
        self.path = _path(prefix, circuit_index, gate_index, field)
        super().__init__(f"{self.path}: {reason}")


class TooManyGates(CircuitError):
    """More gates than the job may hold: the API answers it as the size limit it is (413)."""


def _path(prefix: str, circuit_index: int | None, gate_index: int | None, field: str | None) -> str:
    # An empty prefix names a top-level job field (``type``), so no leading dot.
    parts = [prefix] if prefix else []
    if circuit_index is not None:
        parts.append(f"circuits[{circuit_index}]")
    if gate_index is not None:
        parts.append(f"circuit[{gate_index}]")
    if field:
        parts.append(field)
    return ".".join(parts)
