"""The vote write: its interface, what goes in and what comes out.

A writer inserts one ballot, its choices and the counters, guarded by the poll (it takes the
vote only while the poll is open at the vote's time, for this voter's scope, with at most
max_choices and every chosen option on this poll), or writes nothing and returns None (the
voter already has a ballot, or the poll does not take this vote). The rules around it (which
error, the existing ballot, the per-IP allowance in Redis) are polls.voting's.

Implementations: writes.votes_sqlite (plain SQL on SQLite's driver connection),
writes.votes_postgres (one statement sent to psycopg), writes.votes_core (the plain Core path,
the reference the others are held to). writes.registry chooses one per dialect.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy.orm import Session

from models import Ballot, Poll, ResultsVisibility, VoterScope
from writes.columns import BALLOT_COLUMNS, columns_named_by, table_of

if TYPE_CHECKING:  # a type only: writes/ sits below polls/ and imports nothing of it at run time
    from polls.allowance import RedisIpAllowance


@dataclass(frozen=True)
class Voter:
    """Who votes: "u:<id>" for a logged-in fan, "a:<token id>" for an anonymous token."""

    key: str
    user_id: int | None = None

    @property
    def is_member(self) -> bool:
        return self.user_id is not None


@dataclass(frozen=True)
class VoteContext:
    """Request facts the rules need (the view gathers them)."""

    ip_hash: str | None
    ip_allowance: int  # ballots per poll per IP hash per hour before marking; 0 = off
    burst: bool = False  # the voter token was issued in a spike
    editor: bool = False
    allowance: RedisIpAllowance | None = None  # the allowance in Redis; None: count the rows


@dataclass(frozen=True)
class OptionSnapshot:
    """An option as the vote saw it (its counter includes this transaction's increment)."""

    id: int
    label: str
    vote_count: int


@dataclass(frozen=True)
class PollSnapshot:
    """The poll as the vote read and wrote it: what the answer needs, without ORM objects.

    Duck-types the attributes `poll_state`, `results_visible` and `poll_results` read.
    """

    id: int
    article_id: int
    question: str
    max_choices: int
    opens_at: datetime | None
    closes_at: datetime | None
    results_visibility: ResultsVisibility
    voter_scope: VoterScope
    ballot_count: int
    options: tuple[OptionSnapshot, ...]
    article_cms_id: str | None = None
    created_at: datetime | None = None


@dataclass
class VoteOutcome:
    """The voter's ballot (new or existing) and the poll it was cast on (with its counters)."""

    ballot_id: int
    created_at: datetime
    created: bool
    option_ids: list[int] = field(default_factory=list)
    poll: PollSnapshot | None = None


class VoteWriter(Protocol):
    """Writes one ballot with its choices and counters, or nothing (then returns None)."""

    # True: the writer counts the per-IP allowance itself, inside its insert (exact under
    # SQLite's write lock) and ignores `suspicion`; False: the rules decide it (polls.voting).
    counts_allowance: bool

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
        """Insert the ballot for the options `ordered` (ascending ids), its choices and the
        counters (options by ascending id, the poll, the article) in the session's write
        transaction; None when the poll does not take this vote or the voter has a ballot."""
        ...


# What a vote's answer carries of the poll (PollSnapshot's fields, in table order): the load
# reads these, every writer's poll update returns them.
POLL_COLUMNS = columns_named_by(table_of(Poll), PollSnapshot)
BALLOT_TABLE = Ballot.__tablename__


def ballot_select(expressions: dict[str, str]) -> str:
    """`INSERT INTO ballots (<columns>) SELECT <values>` for the driver writers: each column
    from :<its name>, unless `expressions` gives it a SQL expression of its own."""
    return f"INSERT INTO {BALLOT_TABLE} ({', '.join(BALLOT_COLUMNS)}) SELECT " + ", ".join(
        expressions.get(name, f":{name}") for name in BALLOT_COLUMNS
    )


# The ballot insert's guard in the driver writers: the poll takes this vote (open at
# :created_at, the voter's scope, at most max_choices, every chosen option {chosen} on this
# poll). It is also the WHERE clause SQLite needs to parse INSERT … SELECT … ON CONFLICT.
POLL_TAKES_VOTE = (
    " WHERE polls.id = :poll_id"
    " AND (polls.opens_at IS NULL OR polls.opens_at <= :created_at)"
    " AND (polls.closes_at IS NULL OR polls.closes_at > :created_at)"
    " AND polls.max_choices >= :n_choices"
    " AND (:member OR polls.voter_scope = :everyone)"
    " AND (SELECT count(*) FROM poll_options WHERE poll_options.poll_id = :poll_id"
    " AND poll_options.id IN ({chosen})) = :n_choices"
)


def written_poll(
    poll_id: int, values: Any, options: tuple[OptionSnapshot, ...], cms_id: str | None
) -> PollSnapshot:
    """The poll as a vote read or wrote it, from POLL_COLUMNS' values (already converted)."""
    return PollSnapshot(
        id=poll_id,
        options=options,
        article_cms_id=cms_id,
        **dict(zip(POLL_COLUMNS, values, strict=True)),
    )
