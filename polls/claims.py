"""Claiming anonymous ballots at sign-in: one ballot per person per poll.

A fan who voted anonymously (a signed voter token, voter key "a:<token id>") and then signs in
from the same browser would otherwise vote a second time as "u:<user id>". At sign-in each
anonymous ballot this browser holds a token for becomes the account's:

- the account has no ballot on that poll: the anonymous ballot becomes the account's (its
  choices, time, suspicion and quarantine stay as they were); no counter changes;
- the account already voted on that poll: the account's ballot stays, the anonymous one is
  deleted, and when it was counted (not in quarantine) the counters lose it.

Ballots change first, counters last (options by ascending id, then polls, then articles, the
order every vote and quarantine follows), so a claim cannot deadlock with them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models import Article, Ballot, BallotChoice, PlayerRating, Poll, PollOption
from polls.ratings import rating_deltas, shift_player_counters

# A browser holds one voter cookie per poll it voted on; more than this many at one sign-in is
# not a fan's browser, and the rest simply stay anonymous.
MAX_CLAIMS = 50


@dataclass(frozen=True)
class DroppedBallot:
    """An anonymous ballot deleted because the account had voted on its poll already."""

    ballot_id: int
    poll_id: int
    voter_key: str
    ip_hash: str | None
    counted: bool
    poll_created_at: datetime


@dataclass
class ClaimResult:
    """Which polls' anonymous ballots became the account's, and which were dropped."""

    moved: list[int] = field(default_factory=list)  # poll ids
    dropped: list[DroppedBallot] = field(default_factory=list)


def account_key(user_id: int) -> str:
    """The voter key of a signed-in fan's ballots."""
    return f"u:{user_id}"


def claim_anonymous_ballots(
    session: Session, user_id: int, voter_keys: Mapping[int, str]
) -> ClaimResult:
    """Make this browser's anonymous ballots ({poll id: "a:<token id>"}) the account's.

    The account's own ballot wins where it has one; the anonymous one then leaves the tally.
    Flushes, never commits.
    """
    result = ClaimResult()
    mine = account_key(user_id)
    for poll_id in sorted(voter_keys)[:MAX_CLAIMS]:
        key = voter_keys[poll_id]
        if not key.startswith("a:"):
            continue
        anonymous = session.execute(
            select(Ballot.id, Ballot.ip_hash, Ballot.quarantined_at, Poll.created_at)
            .join(Poll, Poll.id == Ballot.poll_id)
            .where(Ballot.poll_id == poll_id, Ballot.voter_key == key)
        ).first()
        if anonymous is None:
            continue
        if _has_ballot(session, poll_id, mine) or not _move(session, anonymous.id, mine, user_id):
            result.dropped.append(
                DroppedBallot(
                    anonymous.id,
                    poll_id,
                    key,
                    anonymous.ip_hash,
                    anonymous.quarantined_at is None,
                    anonymous.created_at,
                )
            )
        else:
            result.moved.append(poll_id)
    if result.dropped:
        _drop(session, result.dropped)
    session.flush()
    return result


def _has_ballot(session: Session, poll_id: int, voter_key: str) -> bool:
    found = session.scalar(
        select(Ballot.id).where(Ballot.poll_id == poll_id, Ballot.voter_key == voter_key)
    )
    return found is not None


def _move(session: Session, ballot_id: int, voter_key: str, user_id: int) -> bool:
    """Give the ballot to the account; False when the account's own vote got there first."""
    try:
        with session.begin_nested():
            session.execute(
                update(Ballot)
                .where(Ballot.id == ballot_id)
                .values(voter_key=voter_key, user_id=user_id)
                .execution_options(synchronize_session=False)
            )
    except IntegrityError:  # (poll_id, voter_key) is unique: a concurrent vote of the account
        return False
    return True


def _drop(session: Session, dropped: list[DroppedBallot]) -> None:
    """Delete the duplicates, then take the counted ones off the counters (fixed order)."""
    ids = [d.ballot_id for d in dropped]
    counted = [d.ballot_id for d in dropped if d.counted]
    per_option: Counter[int] = Counter(
        session.scalars(select(BallotChoice.option_id).where(BallotChoice.ballot_id.in_(counted)))
        if counted
        else []
    )
    per_poll = Counter(d.poll_id for d in dropped if d.counted)
    # A player_ratings ballot's scores leave the players' counters too (before the rows go).
    per_player = rating_deltas(session, counted, -1) if counted else {}
    session.execute(delete(PlayerRating).where(PlayerRating.ballot_id.in_(ids)))
    session.execute(delete(BallotChoice).where(BallotChoice.ballot_id.in_(ids)))
    session.execute(
        delete(Ballot).where(Ballot.id.in_(ids)).execution_options(synchronize_session=False)
    )
    for option_id in sorted(per_option):
        session.execute(
            update(PollOption)
            .where(PollOption.id == option_id)
            .values(vote_count=PollOption.vote_count - per_option[option_id])
            .execution_options(synchronize_session=False)
        )
    shift_player_counters(session, per_player)
    per_article: Counter[int] = Counter()
    for poll_id in sorted(per_poll):
        article_id = session.scalar(
            update(Poll)
            .where(Poll.id == poll_id)
            .values(ballot_count=Poll.ballot_count - per_poll[poll_id])
            .returning(Poll.article_id)
            .execution_options(synchronize_session=False)
        )
        if article_id is not None:
            per_article[article_id] += per_poll[poll_id]
    for article_id in sorted(per_article):
        session.execute(
            update(Article)
            .where(Article.id == article_id)
            .values(vote_count=Article.vote_count - per_article[article_id])
            .execution_options(synchronize_session=False)
        )
