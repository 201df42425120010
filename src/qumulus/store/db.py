"""Database engines and transactions for SQLite (embedded default) and PostgreSQL.

SQLite specifics live here and nowhere else:

* WAL journal so readers never block the single writer, ``busy_timeout`` so writers queue instead of
  failing, foreign keys on;
* Python's sqlite3 module opens transactions lazily and in its own way, so we turn that off and emit
  ``BEGIN`` ourselves: ``BEGIN IMMEDIATE`` for write transactions (taking the write lock up front
  means two writers never deadlock on a lock upgrade), plain ``BEGIN`` for reads;
* durability is chosen per transaction. ``write()`` commits with the configured ``synchronous``
  (FULL by default: the WAL is fsynced before an accepted job's id is returned). Queue bookkeeping
  (claims, heartbeats, completions) uses ``write(durable=False)``, whose connections run with
  ``synchronous=NORMAL``: no fsync of their own. The WAL is append-only and each fsync flushes all of
  it, so a power loss can only drop a *suffix* of such bookkeeping, never an accepted job: the
  execution then simply runs again (simulations are at-least-once; charging happens in the same
  transaction as the completion, so it is lost or kept together with it).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql import Select

from qumulus import jsonslices
from qumulus.store.fast_sql import FastReader

_WRITE = "qumulus_write"


class Unit:
    """One unit of work: every transaction a request opens on one database, committed once, at
    the end (render before commit).

    While a unit is current (:func:`Database.unit`, or :data:`CURRENT` set by the API's
    ``UnitOfWork`` middleware), :meth:`Database.write` and :meth:`Database.begin` do not commit:
    they run as savepoints in the unit's one session (a failing block still rolls back alone), and
    :meth:`Database.read` and :meth:`Database.connect` read through it once it exists (so a read
    sees the unit's own writes, and on SQLite nothing waits for the write lock the unit holds).
    :meth:`commit` or :meth:`rollback` ends it — after the caller has built its answer, so an answer
    that fails to build leaves nothing stored. Used from one thread at a time (a request hands it
    from the thread pool to the event loop; SQLite connections are opened thread-agnostic).
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        self.session: Session | None = None
        self._stack: contextlib.ExitStack | None = None

    def write_session(self) -> Session:
        if self.session is None:
            stack = contextlib.ExitStack()
            stack.enter_context(self.db._writer)
            session = stack.enter_context(self.db._write_sessions())
            stack.enter_context(session.begin())
            self._stack, self.session = stack, session
        return self.session

    def commit(self) -> None:
        self._end(None)

    def rollback(self) -> None:
        self._end(RuntimeError("unit of work rolled back"))

    def _end(self, error: BaseException | None) -> None:
        stack, self._stack, self.session = self._stack, None, None
        if stack is not None:
            if error is None:
                stack.close()  # commits (the session's begin() block ends without an error)
            else:
                stack.__exit__(type(error), error, None)  # rolls back


#: The unit of work of the current request (a context variable: the thread pool inherits it).
CURRENT: ContextVar[Unit | None] = ContextVar("qumulus_unit_of_work", default=None)


def core(session_or_connection: Session | Connection) -> Connection:
    """The Core connection behind an ORM session, or the connection itself."""
    if isinstance(session_or_connection, Connection):
        return session_or_connection
    return session_or_connection.connection()


def make_engine(url: str, *, synchronous: str = "FULL", echo: bool = False, pool_size: int = 16) -> Engine:
    """Create the engine for ``url`` with the connection settings this platform relies on."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            echo=echo,
            pool_size=pool_size,
            max_overflow=16,
            connect_args={"check_same_thread": False, "timeout": 30},
            # a large column in slices, both ways: no GIL stall (issue 17.6)
            json_serializer=jsonslices.dumps,
            json_deserializer=jsonslices.loads_text,
        )
        _configure_sqlite(engine, synchronous)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return create_engine(
        url, echo=echo, pool_size=16, max_overflow=16, pool_pre_ping=True, json_serializer=jsonslices.dumps
    )


def _configure_sqlite(engine: Engine, synchronous: str) -> None:
    if synchronous not in {"OFF", "NORMAL", "FULL", "EXTRA"}:
        raise ValueError(
            f"QUMULUS_SQLITE_SYNCHRONOUS must be OFF, NORMAL, FULL or EXTRA, not {synchronous!r}"
        )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        immediate = conn.get_execution_options().get(_WRITE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


class Database:
    """The engine plus two kinds of transaction: :meth:`write` and :meth:`read`."""

    def __init__(self, url: str, *, synchronous: str = "FULL") -> None:
        self.url = url
        self.engine = make_engine(url, synchronous=synchronous)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        self.is_postgres = self.engine.dialect.name == "postgresql"
        self._sessions = sessionmaker(self.engine, expire_on_commit=False, autoflush=False)
        self._write_engine = (
            self.engine.execution_options(**{_WRITE: True}) if self.is_sqlite else self.engine
        )
        self._write_sessions = sessionmaker(self._write_engine, expire_on_commit=False, autoflush=False)
        # SQLite has one writer at a time, and a writer that finds the lock taken sleeps in SQLite's
        # busy handler with coarse back-off (up to 100 ms). Queueing this process's writers on a
        # Python lock instead hands the lock over the moment it is free.
        self._writer: threading.Lock | contextlib.nullcontext[None] = (
            threading.Lock() if self.is_sqlite else contextlib.nullcontext()
        )
        self._relaxed_engine: Engine | None = None
        self._relaxed_write_engine = self._write_engine
        if self.is_sqlite and synchronous in ("FULL", "EXTRA"):
            self._relaxed_engine = make_engine(url, synchronous="NORMAL", pool_size=4)
            self._relaxed_write_engine = self._relaxed_engine.execution_options(**{_WRITE: True})
        self._relaxed_sessions = sessionmaker(
            self._relaxed_write_engine, expire_on_commit=False, autoflush=False
        )
        database = self.engine.url.database
        self._fast: FastReader | None = (
            FastReader(self.engine, database)
            if self.is_sqlite and database not in (None, "", ":memory:")
            else None
        )

    def _unit(self) -> Unit | None:
        unit = CURRENT.get()
        return unit if unit is not None and unit.db is self else None

    @contextmanager
    def unit(self) -> Iterator[Unit]:
        """Make the transactions opened inside one unit, committed when the block ends without an
        error (see :class:`Unit`); inside another unit of this database, that one is used."""
        if self._unit() is not None:
            yield self._unit()  # type: ignore[misc]
            return
        unit = Unit(self)
        token = CURRENT.set(unit)
        try:
            yield unit
        except BaseException:
            unit.rollback()
            raise
        else:
            unit.commit()
        finally:
            CURRENT.reset(token)

    @contextmanager
    def write(self, *, durable: bool = True) -> Iterator[Session]:
        """A transaction that will write: commits on success, rolls back on any exception.

        ``durable=False`` is for queue bookkeeping that may be replayed (see the module docstring).
        On PostgreSQL every commit is durable. Inside a unit of work: a savepoint of the unit.
        """
        unit = self._unit()
        if unit is not None:
            session = unit.write_session()
            with session.begin_nested():
                yield session
            return
        sessions = self._write_sessions if durable else self._relaxed_sessions
        with self._writer, sessions() as session, session.begin():
            yield session

    @contextmanager
    def begin(self, *, durable: bool = True) -> Iterator[Connection]:
        """A write transaction on a Core connection (no ORM session): the queue's hot path."""
        unit = self._unit()
        if unit is not None:
            session = unit.write_session()
            with session.begin_nested():
                yield session.connection()
            return
        engine = self._write_engine if durable else self._relaxed_write_engine
        with self._writer, engine.begin() as conn:
            yield conn

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        """A read-only Core connection (no ORM session to build): for the hottest reads."""
        unit = self._unit()
        if unit is not None and unit.session is not None:
            yield unit.session.connection()
            return
        with self.engine.connect() as conn:
            yield conn

    def hot_rows(self, stmt: Select[Any], params: dict[str, Any]) -> list[Any]:
        """The rows of one ``SELECT``, as cheaply as the database allows: on SQLite through
        :class:`~qumulus.store.fast_sql.FastReader` (safe on the event loop: a WAL read never
        waits), elsewhere through a Core connection."""
        if self._fast is not None:
            found = self._fast.rows(stmt, params)
            if found is not None:
                return found
        with self.engine.connect() as conn:
            return list(conn.execute(stmt, params).all())

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only transaction, ended by closing the session.

        Closing (not rolling back) keeps the loaded objects usable after the block: the API maps
        them to JSON once the transaction is over.
        """
        unit = self._unit()
        if unit is not None and unit.session is not None:
            yield unit.session
            return
        with self._sessions() as session:
            yield session

    def dispose(self) -> None:
        if self._fast is not None:
            self._fast.close()
        self.engine.dispose()
        if self._relaxed_engine is not None:
            self._relaxed_engine.dispose()
