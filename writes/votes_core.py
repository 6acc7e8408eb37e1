"""The vote as plain Core statements: the reference the driver-level writers are held to.

Readable rather than fast: the guard is a SELECT, then the ballot insert, its choices, the
counters in the fixed order (options by ascending id, the poll, the article) and a read of
what they became. Dialects without a writer of their own use it; the parity tests
(tests/test_writes_parity.py) hold every other vote writer to what it writes.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Dialect, func, insert, or_, select, true, update
from sqlalchemy.orm import Session

from db import insert_or_nothing
from models import Article, Ballot, BallotChoice, Poll, PollOption, VoterScope
from writes.columns import table_of
from writes.votes import (
    POLL_COLUMNS,
    OptionSnapshot,
    VoteContext,
    VoteOutcome,
    Voter,
    written_poll,
)


class CoreVoteWriter:
    """One ballot with its choices and counters, in Core statements through the session."""

    dialects: frozenset[str] | None = None  # any dialect
    counts_allowance = False

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect

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
        """The guard, then the ballot, its choices, the counters and the poll they left."""
        on_poll = select(func.count()).where(
            PollOption.poll_id == poll_id, PollOption.id.in_(ordered)
        )
        takes_vote = session.scalar(
            select(Poll.id)
            .where(
                Poll.id == poll_id,
                or_(Poll.opens_at.is_(None), Poll.opens_at <= now),
                or_(Poll.closes_at.is_(None), Poll.closes_at > now),
                Poll.max_choices >= len(ordered),
                true() if voter.is_member else Poll.voter_scope == VoterScope.EVERYONE,
                on_poll.scalar_subquery() == len(ordered),
            )
            .with_for_update(read=True, key_share=True)
        )
        if takes_vote is None:
            return None
        ballot_id = insert_or_nothing(
            session,
            Ballot,
            {
                "poll_id": poll_id,
                "voter_key": voter.key,
                "user_id": voter.user_id,
                "ip_hash": context.ip_hash,
                "created_at": now,
                "is_suspicious": suspicion is not None,
                "suspicion": suspicion,
                "quarantined_at": None,
            },
            ["poll_id", "voter_key"],
        )
        if ballot_id is None:
            return None
        session.execute(
            insert(BallotChoice), [{"ballot_id": ballot_id, "option_id": o} for o in ordered]
        )
        for option_id in ordered:  # ascending ids: the fixed lock order
            session.execute(
                update(PollOption)
                .where(PollOption.id == option_id)
                .values(vote_count=PollOption.vote_count + 1)
                .execution_options(synchronize_session=False)
            )
        article_id = session.scalar(
            update(Poll)
            .where(Poll.id == poll_id)
            .values(ballot_count=Poll.ballot_count + 1)
            .returning(Poll.article_id)
            .execution_options(synchronize_session=False)
        )
        cms_id = session.scalar(
            update(Article)
            .where(Article.id == article_id)
            .values(vote_count=Article.vote_count + 1)
            .returning(Article.cms_id)
            .execution_options(synchronize_session=False)
        )
        polled = session.execute(
            select(*(table_of(Poll).c[name] for name in POLL_COLUMNS)).where(Poll.id == poll_id)
        ).one()
        options = tuple(
            OptionSnapshot(row.id, row.label, row.vote_count)
            for row in session.execute(
                select(PollOption.id, PollOption.label, PollOption.vote_count)
                .where(PollOption.poll_id == poll_id)
                .order_by(PollOption.position)
            )
        )
        written = written_poll(poll_id, tuple(polled), options, cms_id)
        return VoteOutcome(ballot_id, now, True, list(ordered), written)
