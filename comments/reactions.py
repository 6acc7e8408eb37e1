""""Sterk": one reaction per reader per comment, toggled, counted on the comment row.

The unique constraint on reactions (comment_id, user_id) is the truth: a second "Sterk" (a
double click, two tabs, a retry) inserts nothing and changes nothing. The counter
comments.reaction_count moves in the same transaction as the row it counts, with an atomic
UPDATE (concurrent reactions on one comment all count), and `tribune recount` repairs it from
the rows. Services take a Session and flush; the views commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, delete, select, update
from sqlalchemy.orm import Session

from caching import touch_article
from comments.services import check_can_post, check_verified
from db import insert_or_nothing
from errors import Conflict, NotFound
from models import Comment, CommentState, Reaction, User, utcnow
from moderation.rules import PostingPolicy

NOT_FOUND_NL = "Deze reactie bestaat niet (meer)."


@dataclass(frozen=True)
class ReactionState:
    """A comment's "Sterk" count and whether this reader gave one, after the change."""

    comment_id: int
    reaction_count: int
    reacted: bool
    changed: bool


def _comment(session: Session, comment_id: int) -> Comment:
    comment = session.get(Comment, comment_id)
    if comment is None:
        raise NotFound("comment_not_found", NOT_FOUND_NL)
    return comment


def _count(session: Session, comment_id: int) -> int:
    # After this transaction's UPDATE (which holds the row lock): the count as it now stands.
    return int(session.scalar(select(Comment.reaction_count).where(Comment.id == comment_id)) or 0)


def _move_counter(session: Session, comment_id: int, by: int) -> int:
    """Move the comment's counter atomically and return it as it now stands (the UPDATE holds
    the row lock, so concurrent reactions all count). A reaction is no edit of the comment:
    updated_at (the moderation tabs' time) stays."""
    count = session.execute(
        update(Comment)
        .where(Comment.id == comment_id)
        .values(reaction_count=Comment.reaction_count + by, updated_at=Comment.updated_at)
        .returning(Comment.reaction_count)
        .execution_options(synchronize_session=False)
    ).scalar_one()
    return int(count)


def react(
    session: Session,
    reader: User,
    comment_id: int,
    policy: PostingPolicy,
    now: datetime | None = None,
) -> ReactionState:
    """Give a published comment of someone else a "Sterk" (once; again changes nothing)."""
    now = now or utcnow()
    check_can_post(reader, now)
    check_verified(reader, policy)
    comment = _comment(session, comment_id)
    if comment.state is not CommentState.PUBLISHED:
        raise Conflict(
            "comment_not_published", "Op deze reactie kan je (nu) niet reageren met Sterk."
        )
    if comment.author_id == reader.id:
        raise Conflict("own_comment", "Je eigen reactie kan je geen Sterk geven.")
    inserted = insert_or_nothing(
        session,
        Reaction,
        {"comment_id": comment.id, "user_id": reader.id, "created_at": now},
        ["comment_id", "user_id"],
    )
    if inserted is None:
        return ReactionState(comment.id, _count(session, comment.id), True, False)
    count = _move_counter(session, comment.id, +1)
    touch_article(session, comment.article_id)
    return ReactionState(comment.id, count, True, True)


def unreact(session: Session, reader: User, comment_id: int) -> ReactionState:
    """Take one's "Sterk" back (none given: nothing changes). Allowed in any state of the
    comment and of the reader: it only removes the reader's own row."""
    comment = _comment(session, comment_id)
    # A DELETE's result is a CursorResult (rowcount); Session.execute is typed Result.
    removed = cast(
        "CursorResult[Any]",
        session.execute(
            delete(Reaction)
            .where(Reaction.comment_id == comment.id, Reaction.user_id == reader.id)
            .execution_options(synchronize_session=False)
        ),
    ).rowcount
    if not removed:
        return ReactionState(comment.id, _count(session, comment.id), False, False)
    count = _move_counter(session, comment.id, -removed)
    if comment.state is CommentState.PUBLISHED:
        touch_article(session, comment.article_id)
    return ReactionState(comment.id, count, False, True)


def remove_readers_reactions(session: Session, user_id: int) -> int:
    """Delete every reaction of one reader and lower the counters they counted in (account
    deletion); returns how many went. Counters first, in ascending comment id order."""
    comment_ids = list(
        session.scalars(
            select(Reaction.comment_id)
            .where(Reaction.user_id == user_id)
            .order_by(Reaction.comment_id)
        )
    )
    if not comment_ids:
        return 0
    session.execute(
        update(Comment)
        .where(Comment.id.in_(comment_ids))
        .values(reaction_count=Comment.reaction_count - 1, updated_at=Comment.updated_at)
        .execution_options(synchronize_session=False)
    )
    session.execute(delete(Reaction).where(Reaction.user_id == user_id))
    published = session.execute(
        select(Comment.article_id)
        .where(Comment.id.in_(comment_ids), Comment.state == CommentState.PUBLISHED)
        .distinct()
    )
    for (article_id,) in published:
        touch_article(session, article_id)
    return len(comment_ids)


def readers_reactions(session: Session, user_id: int) -> list[Reaction]:
    """One reader's reactions, oldest first (the GDPR export)."""
    return list(
        session.scalars(
            select(Reaction)
            .where(Reaction.user_id == user_id)
            .order_by(Reaction.created_at, Reaction.id)
        )
    )
