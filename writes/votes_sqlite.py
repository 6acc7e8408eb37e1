"""The vote on SQLite: plain SQL on the driver connection, under the write lock.

Every statement here runs once per vote while every other worker waits for that lock, so the
SQLAlchemy layer (statement cache lookup, parameter and result processing, the expanding IN
rendered anew per call) is left out; sqlite3 keeps each statement prepared per connection.
Types are converted with the models' own processors. The per-IP allowance is counted inside
the ballot insert, exact under the lock (no Redis round trip).
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Dialect
from sqlalchemy.orm import Session

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

_INSERT_BALLOT = (
    ballot_select(
        {
            "is_suspicious": "why.code IS NOT NULL",
            "suspicion": "why.code",
            "quarantined_at": "NULL",
        }
    )
    + " FROM polls,"
    # The per-IP allowance is counted here, under the write lock, so it is exact: the ballots
    # of this poll from this IP hash in the last hour (one index range), before this one.
    " (SELECT CASE WHEN :ip_allowance > 0 AND (SELECT count(*) FROM ballots"
    " WHERE ballots.poll_id = :poll_id AND ballots.ip_hash = :ip_hash"
    " AND ballots.created_at >= :since) >= :ip_allowance THEN 'ip_allowance'"
    " WHEN :burst THEN 'burst' END AS code) AS why"
    + POLL_TAKES_VOTE
    + " ON CONFLICT (poll_id, voter_key) DO NOTHING RETURNING id"
)
# Every option of the poll, +1 for the chosen ones, so the answer has all counts as they are.
_BUMP_OPTIONS = (
    "UPDATE poll_options SET vote_count = vote_count + (id IN ({chosen}))"
    " WHERE poll_id = :poll_id RETURNING id, position, label, vote_count"
)
_BUMP_POLL = (
    "UPDATE polls SET ballot_count = ballot_count + 1, updated_at = :updated_at"
    f" WHERE id = :poll_id RETURNING {', '.join(POLL_COLUMNS)}"
)
_BUMP_ARTICLE = (
    "UPDATE articles SET vote_count = vote_count + 1, updated_at = :updated_at"
    " WHERE id = :article_id RETURNING cms_id"
)
_ARTICLE_AT = POLL_COLUMNS.index("article_id")  # where _BUMP_POLL returns it
_INSERT_CHOICES = "INSERT INTO ballot_choices (ballot_id, option_id) VALUES (?, ?)"
_UTC_TIME = UTCDateTime()  # one instance: type_processors caches per type object


class SqliteVoteWriter:
    """The guarded ballot insert, its choices and the counters on SQLite's driver connection:
    five statements, answered from their RETURNING (nothing is read back)."""

    dialects = frozenset({"sqlite"})
    counts_allowance = True

    def __init__(self, dialect: Dialect) -> None:
        self._times = type_processors(_UTC_TIME, dialect)
        poll_table = table_of(Poll)
        self._poll_results = [
            type_processors(poll_table.c[name].type, dialect)[1] for name in POLL_COLUMNS
        ]
        self._sql: dict[int, tuple[str, str]] = {}  # by the number of chosen options

    def _statements(self, n_options: int) -> tuple[str, str]:
        sql = self._sql.get(n_options)
        if sql is None:
            chosen = ", ".join(f":o{i}" for i in range(n_options))
            sql = self._sql[n_options] = (
                _INSERT_BALLOT.format(chosen=chosen),
                _BUMP_OPTIONS.format(chosen=chosen),
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
        """The vote's writes on the driver connection (`suspicion` is counted here instead)."""
        insert_ballot, bump_options = self._statements(len(ordered))
        to_db, _ = self._times
        chosen_ids = {f"o{i}": option_id for i, option_id in enumerate(ordered)}
        driver = cast("sqlite3.Connection", session.connection().connection.driver_connection)
        cursor = driver.cursor()
        try:
            cursor.execute(
                insert_ballot,
                {
                    "poll_id": poll_id,
                    "voter_key": voter.key,
                    "user_id": voter.user_id,
                    "ip_hash": context.ip_hash,
                    "created_at": to_db(now),
                    "since": to_db(now - timedelta(hours=1)),
                    "ip_allowance": context.ip_allowance if context.ip_hash else 0,
                    "burst": context.burst and not voter.is_member,
                    "n_choices": len(ordered),
                    "member": voter.is_member,
                    "everyone": VoterScope.EVERYONE.value,
                    **chosen_ids,
                },
            )
            inserted = cursor.fetchone()
            if inserted is None:
                return None
            ballot_id = inserted[0]
            cursor.executemany(_INSERT_CHOICES, [(ballot_id, option_id) for option_id in ordered])
            # Counters last: SQLite's write lock serialises whole transactions, so no row order
            # matters. The poll gives its fields for the answer, the article its cms_id.
            option_rows = cursor.execute(
                bump_options, {"poll_id": poll_id, **chosen_ids}
            ).fetchall()
            stamp = to_db(utcnow())
            poll_row = cursor.execute(
                _BUMP_POLL, {"updated_at": stamp, "poll_id": poll_id}
            ).fetchone()
            (cms_id,) = cursor.execute(
                _BUMP_ARTICLE, {"updated_at": stamp, "article_id": poll_row[_ARTICLE_AT]}
            ).fetchone()
        finally:
            cursor.close()
        options = tuple(
            OptionSnapshot(option_id, label, votes)
            for option_id, _, label, votes in sorted(option_rows, key=lambda r: r[1])
        )
        values = [
            process(v) if process is not None else v
            for process, v in zip(self._poll_results, poll_row, strict=True)
        ]
        written = written_poll(poll_id, values, options, cms_id)
        return VoteOutcome(ballot_id, now, True, list(ordered), written)
