"""Rebuild every counter from the rows it counts, and report the drift that was fixed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC
from typing import Any

from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import Session

from caching import touch_article
from models import (
    Appeal,
    AppealState,
    Article,
    Ballot,
    BallotChoice,
    Comment,
    CommentState,
    Poll,
    PollOption,
    QueueCounter,
    Reaction,
    User,
)
from moderation.queue import APPEALS, REPORTED, UNREVIEWED
from polls.predictions import recount_points
from polls.ratings import recount_players


@dataclass(frozen=True)
class Drift:
    counter: str  # e.g. "articles.comment_count"
    key: str  # the row's id
    stored: int | None  # None: a prediction's points before its result
    actual: int | None


def _fix(drifts: list[Drift], counter: str, rows: list, actual_by_id: dict, attribute: str) -> None:
    for row in rows:
        actual = int(actual_by_id.get(row.id, 0))
        stored = getattr(row, attribute)
        if stored != actual:
            drifts.append(Drift(counter, str(getattr(row, "cms_id", row.id)), stored, actual))
            setattr(row, attribute, actual)


def _grouped(session: Session, stmt: Select[Any]) -> dict[Any, Any]:
    return {key: value for key, value in session.execute(stmt)}


def recount(session: Session) -> list[Drift]:
    """Recompute article, poll, option, player (ratings) and author counters and the points
    of scored predictions; flush the fixes."""
    drifts: list[Drift] = []
    counted = Ballot.quarantined_at.is_(None)

    comments = _grouped(
        session,
        select(Comment.article_id, func.count())
        .where(Comment.state == CommentState.PUBLISHED)
        .group_by(Comment.article_id),
    )
    votes = _grouped(
        session,
        select(Poll.article_id, func.count(Ballot.id))
        .join(Ballot, Ballot.poll_id == Poll.id)
        .where(counted)
        .group_by(Poll.article_id),
    )
    articles = list(session.scalars(select(Article).order_by(Article.id)))
    _fix(drifts, "articles.comment_count", articles, comments, "comment_count")
    _fix(drifts, "articles.vote_count", articles, votes, "vote_count")

    polls = list(session.scalars(select(Poll).order_by(Poll.id)))
    ballots = _grouped(
        session, select(Ballot.poll_id, func.count()).where(counted).group_by(Ballot.poll_id)
    )
    _fix(drifts, "polls.ballot_count", polls, ballots, "ballot_count")

    options = list(session.scalars(select(PollOption).order_by(PollOption.id)))
    choices = _grouped(
        session,
        select(BallotChoice.option_id, func.count())
        .join(Ballot, Ballot.id == BallotChoice.ballot_id)
        .where(counted)
        .group_by(BallotChoice.option_id),
    )
    _fix(drifts, "poll_options.vote_count", options, choices, "vote_count")
    drifts.extend(Drift(*drift) for drift in recount_players(session))
    drifts.extend(Drift(*drift) for drift in recount_points(session))

    users = list(session.scalars(select(User).order_by(User.id)))
    for state, attribute in (
        (CommentState.PUBLISHED, "published_count"),
        (CommentState.HELD, "held_count"),
        (CommentState.REJECTED, "rejected_count"),
    ):
        per_author = _grouped(
            session,
            select(Comment.author_id, func.count())
            .where(Comment.state == state)
            .group_by(Comment.author_id),
        )
        _fix(drifts, f"users.{attribute}", users, per_author, attribute)
    _recount_reactions(session, drifts)
    _raise_last_rejected(session, users, drifts)
    _queue_held_comments(session, drifts)
    _recount_queues(session, drifts)
    session.flush()
    return drifts


def _recount_reactions(session: Session, drifts: list[Drift]) -> None:
    """comments.reaction_count: only the comments whose count differs are read (one query)."""
    actual = (
        select(func.count(Reaction.id))
        .where(Reaction.comment_id == Comment.id)
        .correlate(Comment)
        .scalar_subquery()
    )
    wrong = session.execute(
        select(Comment, actual).where(Comment.reaction_count != actual).order_by(Comment.id)
    )
    for comment, count in wrong:
        stored = comment.reaction_count
        drifts.append(Drift("comments.reaction_count", str(comment.id), stored, count))
        # No edit of the comment: updated_at (the moderation tabs' time) stays.
        session.execute(
            update(Comment)
            .where(Comment.id == comment.id)
            .values(reaction_count=count, updated_at=Comment.updated_at)
            .execution_options(synchronize_session=False)
        )
        if comment.state is CommentState.PUBLISHED:
            touch_article(session, comment.article_id)


def _raise_last_rejected(session: Session, users: list[User], drifts: list[Drift]) -> None:
    """users.last_rejected_at may not lie before any rejected or removed comment of the author
    (posting skips the rejection-rate query on it); raise it where it does. Reported in epoch
    seconds."""
    newest = _grouped(
        session,
        select(Comment.author_id, func.max(Comment.created_at))
        .where(Comment.state.in_((CommentState.REJECTED, CommentState.REMOVED)))
        .group_by(Comment.author_id),
    )
    for user in users:
        created = newest.get(user.id)
        if created is None:
            continue
        if created.tzinfo is None:  # max() over SQLite text comes back as a naive UTC string
            created = created.replace(tzinfo=UTC)
        if user.last_rejected_at is None or user.last_rejected_at < created:
            stored = int(user.last_rejected_at.timestamp()) if user.last_rejected_at else 0
            drifts.append(
                Drift("users.last_rejected_at", str(user.id), stored, int(created.timestamp()))
            )
            user.last_rejected_at = created


def _queue_held_comments(session: Session, drifts: list[Drift]) -> None:
    """Every held comment has queued_at: the Wachtrij lists by it, through indexes that hold
    only comments with one. A held comment without it would never be seen; it gets the time of
    its last change. Reported in epoch seconds."""
    unqueued = session.scalars(
        select(Comment).where(Comment.state == CommentState.HELD, Comment.queued_at.is_(None))
    )
    for comment in unqueued:
        comment.queued_at = comment.updated_at or comment.created_at
        drifts.append(
            Drift("comments.queued_at", str(comment.id), 0, int(comment.queued_at.timestamp()))
        )


def _recount_queues(session: Session, drifts: list[Drift]) -> None:
    """Queue counters: comments per state, and published comments with open reports."""
    actual = {
        state.value: count
        for state, count in session.execute(
            select(Comment.state, func.count()).group_by(Comment.state)
        )
    }
    published = Comment.state == CommentState.PUBLISHED
    actual[REPORTED] = (
        session.scalar(select(func.count()).where(published, Comment.queued_at.is_not(None))) or 0
    )
    actual[UNREVIEWED] = (
        session.scalar(select(func.count()).where(published, Comment.reviewed_at.is_(None))) or 0
    )
    actual[APPEALS] = (
        session.scalar(select(func.count()).where(Appeal.state == AppealState.PENDING)) or 0
    )
    stored = {row.name: row for row in session.scalars(select(QueueCounter))}
    for name in sorted(set(actual) | set(stored) | {s.value for s in CommentState}):
        value = actual.get(name, 0)
        row = stored.get(name)
        if row is None:
            if value:
                drifts.append(Drift("queue_counters.count", name, 0, value))
            session.add(QueueCounter(name=name, count=value))
        elif row.count != value:
            drifts.append(Drift("queue_counters.count", name, row.count, value))
            row.count = value
