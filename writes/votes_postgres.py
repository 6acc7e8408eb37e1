"""The vote on PostgreSQL: one statement (ballot, choices, every counter) sent to psycopg.

The statement is the whole vote, so SQLAlchemy's compile-cache lookup and row processing are
left out: psycopg gets the SQL text (and prepares it after a few runs). When no transaction has
begun yet, the statement runs in autocommit: PostgreSQL runs one statement atomically, and the
BEGIN and COMMIT round trips are saved.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, cast

import psycopg
from psycopg.pq import TransactionStatus
from psycopg.rows import namedtuple_row
from sqlalchemy import Boolean, Connection, Dialect, bindparam, text
from sqlalchemy.orm import Session

from errors import Conflict
from models import Poll, VoterScope, utcnow
from models.base import UTCDateTime
from writes.columns import table_of
from writes.driver import type_processors
from writes.votes import (
    POLL_COLUMNS,
    POLL_TAKES_VOTE,
    OptionSnapshot,
    VoteContext,
    VoteOutcome,
    Voter,
    ballot_select,
    written_poll,
)


@contextmanager
def statement_is_the_transaction(conn: Connection) -> Iterator[None]:
    """Run the next statement in autocommit when no transaction has begun yet.

    psycopg sends BEGIN only with the first statement, so a request that has not read the
    database yet is idle here; one that has (its transaction is open) just goes on. The
    connection is put back as it was before it returns to the pool (as SQLAlchemy's own pool
    ping does).
    """
    driver = cast("psycopg.Connection[Any]", conn.connection.driver_connection)
    if driver.autocommit or driver.info.transaction_status != TransactionStatus.IDLE:
        yield
        return
    driver.autocommit = True
    try:
        yield
    finally:
        driver.autocommit = False


def cast_statement(n_options: int) -> Any:
    """The guarded ballot insert, its choices and every counter in one statement.

    The insert reads the poll FOR KEY SHARE (an editor's pending change is waited for and seen)
    and inserts only while it takes this vote. Each counter update waits for the step before it
    (`EXISTS (SELECT FROM <previous>)`, a one-time filter PostgreSQL evaluates before it touches
    the table), so the rows are locked in the fixed order: options by ascending id (the caller
    sorts them), the poll, the article; the choices follow the options. Rows come back per
    option of the poll: the counted ones from RETURNING, the others as the statement saw them.
    No row comes back when no ballot was inserted.
    """
    chosen = ", ".join(f":o{i}" for i in range(n_options))
    values = ", ".join(f"(CAST(:o{i} AS INTEGER))" for i in range(n_options))
    parts = [
        "b AS ("
        + ballot_select({"quarantined_at": "NULL"})
        + " FROM polls"
        + POLL_TAKES_VOTE.format(chosen=chosen)
        + " FOR KEY SHARE OF polls"
        " ON CONFLICT (poll_id, voter_key) DO NOTHING RETURNING id)",
    ]
    previous = "b"
    for i in range(n_options):
        parts.append(
            f"o{i} AS (UPDATE poll_options SET vote_count = vote_count + 1"
            f" WHERE id = :o{i} AND poll_id = :poll_id AND EXISTS (SELECT FROM {previous})"
            " RETURNING id, vote_count)"
        )
        previous = f"o{i}"
    # The choices follow the ballot alone: should a chosen option be deleted meanwhile, its
    # foreign key fails the whole statement instead of leaving a ballot without its choice.
    parts.append(
        "c AS (INSERT INTO ballot_choices (ballot_id, option_id)"
        f" SELECT b.id, v.option_id FROM b, (VALUES {values}) AS v(option_id))"
    )
    parts.append(
        "p AS (UPDATE polls SET ballot_count = ballot_count + 1, updated_at = :updated_at"
        f" WHERE id = :poll_id AND EXISTS (SELECT FROM {previous})"
        f" RETURNING {', '.join(POLL_COLUMNS)})"
    )
    parts.append(
        "a AS (UPDATE articles SET vote_count = vote_count + 1, updated_at = :updated_at"
        " WHERE id = (SELECT article_id FROM p) RETURNING cms_id)"
    )
    counted = " UNION ALL ".join(f"SELECT * FROM o{i}" for i in range(n_options))
    return text(
        "WITH "
        + ", ".join(parts)
        + " SELECT b.id AS ballot_id, "
        + ", ".join(f"p.{name}" for name in POLL_COLUMNS)
        + ", a.cms_id, opt.id AS option_id, opt.label,"
        " COALESCE(o.vote_count, opt.vote_count) AS vote_count, o.id IS NOT NULL AS bumped"
        " FROM b LEFT JOIN p ON true LEFT JOIN a ON true"
        " LEFT JOIN poll_options AS opt ON opt.poll_id = :poll_id"
        f" LEFT JOIN ({counted}) AS o ON o.id = opt.id ORDER BY opt.position"
    ).bindparams(
        bindparam("created_at", type_=UTCDateTime()),
        bindparam("updated_at", type_=UTCDateTime()),
        bindparam("is_suspicious", type_=Boolean()),
        bindparam("member", type_=Boolean()),
    )


_POLL_AT = slice(1, 1 + len(POLL_COLUMNS))  # where the answer's rows carry POLL_COLUMNS


def options_changed() -> Conflict:
    """409: the poll's options changed while this vote waited for it."""
    return Conflict(
        "vote_conflict",
        "De peiling werd net gewijzigd. Bekijk de antwoorden en stem opnieuw.",
    )


class PostgresVoteWriter:
    """The vote as the one statement of cast_statement(), on psycopg directly."""

    dialects = frozenset({"postgresql"})
    counts_allowance = False

    def __init__(self, dialect: Dialect) -> None:
        self._dialect = dialect
        poll_table = table_of(Poll)
        # psycopg gives timestamptz in the session's time zone: UTCDateTime's own result
        # processor puts them in UTC; the enums' processors give the members.
        self._poll_results = [
            type_processors(poll_table.c[name].type, dialect)[1] for name in POLL_COLUMNS
        ]
        self._sql: dict[int, str] = {}  # psycopg's SQL text (%(name)s), by number of options

    def sql(self, n_options: int) -> str:
        """cast_statement as psycopg's SQL text, rendered once per number of options."""
        sql = self._sql.get(n_options)
        if sql is None:
            sql = self._sql[n_options] = str(
                cast_statement(n_options).compile(dialect=self._dialect)
            )
        return sql

    def cast(
        self,
        session: Session,
        poll_id: int,
        ordered: list[int],
        voter: Voter,
        context: VoteContext,
        now: datetime,
        suspicion: str | None,
    ) -> VoteOutcome | None:
        """The whole vote in one statement, its own transaction when none has begun."""
        conn = session.connection()
        values = {
            "poll_id": poll_id,
            "voter_key": voter.key,
            "user_id": voter.user_id,
            "ip_hash": context.ip_hash,
            "created_at": now,
            "is_suspicious": suspicion is not None,
            "suspicion": suspicion,
            "n_choices": len(ordered),
            "member": voter.is_member,
            "everyone": VoterScope.EVERYONE.value,
        }
        driver = cast("psycopg.Connection[Any]", conn.connection.driver_connection)
        try:
            with (
                statement_is_the_transaction(conn),
                driver.cursor(row_factory=namedtuple_row) as cursor,
            ):
                cursor.execute(
                    self.sql(len(ordered)),
                    {
                        **values,
                        **{f"o{i}": option_id for i, option_id in enumerate(ordered)},
                        "updated_at": utcnow(),
                    },
                )
                # Named tuples whose fields the SQL text names: no static type knows them.
                rows: list[Any] = cursor.fetchall()
        except psycopg.IntegrityError:
            # A chosen option was deleted while this vote waited for the poll: the choice's
            # foreign key failed the statement, so nothing of the vote was written.
            raise options_changed() from None
        if not rows:
            return None
        first = rows[0]
        bumped = {r.option_id for r in rows if r.bumped}
        if first.ballot_count is None or bumped != set(ordered):
            # Cannot happen: a chosen option that still exists is on this poll (the guard read
            # it there, and options never move), and a deleted one fails the statement above.
            raise options_changed()
        options = tuple(OptionSnapshot(r.option_id, r.label, r.vote_count) for r in rows)
        polled = [
            process(v) if process is not None else v
            for process, v in zip(self._poll_results, first[_POLL_AT], strict=True)
        ]
        written = written_poll(poll_id, polled, options, first.cms_id)
        return VoteOutcome(first.ballot_id, now, True, list(ordered), written)
