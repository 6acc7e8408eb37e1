"""Checks shared by the PgBouncer and SIGKILL tests: the rows behind every acknowledged write
are there and whole, nothing is counted twice, and every counter equals its rows."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import Ballot, BallotChoice, Comment, ModerationAction, Poll
from tallies.recount import recount


def check_rows(
    session: Session,
    poll_id: int,
    acknowledged_votes: int,
    acknowledged_bodies: Collection[str],
    unanswered_votes: int = 0,
    unanswered_bodies: Collection[str] = (),
) -> None:
    """Assert the stored votes and comments match the acknowledged ones and the counters.

    `acknowledged_votes` counts the votes answered 201 (each from its own voter),
    `acknowledged_bodies` are the comment bodies answered 201 or 202 (each posted once). A
    write whose answer was lost (its worker killed) may or may not be stored, whole either way:
    `unanswered_votes` and `unanswered_bodies` bound those.
    """
    session.rollback()
    session.expire_all()
    ballots = list(session.scalars(select(Ballot).where(Ballot.poll_id == poll_id)))
    voter_keys = Counter(ballot.voter_key for ballot in ballots)
    assert all(n == 1 for n in voter_keys.values()), "a voter was counted twice"
    assert acknowledged_votes <= len(ballots) <= acknowledged_votes + unanswered_votes
    # Each ballot carries its choice: no ballot row without its ballot_choices row.
    choices = Counter(
        session.scalars(
            select(BallotChoice.ballot_id).where(
                BallotChoice.ballot_id.in_([b.id for b in ballots] or [0])
            )
        )
    )
    assert all(choices[b.id] == 1 for b in ballots), "a ballot without its choice"
    poll = session.get(Poll, poll_id)
    assert poll is not None and poll.ballot_count == len(ballots)

    comments = list(session.scalars(select(Comment)))
    stored_bodies = Counter(comment.body for comment in comments)
    missing = [body for body in acknowledged_bodies if stored_bodies[body] == 0]
    assert missing == [], f"acknowledged comments not stored: {missing[:3]}"
    assert all(n == 1 for n in stored_bodies.values()), "a comment stored twice"
    unknown = set(stored_bodies) - set(acknowledged_bodies) - set(unanswered_bodies)
    assert unknown == set(), f"comments stored though refused: {sorted(unknown)[:3]}"
    # Every comment has exactly its one "post" audit row (written in its transaction).
    posted = Counter(
        session.scalars(
            select(ModerationAction.target_id).where(
                ModerationAction.target_type == "comment", ModerationAction.action == "post"
            )
        )
    )
    assert all(posted[str(c.id)] == 1 for c in comments), "a comment without its audit row"
    assert sum(posted.values()) == len(comments), "an audit row without its comment"

    drifts = recount(session)
    session.rollback()
    assert drifts == [], drifts
    assert session.scalar(select(func.count()).select_from(Ballot)) == len(ballots)
