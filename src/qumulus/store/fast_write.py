"""Inserts (and a text query) on SQLite's own driver, inside the caller's SQLAlchemy transaction.

A Core ``INSERT`` costs about 100 µs of Python here (statement cache key, compilation lookup,
parameter processing, result wrapping) around a row SQLite stores in a few microseconds, and every
tiny job inserts a job, an execution, a result and a ledger row. :func:`insert_rows` builds the SQL
once per table and key set, applies the same column defaults and SQLAlchemy bind processors a Core
insert would (JSON, dates, decimals), and runs it with the DBAPI cursor of the very connection (and
so the very transaction) the caller holds. On other databases it is a plain Core insert.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Table, TextClause, insert
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError

from qumulus.store.fast_sql import driver


@dataclass(frozen=True)
class _Prepared:
    sql: str
    keys: tuple[str, ...]  # the row keys, in the order of the ``?`` marks
    defaults: tuple[tuple[str, Callable[[], Any]], ...]  # columns the rows leave out, and their defaults
    processors: tuple[Callable[[Any], Any] | None, ...]  # per ``?``: the column's bind processor


_cache: dict[tuple[Table, tuple[str, ...]], _Prepared | None] = {}
_lock = threading.Lock()


def insert_rows(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """``INSERT`` ``rows`` (every row with the same keys: column names) into ``table``."""
    if not rows:
        return
    raw = driver(conn)  # the transaction's own sqlite3 connection, on SQLite
    prepared = _prepare(table, tuple(rows[0]), conn.dialect) if raw is not None else None
    if prepared is None or raw is None:
        conn.execute(insert(table), list(rows))
        return
    keys, processors, defaults = prepared.keys, prepared.processors, prepared.defaults
    values = []
    for row in rows:
        given = [row[k] for k in keys[: len(keys) - len(defaults)]] + [make() for _, make in defaults]
        values.append([v if p is None or v is None else p(v) for v, p in zip(given, processors, strict=True)])
    try:
        raw.executemany(prepared.sql, values)
    except sqlite3.Error as exc:
        raise _wrapped(prepared.sql, exc) from exc


def _prepare(table: Table, keys: tuple[str, ...], dialect: Dialect) -> _Prepared | None:
    cached = _cache.get((table, keys), False)
    if cached is not False:
        return cached  # type: ignore[return-value]
    prepared = _build(table, keys, dialect)
    with _lock:
        _cache[(table, keys)] = prepared
    return prepared


def _build(table: Table, keys: tuple[str, ...], dialect: Dialect) -> _Prepared | None:
    """None when a Core insert must do it (a column default that is SQL, not a Python value)."""
    defaults: list[tuple[str, Callable[[], Any]]] = []
    for column in table.columns:
        if column.key in keys or column.default is None:
            continue
        default = column.default
        if getattr(default, "is_scalar", False):
            value = default.arg  # type: ignore[attr-defined]
            defaults.append((column.key, lambda value=value: value))
        elif getattr(default, "is_callable", False):
            fn = default.arg  # type: ignore[attr-defined]  # SQLAlchemy wraps it to take a context
            defaults.append((column.key, lambda fn=fn: fn(None)))
        else:
            return None
    names = list(keys) + [key for key, _ in defaults]
    if any(key not in table.c for key in names):
        return None
    columns = [table.c[key] for key in names]
    processors = tuple(c.type.dialect_impl(dialect).bind_processor(dialect) for c in columns)
    quote = dialect.identifier_preparer.quote
    sql = (
        f"INSERT INTO {quote(table.name)} ({', '.join(quote(c.name) for c in columns)}) "
        f"VALUES ({', '.join('?' for _ in columns)})"
    )
    return _Prepared(sql=sql, keys=tuple(names), defaults=tuple(defaults), processors=processors)


def first_row(conn: Connection, stmt: TextClause, params: Mapping[str, Any]) -> Sequence[Any] | None:
    """The first row of a ``text()`` statement in the caller's transaction. On SQLite the driver
    runs the SQL as written (it understands ``:name`` parameters): no SQLAlchemy round on a check
    every submission makes inside the serialized insert transaction."""
    raw = driver(conn)
    if raw is None:
        return conn.execute(stmt, params).first()
    try:
        return raw.execute(stmt.text, params).fetchone()
    except sqlite3.Error as exc:
        raise _wrapped(stmt.text, exc) from exc


def _wrapped(sql: str, exc: Exception) -> Exception:
    """The driver's error as SQLAlchemy's (``IntegrityError`` for a unique key, …): callers catch one
    family of errors whichever path ran the statement (a retry's duplicate Idempotency-Key was a 500
    when the raw ``sqlite3.IntegrityError`` slipped past an ``except IntegrityError``)."""
    return DBAPIError.instance(sql, None, exc, sqlite3.Error)
