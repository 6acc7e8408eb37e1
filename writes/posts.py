"""The post write: a new comment's rows and counters, as moderation.comment_states decided them.

comment_states.post_new_comment makes the move from nothing to published, held or rejected:
it builds every row (PostRows) and hands them to a writer, which only writes them: the comment,
its flags, the audit row, then the counters in the fixed order (queues by name, the author,
the article). Two writers: plain SQL on SQLite's driver connection (SqlitePostWriter) and
prebuilt Core statements (CorePostWriter, also PostgreSQL's). tests/test_writes_parity.py holds
each to what comment_states.transition() writes.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, cast

from sqlalchemy import Dialect, bindparam, insert, text, update
from sqlalchemy.orm import Session

from models import Article, Comment, Flag, ModerationAction, QueueCounter, User, utcnow
from models.base import UTCDateTime
from writes.columns import AUDIT_COLUMNS, COMMENT_COLUMNS, FLAG_COLUMNS, table_of
from writes.driver import DriverInsert, type_processors


@dataclass(slots=True)
class PostRows:
    """Everything posting one comment writes (not frozen: built once per post, cheaper)."""

    comment: dict[str, Any]  # every column but id
    flags: Sequence[Mapping[str, Any]]  # every column but id, comment_id and created_at
    audit: dict[str, Any]  # every column but id and target_id (the new comment's id)
    queues: list[str]  # the queue counters that go up by one, by name
    author_counter: str  # the users column that goes up by one
    rejected: bool  # the author's last_rejected_at becomes the comment's created_at
    published: bool  # the article's comment_count and thread_version go up


class PostWriter(Protocol):
    """Writes a new comment's rows and counters; returns the comment's id."""

    def write(self, session: Session, rows: PostRows, take_lock: Callable[[], None] | None) -> int:
        """`take_lock` is called once everything is built, right before the first write: the
        caller starts its write transaction there, so the lock is held for the writes alone."""
        ...


# A queue's first comment on a fresh database (no counter row yet). Spelled out: the dialects'
# on_conflict_do_update() has no cache key. sqlite3 takes the :name parameter as it is.
CREATE_QUEUE = (
    "INSERT INTO queue_counters (name, count) VALUES (:name, 1)"
    " ON CONFLICT (name) DO UPDATE SET count = queue_counters.count + 1"
)
_TIME = UTCDateTime()  # one instance: type_processors caches per type object


class CorePostWriter:
    """Prebuilt Core statements, built once: no ORM unit of work, only parameters bound."""

    dialects: frozenset[str] | None = None  # any dialect (PostgreSQL's path)

    def __init__(self, dialect: Dialect) -> None:
        comments_t, queues_t = table_of(Comment), table_of(QueueCounter)
        articles_t = table_of(Article)
        self.comment = insert(comments_t).returning(comments_t.c.id)
        self.flags = insert(table_of(Flag))
        self.audit = insert(table_of(ModerationAction))
        self.queues = (
            update(queues_t)
            .where(queues_t.c.name.in_(bindparam("names", expanding=True)))
            .values(count=queues_t.c.count + 1)
            .returning(queues_t.c.name)
        )
        self.create_queue = text(CREATE_QUEUE)
        # A published post changes the thread readers see: its version goes up here too.
        self.article = (
            update(articles_t)
            .where(articles_t.c.id == bindparam("article_id"))
            .values(
                comment_count=articles_t.c.comment_count + 1,
                thread_version=articles_t.c.thread_version + 1,
            )
        )
        self._authors: dict[tuple[str, bool], Any] = {}

    def _author(self, column: str, rejected: bool) -> Any:
        statement = self._authors.get((column, rejected))
        if statement is None:
            users_t = table_of(User)
            values: dict[str, Any] = {column: users_t.c[column] + 1}
            if rejected:
                values["last_rejected_at"] = bindparam("now", type_=UTCDateTime())
            statement = self._authors[column, rejected] = (
                update(users_t).where(users_t.c.id == bindparam("author_id")).values(values)
            )
        return statement

    def write(self, session: Session, rows: PostRows, take_lock: Callable[[], None] | None) -> int:
        """The comment, flags, audit row, queues, author and article, in that order."""
        author = self._author(rows.author_counter, rows.rejected)
        if take_lock is not None:
            take_lock()
        conn = session.connection()
        comment = rows.comment
        now = comment["created_at"]
        comment_id: int = conn.execute(self.comment, comment).scalar_one()
        if rows.flags:
            flags = [{**flag, "comment_id": comment_id, "created_at": now} for flag in rows.flags]
            conn.execute(self.flags, flags)
        conn.execute(self.audit, {**rows.audit, "target_id": str(comment_id)})
        names = rows.queues
        counted = set(conn.execute(self.queues, {"names": names}).scalars())
        for name in names:
            if name not in counted:  # a fresh database: the first comment in this queue
                conn.execute(self.create_queue, {"name": name})
        conn.execute(author, {"author_id": comment["author_id"], "now": now})
        # Only a published post changes the thread readers see; its counter update raises the
        # thread version itself, so the article is not touched (no second UPDATE before commit).
        if rows.published:
            conn.execute(self.article, {"article_id": comment["article_id"]})
        return comment_id


class SqlitePostWriter:
    """The same rows and counters in the same order as CorePostWriter, as plain SQL on
    SQLite's driver connection under the write lock: SQLAlchemy's execution layer cost about
    as much as SQLite itself for these seven statements, while every other writer waited."""

    dialects = frozenset({"sqlite"})

    def __init__(self, dialect: Dialect) -> None:
        self.comment = DriverInsert(table_of(Comment), COMMENT_COLUMNS, dialect, "id")
        self.flags = DriverInsert(table_of(Flag), FLAG_COLUMNS, dialect)
        self.audit = DriverInsert(table_of(ModerationAction), AUDIT_COLUMNS, dialect)
        self.stamp = type_processors(_TIME, dialect)[0]
        # Core's update() stamped the article's updated_at (its onupdate): so does this.
        self.article = (
            "UPDATE articles SET comment_count = comment_count + 1,"
            " thread_version = thread_version + 1, updated_at = ? WHERE id = ?"
        )
        self._authors: dict[tuple[str, bool], str] = {}

    def _author(self, column: str, rejected: bool) -> str:
        sql = self._authors.get((column, rejected))
        if sql is None:
            stamped = ", last_rejected_at = ?" if rejected else ""
            sql = self._authors[column, rejected] = (
                f"UPDATE users SET {column} = {column} + 1{stamped} WHERE id = ?"
            )
        return sql

    def write(self, session: Session, rows: PostRows, take_lock: Callable[[], None] | None) -> int:
        """The writes on the driver connection; values are converted before the lock."""
        comment = rows.comment
        now = comment["created_at"]
        values = self.comment.values(comment)
        stamp = self.stamp
        article_stamp = stamp(utcnow())
        author = self._author(rows.author_counter, rows.rejected)
        if take_lock is not None:
            take_lock()
        driver = cast("sqlite3.Connection", session.connection().connection.driver_connection)
        cursor = driver.cursor()
        try:
            comment_id: int = cursor.execute(self.comment.sql, values).fetchone()[0]
            if rows.flags:
                cursor.executemany(
                    self.flags.sql,
                    [
                        self.flags.values({**flag, "comment_id": comment_id, "created_at": now})
                        for flag in rows.flags
                    ],
                )
            audit = {**rows.audit, "target_id": str(comment_id)}
            cursor.execute(self.audit.sql, self.audit.values(audit))
            names = rows.queues
            marks = ", ".join("?" for _ in names)
            counted = {
                name
                for (name,) in cursor.execute(
                    f"UPDATE queue_counters SET count = count + 1 WHERE name IN ({marks})"
                    " RETURNING name",
                    names,
                )
            }
            for name in names:
                if name not in counted:  # a fresh database: the first comment in this queue
                    cursor.execute(CREATE_QUEUE, {"name": name})
            if rows.rejected:
                cursor.execute(author, (stamp(now), comment["author_id"]))
            else:
                cursor.execute(author, (comment["author_id"],))
            if rows.published:
                cursor.execute(self.article, (article_stamp, comment["article_id"]))
        finally:
            cursor.close()
        return comment_id
