"""Backend patterns (``qpu.aria-1``, ``qpu.*``, ``*``) as SQL conditions.

The SQL twin of :func:`qumulus.accounting.pricing.pattern_matches`: filtering in the database lets
an index on ``(organization_id, backend, ...)`` skip the rows of other backends, which matters for
tables that grow with every job (the usage ledger, the executions).

A class pattern is a prefix match. PostgreSQL gets ``LIKE 'qpu.%'``; SQLite gets ``GLOB 'qpu.*'``,
because its ``LIKE`` is case-insensitive and so cannot use an ordinary index, while ``GLOB`` can.
"""

from __future__ import annotations

from typing import Any, ClassVar

from sqlalchemy import Boolean, String, true
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal


class _StartsWith(ColumnElement[bool]):
    """``column`` starts with ``prefix``, the prefix written into the SQL as a literal in the
    dialect's own quoting. Cached (the prefix is part of the cache key): the allocation check of a
    QPU submission — and of every evaluation of a workload — runs these statements, and compiling
    them each time took a millisecond or two per statement."""

    type = Boolean()
    inherit_cache = True
    _traverse_internals: ClassVar[list[tuple[str, Any]]] = [
        ("column", InternalTraversal.dp_clauseelement),
        ("prefix", InternalTraversal.dp_string),
    ]
    _is_implicitly_boolean = True  # a condition as it stands: no "= 1" added where booleans are ints

    def __init__(self, column: Any, prefix: str) -> None:
        self.column = column
        self.prefix = prefix


@compiles(_StartsWith)
def _like(element: _StartsWith, compiler: SQLCompiler, **kw: Any) -> str:
    escaped = element.prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    pattern = compiler.render_literal_value(escaped + "%", String())
    return f"({compiler.process(element.column, **kw)} LIKE {pattern} ESCAPE '\\')"


@compiles(_StartsWith, "sqlite")
def _glob(element: _StartsWith, compiler: SQLCompiler, **kw: Any) -> str:
    escaped = "".join(f"[{c}]" if c in "*?[" else c for c in element.prefix)
    pattern = compiler.render_literal_value(escaped + "*", String())
    return f"({compiler.process(element.column, **kw)} GLOB {pattern})"


def backend_condition(column: Any, pattern: str) -> ColumnElement[bool]:
    """``column`` matches ``pattern``: itself, a ``prefix.*`` class, or ``*`` (everything)."""
    if pattern == "*":
        return true()
    if pattern.endswith(".*"):
        return _StartsWith(column, pattern[:-1])
    return column == pattern
