"""Core statements run on SQLite's own driver: the hot paths' way around SQLAlchemy's per-call cost.

A Core execute costs 50–120 µs of Python here (cache key, compiled-cache lookup, parameter
processing, result wrapping, and for a bare read a pool checkout with ``BEGIN`` and ``ROLLBACK``)
around a statement SQLite runs in a few microseconds; a tiny job makes a dozen of them. Each
statement here is compiled once per dialect (it stays the single source of truth for its SQL) and
then run with the DBAPI cursor: parameters go through the same SQLAlchemy bind processors, result
columns through the same result processors, so values are exactly what a Core execute gives.

* :func:`rows` and :func:`execute` run inside the caller's transaction (its ``Connection``);
* :class:`FastReader` runs single reads on a per-thread read-only connection in autocommit (for the
  event loop: a WAL read never waits for the writer).

Statements this cannot run (an expanding ``IN`` or a bound ``LIMIT``, whose SQL depends on the
values; Python-side ``onupdate``/``default`` values computed per execution) and other databases go
through Core.
"""

from __future__ import annotations

import sqlite3
import threading
from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import Executable


@dataclass(frozen=True)
class Compiled:
    stmt: Any  # held so that its id() is never reused while cached
    sql: str
    names: tuple[str, ...]  # bound parameter names, in the order of the ``?`` marks
    defaults: dict[str, Any]  # values bound in the statement itself (literals, LIMIT)
    binds: tuple[Callable[[Any], Any] | None, ...]  # per ``?``: SQLAlchemy's bind processor
    results: tuple[Callable[[Any], Any] | None, ...]  # per result column: its result processor
    row: type | None  # a namedtuple class with the result's column names (None: not a SELECT)

    def parameters(self, params: Mapping[str, Any]) -> list[Any]:
        out = []
        for name, process in zip(self.names, self.binds, strict=True):
            value = params[name] if name in params else self.defaults[name]
            out.append(value if process is None or value is None else process(value))
        return out

    def make_rows(self, raw: list[tuple[Any, ...]]) -> list[Any]:
        assert self.row is not None
        make, results = self.row._make, self.results  # type: ignore[attr-defined]
        return [
            make(v if p is None or v is None else p(v) for v, p in zip(r, results, strict=True)) for r in raw
        ]


_UNSUPPORTED = object()
_compiled: dict[tuple[int, str], Any] = {}
_lock = threading.Lock()


def compiled(stmt: Executable, dialect: Dialect) -> Compiled | None:
    """``stmt`` compiled for ``dialect`` (cached), or None if it must run through Core."""
    key = (id(stmt), dialect.name)
    found = _compiled.get(key)
    if found is not None and (found is _UNSUPPORTED or found.stmt is stmt):
        return None if found is _UNSUPPORTED else found
    built = _compile(stmt, dialect)
    with _lock:
        _compiled[key] = built if built is not None else _UNSUPPORTED
    return built


def _compile(stmt: Executable, dialect: Dialect) -> Compiled | None:
    c = stmt.compile(dialect=dialect)  # type: ignore[attr-defined]
    if c.literal_execute_params or c.post_compile_params or c.insert_prefetch or c.update_prefetch:
        return None  # SQL that depends on the values (expanding IN, LIMIT :n), or per-run defaults
    names = tuple(c.positiontup or ())
    binds = tuple(c.binds[n].type.dialect_impl(dialect).bind_processor(dialect) for n in names)
    row = None
    results: tuple[Any, ...] = ()
    if getattr(stmt, "is_select", False):
        columns = list(stmt.selected_columns)  # type: ignore[attr-defined]
        results = tuple(col.type.dialect_impl(dialect).result_processor(dialect, None) for col in columns)
        row = namedtuple("Row", [col.key for col in columns], rename=True)  # type: ignore[misc]
    return Compiled(stmt, str(c), names, dict(c.params), binds, results, row)


def driver(conn: Connection) -> sqlite3.Connection | None:
    """The ``sqlite3`` connection under ``conn`` (and so inside its transaction); None elsewhere."""
    if conn.dialect.name != "sqlite":
        return None
    return conn.connection.driver_connection  # type: ignore[return-value]


def rows(conn: Connection, stmt: Executable, params: Mapping[str, Any] | None = None) -> list[Any]:
    """The rows of a ``SELECT`` in the caller's transaction."""
    params = params or {}
    driver_ = driver(conn)
    prepared = compiled(stmt, conn.dialect) if driver_ is not None else None
    if prepared is None or driver_ is None:
        return list(conn.execute(stmt, dict(params)).all())  # type: ignore[arg-type]
    return prepared.make_rows(driver_.execute(prepared.sql, prepared.parameters(params)).fetchall())


def execute(
    conn: Connection, stmt: Executable, params: Mapping[str, Any] | Sequence[Mapping[str, Any]]
) -> int:
    """Run a DML statement (once, or once per parameter set) in the caller's transaction; returns
    the number of rows it matched."""
    many = not isinstance(params, Mapping)
    driver_ = driver(conn)
    prepared = compiled(stmt, conn.dialect) if driver_ is not None else None
    if prepared is None or driver_ is None:
        result = conn.execute(stmt, list(params) if many else dict(params))  # type: ignore[arg-type]
        return result.rowcount or 0
    if many:
        cursor = driver_.executemany(prepared.sql, [prepared.parameters(p) for p in params])  # type: ignore[union-attr]
    else:
        cursor = driver_.execute(prepared.sql, prepared.parameters(params))  # type: ignore[arg-type]
    return cursor.rowcount


class FastReader:
    """Single reads outside any transaction, on a per-thread read-only ``sqlite3`` connection."""

    def __init__(self, engine: Engine, path: str) -> None:
        self._dialect = engine.dialect
        self._path = path
        self._local = threading.local()
        self._opened: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    def rows(self, stmt: Executable, params: Mapping[str, Any]) -> list[Any] | None:
        """The rows, or None for a statement this reader cannot run (the caller then uses Core)."""
        prepared = compiled(stmt, self._dialect)
        if prepared is None:
            return None
        cursor = self._connection().execute(prepared.sql, prepared.parameters(params))
        return prepared.make_rows(cursor.fetchall())

    def close(self) -> None:
        with self._lock:
            for conn in self._opened:
                conn.close()
            self._opened.clear()
        self._local = threading.local()

    def _connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self._path, isolation_level=None, timeout=30, check_same_thread=False)
            conn.execute("PRAGMA query_only=ON")  # this path never writes
            conn.execute("PRAGMA busy_timeout=30000")
            self._local.conn = conn
            with self._lock:
                self._opened.append(conn)
        return conn
