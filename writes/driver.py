"""Driver-level helpers: the one place that reaches past SQLAlchemy to the DBAPI connection.

The hottest writes (a vote, a post) and a few hot reads run as plain SQL on the driver
connection, where SQLAlchemy's execution layer cost as much as SQLite itself. Their values
still go through the column types' own processors, taken from here. db.py's engine events use
SQLite's write-lock loop and the mmap setter below.
"""

from __future__ import annotations

import sqlite3
import time
from collections import namedtuple
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import Connection
from sqlalchemy.pool import PoolProxiedConnection

BUSY_TIMEOUT_SECONDS = 15.0
# SQLAlchemy types `driver_connection` Optional (None once the pooled connection is closed); a
# connection checked out to run a statement always has one, so the paths here cast it rather
# than test it on every call.
MAP_SIZE = "tribune.mmap_size"  # the size set on a DBAPI connection (its pool record's info)


def dbapi(connection: Connection | PoolProxiedConnection) -> Any:
    """The driver's own connection (sqlite3 or psycopg) behind a Connection or a pooled one.

    For tests and scripts; the writers in this package read the attribute directly.
    """
    pooled = connection.connection if isinstance(connection, Connection) else connection
    return pooled.driver_connection


# ---------------------------------------------------------------- SQLite's write lock


def begin_immediate(connection: Connection) -> None:
    """BEGIN IMMEDIATE on the connection's sqlite3 connection, waiting for the write lock in
    steps of 50 µs to 1 ms.

    SQLite's own busy handler sleeps 1, 2, 5, 10 … ms between tries, while a write here holds
    the lock for well under a millisecond: the waiting worker would sleep long after the lock
    is free. The busy timeout is off for this one statement and on again for every other.
    """
    driver = cast("sqlite3.Connection", connection.connection.driver_connection)
    driver.execute("PRAGMA busy_timeout=0")
    try:
        delay, deadline = 0.00005, time.monotonic() + BUSY_TIMEOUT_SECONDS
        while True:
            try:
                driver.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                # Only plain SQLITE_BUSY (another writer) clears by waiting; a stale snapshot
                # (SQLITE_BUSY_SNAPSHOT) or any other error never would.
                if exc.sqlite_errorcode != sqlite3.SQLITE_BUSY or time.monotonic() > deadline:
                    raise
            time.sleep(delay)
            delay = min(delay * 2, 0.001)
    finally:
        driver.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_SECONDS * 1000)}")


def map_file(connection: Connection, size: int) -> None:
    """Set the connection's mmap_size, outside any transaction, when it differs."""
    if connection.info.get(MAP_SIZE) != size:
        driver = cast("sqlite3.Connection", connection.connection.driver_connection)
        driver.execute(f"PRAGMA mmap_size={size}")
        connection.info[MAP_SIZE] = size


# ---------------------------------------------------------------- statements on the driver


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
        # The fields are the statement's columns, known only at run time.
        self.row = namedtuple("Row", [column.key for column in columns])  # type: ignore[misc]

    def all(self, connection: Connection, values: Mapping[str, Any]) -> list[Any]:
        """Every row for these parameter values, on the connection's driver connection."""
        args = tuple(
            process(values[name]) if process is not None else values[name]
            for name, process in self.params
        )
        driver = cast("sqlite3.Connection", connection.connection.driver_connection)
        rows = driver.execute(self.sql, args).fetchall()
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


def hot_rows(connection: Connection, statement: Any, values: Mapping[str, Any]) -> Sequence[Any]:
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
        """The row's values in column order, each through its column's bind processor."""
        return tuple(
            process(row[name]) if process is not None else row[name] for name, process in self.steps
        )
