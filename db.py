"""Engine and sessions: one engine per app, one Session per request (on g), closed at teardown."""

from __future__ import annotations

import sqlite3
import time
from collections import namedtuple
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from flask import Flask, current_app, g, request
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

ViewT = TypeVar("ViewT", bound=Callable[..., Any])

# Connection option that asks SQLite for BEGIN IMMEDIATE: a write transaction takes the write
# lock up front, so two workers never both read-then-upgrade and fail with "database is locked".
WRITE_OPTION = "tribune_write"
# Connection option for a @read_first request: on SQLite no BEGIN is sent, so its reads run in
# autocommit (each its own snapshot) until start_write() sends BEGIN IMMEDIATE on the same
# connection: one checkout and one transaction per request instead of two.
READ_FIRST_OPTION = "tribune_read_first"
# Set on the DBAPI connection while its reads run in autocommit; cleared by BEGIN IMMEDIATE,
# commit, rollback and check-in. A write statement meanwhile is a bug and raises.
AUTOCOMMIT_READS = "tribune.autocommit_reads"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Attribute set by @read_first on a view function: its write request starts read-only.
READ_FIRST = "tribune_read_first"
READ_ONLY_STATEMENTS = ("SELECT", "PRAGMA", "WITH")


BUSY_TIMEOUT_SECONDS = 15.0


def _begin_immediate(dbapi_connection: sqlite3.Connection) -> None:
    """BEGIN IMMEDIATE, waiting for the write lock in steps of 50 µs to 1 ms.

    SQLite's own busy handler sleeps 1, 2, 5, 10 … ms between tries, while a write here holds
    the lock for well under a millisecond: the waiting worker would sleep long after the lock
    is free. The busy timeout is off for this one statement and on again for every other.
    """
    dbapi_connection.execute("PRAGMA busy_timeout=0")
    try:
        delay, deadline = 0.00005, time.monotonic() + BUSY_TIMEOUT_SECONDS
        while True:
            try:
                dbapi_connection.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                # Only plain SQLITE_BUSY (another writer) clears by waiting; a stale snapshot
                # (SQLITE_BUSY_SNAPSHOT) or any other error never would.
                if exc.sqlite_errorcode != sqlite3.SQLITE_BUSY or time.monotonic() > deadline:
                    raise
            time.sleep(delay)
            delay = min(delay * 2, 0.001)
    finally:
        dbapi_connection.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_SECONDS * 1000)}")


# SQLite maps the database file into memory for reads (shared with the OS page cache, no copy)
# on read transactions, and not on writing ones. In WAL mode SQLite drops the whole map whenever
# another connection has committed: a write request, which follows the other workers' commits
# by a few milliseconds, would remap nearly every time, and that cost more than reading its few
# pages (a post-like transaction on two alternating writers: 114 µs with the map, 64 µs
# without). A read request over a large file (tallies, the queue) gains from it.
MAPPED_BYTES = 268_435_456
MAP_SIZE = "tribune.mmap_size"  # the size set on a DBAPI connection (its pool record's info)


def _map_file(connection: Connection, size: int) -> None:
    """Set the connection's mmap_size, outside any transaction, when it differs."""
    if connection.info.get(MAP_SIZE) != size:
        connection.connection.driver_connection.execute(f"PRAGMA mmap_size={size}")
        connection.info[MAP_SIZE] = size


def make_engine(url: str, echo: bool = False) -> Engine:
    """Create an engine; SQLite gets WAL, a busy timeout and explicit BEGIN handling."""
    if url.startswith("sqlite"):
        engine = create_engine(url, echo=echo, connect_args={"timeout": BUSY_TIMEOUT_SECONDS})
        _configure_sqlite(engine)
        return engine
    return create_engine(url, echo=echo, pool_pre_ping=True, pool_size=5, max_overflow=10)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, record):  # type: ignore[no-untyped-def]
        # Let SQLAlchemy (not the driver) emit BEGIN, so we can choose IMMEDIATE.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_SECONDS * 1000)}")
        # Read the hot pages through the OS page cache instead of copying them per connection.
        cursor.execute(f"PRAGMA mmap_size={MAPPED_BYTES}")
        cursor.execute("PRAGMA cache_size=-32000")
        cursor.close()
        record.info[MAP_SIZE] = MAPPED_BYTES

    @event.listens_for(engine, "begin")
    def _on_begin(connection):  # type: ignore[no-untyped-def]
        options = connection.get_execution_options()
        if options.get(WRITE_OPTION):
            _map_file(connection, 0)
            _begin_immediate(connection.connection.driver_connection)
        elif options.get(READ_FIRST_OPTION):
            _map_file(connection, 0)
            connection.info[AUTOCOMMIT_READS] = True
        else:
            _map_file(connection, MAPPED_BYTES)
            connection.exec_driver_sql("BEGIN")

    @event.listens_for(engine, "before_cursor_execute")
    def _reads_only(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if conn.info.get(AUTOCOMMIT_READS) and not statement.lstrip().upper().startswith(
            READ_ONLY_STATEMENTS
        ):
            raise RuntimeError("a @read_first request wrote before start_write()")

    def _end(connection):  # type: ignore[no-untyped-def]
        connection.info.pop(AUTOCOMMIT_READS, None)

    event.listen(engine, "commit", _end)
    event.listen(engine, "rollback", _end)

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection, record):  # type: ignore[no-untyped-def]
        record.info.pop(AUTOCOMMIT_READS, None)


def begin_write(session: Session) -> None:
    """Start the session's transaction as a write transaction (BEGIN IMMEDIATE on SQLite)."""
    if not session.in_transaction():
        session.connection(execution_options={WRITE_OPTION: True})


def in_write_transaction(session: Session) -> bool:
    """Whether the session's transaction was begun as a write transaction (begin_write)."""
    if not session.in_transaction():
        return False
    return bool(session.connection().get_execution_options().get(WRITE_OPTION))


def read_first(view: ViewT) -> ViewT:
    """Opt a write route out of the up-front write transaction (put it below the route).

    get_session() then starts the request's session read-only (plain BEGIN on SQLite), and the
    view must end that read transaction and call begin_write() itself before it writes.
    Every route without this decorator keeps BEGIN IMMEDIATE for its non-GET requests.
    """
    setattr(view, READ_FIRST, True)
    return view


def start_write(session: Session) -> None:
    """In a @read_first request: from here on the request writes.

    SQLite: BEGIN IMMEDIATE on the connection that read in autocommit (or, for a session
    that read in a plain transaction, end it and open a write transaction). PostgreSQL: the
    one transaction goes on; row locks, not a database lock, order the writers.
    """
    if not session.in_transaction():
        begin_write(session)
        return
    connection = session.connection()
    if connection.dialect.name != "sqlite" or connection.get_execution_options().get(WRITE_OPTION):
        return
    if connection.info.pop(AUTOCOMMIT_READS, False):
        _begin_immediate(connection.connection.driver_connection)
        return
    session.commit()  # a plain read transaction: nothing was written yet
    begin_write(session)


def _starts_read_only() -> bool:
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, READ_FIRST, False))


def init_app(app: Flask) -> None:
    """Bind an engine and session factory to the app and close sessions after each request."""
    engine = make_engine(app.config["DATABASE_URL"], echo=app.config["TRIBUNE_SQL_ECHO"])
    app.extensions["tribune.engine"] = engine
    app.extensions["tribune.sessionmaker"] = sessionmaker(bind=engine, expire_on_commit=False)
    app.teardown_appcontext(_close_session)


def get_session() -> Session:
    """The request's session; writes (non-GET requests) start with a write transaction.

    Except on views marked @read_first, which start read-only and call start_write() later.
    """
    if "db_session" not in g:
        session = current_app.extensions["tribune.sessionmaker"]()
        g.db_session = session
        try:
            writes = request.method not in SAFE_METHODS
            read_first = writes and _starts_read_only()
        except RuntimeError:  # no request: CLI commands write
            writes, read_first = True, False
        if read_first:
            session.connection(execution_options={READ_FIRST_OPTION: True})
        elif writes:
            begin_write(session)
    return g.db_session


def _close_session(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()


@contextmanager
def session_scope(app: Flask, write: bool = True) -> Iterator[Session]:
    """A session outside a request (CLI, scripts): commit on success, roll back on error."""
    session: Session = app.extensions["tribune.sessionmaker"]()
    try:
        if write:
            begin_write(session)
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def alembic_config(url: str):  # type: ignore[no-untyped-def]
    """An Alembic Config for this project's migrations against `url`."""
    root = Path(__file__).resolve().parent
    cfg = Config(str(root / "alembic.ini"))
    cfg.set_main_option("script_location", str(root / "alembic"))
    cfg.attributes["database_url"] = url
    cfg.attributes["configure_logger"] = False
    return cfg


def upgrade_database(url: str, revision: str = "head") -> None:
    """Bring the schema at `url` to `revision` (Alembic owns the schema)."""
    command.upgrade(alembic_config(url), revision)


# Indexes with a DESC column: SQLite's reflection drops the direction, so comparing them would
# report a difference that is not there. Their revision creates them by hand.
UNCOMPARED_INDEXES = frozenset({"ix_comments_state_severity_queued_at"})


def include_object(obj, name, type_, reflected, compare_to):  # type: ignore[no-untyped-def]
    """Alembic filter: leave the hand-written DESC indexes out of autogenerate and checks."""
    return not (type_ == "index" and name in UNCOMPARED_INDEXES)


def insert_or_nothing(
    session: Session, model: type, values: dict, unique_columns: list[str]
) -> int | None:
    """INSERT … ON CONFLICT DO NOTHING RETURNING id: the new row's id, or None when the unique
    constraint already holds such a row (the database decides, no read-then-write race)."""
    table = model.__table__  # type: ignore[attr-defined]
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(table)
        .values(**values)
        .on_conflict_do_nothing(index_elements=unique_columns)
        .returning(table.c.id)
    )
    return session.execute(statement).scalar()


# ---------------------------------------------------------------- driver-level statements
# The hottest writes (a vote, a post) run as plain SQL on SQLite's driver connection under the
# write lock, where SQLAlchemy's execution layer cost as much as SQLite itself. Their values
# still go through the column types' own processors, taken from here.


@lru_cache(maxsize=64)
def type_processors(column_type: Any, dialect: Any) -> tuple[Any, Any]:
    """The (bind, result) processors SQLAlchemy applies to this type on this dialect; None
    where a value passes as it is. Built once per type object and dialect (pass the same
    object each time: a column's type, or a module-level instance)."""
    impl = column_type.dialect_impl(dialect)
    return impl.bind_processor(dialect), impl.result_processor(dialect, None)


class DriverSelect:
    """A Core SELECT compiled once as qmark SQL for SQLite's driver connection: parameters go
    through their types' bind processors and columns through their result processors, so rows
    come back as Core would return them (as named tuples)."""

    def __init__(self, statement: Any, dialect: Any) -> None:
        compiled = statement.compile(dialect=dialect)
        if "POSTCOMPILE" in compiled.string:  # expanding IN lists are rendered per execution
            raise ValueError("DriverSelect takes no expanding (IN list) parameters")
        self.sql = compiled.string
        self.params = [
            (name, type_processors(compiled.binds[name].type, dialect)[0])
            for name in compiled.positiontup or ()
        ]
        columns = list(statement.selected_columns)
        self.results = [type_processors(column.type, dialect)[1] for column in columns]
        self.row = namedtuple("Row", [column.key for column in columns])  # type: ignore[misc]

    def all(self, connection: Connection, values: Mapping[str, Any]) -> list[Any]:
        """Every row for these parameter values, on the connection's driver connection."""
        args = tuple(
            process(values[name]) if process is not None else values[name]
            for name, process in self.params
        )
        rows = connection.connection.driver_connection.execute(self.sql, args).fetchall()
        results = self.results
        return [
            self.row(
                *[
                    process(v) if process is not None else v
                    for process, v in zip(results, r, strict=True)
                ]
            )
            for r in rows
        ]


@lru_cache(maxsize=32)
def _driver_select(statement: Any, dialect: Any) -> DriverSelect:
    return DriverSelect(statement, dialect)


def hot_rows(connection: Connection, statement: Any, values: Mapping[str, Any]) -> list[Any]:
    """The rows of a prebuilt Core SELECT on a hot path: on SQLite straight on the driver
    connection (SQLAlchemy's execution layer costs about three times such a read), elsewhere
    through Core. Pass the same statement object each time: it is compiled once."""
    if connection.dialect.name == "sqlite":
        return _driver_select(statement, connection.dialect).all(connection, values)
    return connection.execute(statement, values).all()


class DriverInsert:
    """INSERT … VALUES of whole rows as qmark SQL for SQLite's driver connection; each value
    goes through its column's own bind processor (enums to their values, UTC timestamps as
    stored)."""

    def __init__(self, table: Any, columns: Any, dialect: Any, returning: str = "") -> None:
        self.sql = (
            f"INSERT INTO {table.name} ({', '.join(columns)})"
            f" VALUES ({', '.join('?' for _ in columns)})"
            + (f" RETURNING {returning}" if returning else "")
        )
        self.steps = [(name, type_processors(table.c[name].type, dialect)[0]) for name in columns]

    def values(self, row: Any) -> tuple[Any, ...]:
        return tuple(
            process(row[name]) if process is not None else row[name] for name, process in self.steps
        )
