"""Engine and sessions: one engine per app, one Session per request (on g), closed at teardown."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any, TypeVar

from flask import Flask, current_app, g, request
from sqlalchemy import Connection, Engine, create_engine, event, make_url
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine.interfaces import DBAPIConnection, DBAPICursor, ExecutionContext
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry

from models.base import Base
from writes.driver import BUSY_TIMEOUT_SECONDS, MAP_SIZE, begin_immediate, map_file

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


# SQLite maps the database file into memory for reads (shared with the OS page cache, no copy)
# on read transactions, and not on writing ones. In WAL mode SQLite drops the whole map whenever
# another connection has committed: a write request, which follows the other workers' commits
# by a few milliseconds, would remap nearly every time, and that cost more than reading its few
# pages (a post-like transaction on two alternating writers: 114 µs with the map, 64 µs
# without). A read request over a large file (tallies, the queue) gains from it.
MAPPED_BYTES = 268_435_456
# The DATABASE_URL option (psycopg's own argument name) for its server-side prepared statements.
PREPARE_THRESHOLD = "prepare_threshold"


def make_engine(url: str, echo: bool = False) -> Engine:
    """Create an engine; SQLite gets WAL, a busy timeout and explicit BEGIN handling."""
    # A failed statement's message (logged with its traceback) leaves out the values: they may
    # be a fan's e-mail address or comment. TRIBUNE_SQL_ECHO (development) shows them.
    hide = not echo
    if url.startswith("sqlite"):
        create_private_sqlite_file(url)
        engine = create_engine(
            url, echo=echo, hide_parameters=hide, connect_args={"timeout": BUSY_TIMEOUT_SECONDS}
        )
        _configure_sqlite(engine)
        return engine
    url, driver_options = postgres_driver_options(url)
    # pool_pre_ping: a connection that died with a PostgreSQL restart is replaced at checkout,
    # so the first request after the restart succeeds (docs/architecture.md, "Faults").
    return create_engine(
        url,
        echo=echo,
        hide_parameters=hide,
        pool_pre_ping=True,
        pool_size=5,
        max_overflow=10,
        connect_args=driver_options,
    )


def postgres_driver_options(url: str) -> tuple[str, dict[str, Any]]:
    """Take Tribune's own options out of a PostgreSQL URL: the URL left, psycopg's arguments.

    `?prepare_threshold=none` turns psycopg's server-side prepared statements off, which a
    PgBouncer in transaction mode before 1.21 needs: a statement prepared on one server
    connection is not there on the next transaction's ("prepared statement … does not
    exist"). A number is psycopg's threshold (its default, 5: prepare from the 5th run of a
    statement on one connection). docs/architecture.md, "PgBouncer".
    """
    parsed = make_url(url)
    raw = parsed.query.get(PREPARE_THRESHOLD)
    if raw is None:
        return url, {}
    if not isinstance(raw, str):
        raise ValueError(f"{PREPARE_THRESHOLD} is given more than once in DATABASE_URL")
    rest = parsed.difference_update_query([PREPARE_THRESHOLD]).render_as_string(
        hide_password=False
    )
    if raw.strip().lower() in ("none", "off", ""):
        return rest, {PREPARE_THRESHOLD: None}
    try:
        threshold = int(raw)
    except ValueError:
        raise ValueError(
            f"{PREPARE_THRESHOLD} in DATABASE_URL must be a number or none, not {raw!r}"
        ) from None
    return rest, {PREPARE_THRESHOLD: threshold}


def create_private_sqlite_file(url: str) -> None:
    """Create a missing SQLite database file readable by its owner only (0600).

    SQLite would create it with the umask's mode (usually 0644: world-readable), and gives its
    -wal and -shm files the main file's mode, so creating the file first covers all three.
    """
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    with suppress(FileExistsError):
        os.close(os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, record: ConnectionPoolEntry) -> None:
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
    def _on_begin(connection: Connection) -> None:
        options = connection.get_execution_options()
        if options.get(WRITE_OPTION):
            map_file(connection, 0)
            begin_immediate(connection)
        elif options.get(READ_FIRST_OPTION):
            map_file(connection, 0)
            connection.info[AUTOCOMMIT_READS] = True
        else:
            map_file(connection, MAPPED_BYTES)
            connection.exec_driver_sql("BEGIN")

    @event.listens_for(engine, "before_cursor_execute")
    def _reads_only(
        conn: Connection,
        cursor: DBAPICursor,
        statement: str,
        parameters: Any,
        context: ExecutionContext | None,
        executemany: bool,
    ) -> None:
        if conn.info.get(AUTOCOMMIT_READS) and not statement.lstrip().upper().startswith(
            READ_ONLY_STATEMENTS
        ):
            raise RuntimeError("a @read_first request wrote before start_write()")

    def _end(connection: Connection) -> None:
        connection.info.pop(AUTOCOMMIT_READS, None)

    event.listen(engine, "commit", _end)
    event.listen(engine, "rollback", _end)

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection: DBAPIConnection | None, record: ConnectionPoolEntry) -> None:
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
        begin_immediate(connection)
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
    session_of_request: Session = g.db_session
    return session_of_request


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


def insert_or_nothing(
    session: Session, model: type[Base], values: dict, unique_columns: list[str]
) -> int | None:
    """INSERT … ON CONFLICT DO NOTHING RETURNING id: the new row's id, or None when the unique
    constraint already holds such a row (the database decides, no read-then-write race)."""
    table = model.__table__
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(table)
        .values(**values)
        .on_conflict_do_nothing(index_elements=unique_columns)
        .returning(table.c.id)
    )
    return session.execute(statement).scalar()
