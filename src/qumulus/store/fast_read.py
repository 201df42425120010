"""Single-statement reads on SQLite's own driver, for the event loop's hottest queries.

A read through SQLAlchemy Core costs about 120 µs here (pool checkout, ``BEGIN``, result wrapping,
``ROLLBACK``, checkin) around a query SQLite answers in about 10 µs. Reading a finished job's results
is half of a tiny job's HTTP work, so those reads compile their Core statement once, run it on a
per-thread ``sqlite3`` connection in autocommit mode (each statement sees the latest committed
state: WAL readers never wait for the writer) and convert each column with the same SQLAlchemy type
processors a Core read would use. The statement stays the single source of truth for the SQL.
"""

from __future__ import annotations

import sqlite3
import threading
from collections import namedtuple
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.sql import Select


@dataclass(frozen=True)
class _Prepared:
    stmt: Any  # held so that its id() is never reused while cached
    sql: str
    names: tuple[str, ...]  # bound parameter names, in the order of the ``?`` marks
    defaults: dict[str, Any]  # values bound in the statement itself (literals, LIMIT)
    processors: tuple[Any, ...]  # per column: SQLAlchemy's result processor, or None
    row: type | None  # a namedtuple class with the statement's column names; None: not supported


class FastReader:
    """``rows(stmt, params)``: the rows of a Core ``SELECT`` as namedtuples, on SQLite only."""

    def __init__(self, engine: Engine, path: str) -> None:
        self._engine = engine
        self._path = path
        self._local = threading.local()
        self._prepared: dict[int, _Prepared] = {}
        self._opened: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    def rows(self, stmt: Select[Any], params: dict[str, Any]) -> list[Any] | None:
        """The rows, or None for a statement this reader cannot run (an expanding ``IN``, whose SQL
        depends on the values): the caller then reads through SQLAlchemy."""
        prepared = self._prepared.get(id(stmt))
        if prepared is None or prepared.stmt is not stmt:
            prepared = self._prepare(stmt)
        if prepared.row is None:
            return None
        defaults = prepared.defaults
        values = [params[n] if n in params else defaults[n] for n in prepared.names]
        cursor = self._connection().execute(prepared.sql, values)
        make, processors = prepared.row._make, prepared.processors
        return [
            make(v if p is None or v is None else p(v) for v, p in zip(raw, processors, strict=True))
            for raw in cursor.fetchall()
        ]

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

    def _prepare(self, stmt: Select[Any]) -> _Prepared:
        dialect = self._engine.dialect
        compiled = stmt.compile(dialect=dialect)
        columns = list(stmt.selected_columns)
        if any(b.expanding for b in compiled.binds.values()):
            unsupported = _Prepared(stmt=stmt, sql="", names=(), defaults={}, processors=(), row=None)
            self._prepared[id(stmt)] = unsupported
            return unsupported
        processors = tuple(c.type.dialect_impl(dialect).result_processor(dialect, None) for c in columns)
        prepared = _Prepared(
            stmt=stmt,
            sql=str(compiled),
            names=tuple(compiled.positiontup or ()),
            defaults=dict(compiled.params),
            processors=processors,
            row=namedtuple("Row", [c.key for c in columns], rename=True),  # type: ignore[misc]
        )
        self._prepared[id(stmt)] = prepared
        return prepared
