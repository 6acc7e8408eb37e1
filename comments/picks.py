"""Editor picks and pins: staff mark published comments "Uitgelicht"; an editor pins one comment
of their own above an article's thread ("Redactie: …").

Neither is a comment state (a featured comment stays published), so they do not go through the
state machine's transition table; like it, every change writes one audit row and retires the
article's cached thread pages (caching.touch_article). A comment that leaves `published` stops
showing in the section and the pin by itself: both read only published comments.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

import events
from caching import touch_article
from errors import Conflict, DomainError, NotFound
from lookups import get_or_404
from models import Article, Comment, CommentState, Role, User, utcnow
from moderation.audit import record_action

# Who marks comments "Uitgelicht"; who pins (their own comment only).
PICK_ROLES = (Role.MODERATOR, Role.EDITOR, Role.ADMIN)
PIN_ROLES = (Role.EDITOR, Role.ADMIN)
# How many picks the "Uitgelicht" section above a thread shows (the filter shows them all).
SECTION_SIZE = 5


def _comment(session: Session, comment_id: int) -> Comment:
    return get_or_404(
        session, Comment, comment_id, "comment_not_found", "Deze reactie bestaat niet."
    )


def _require(actor: User, roles: tuple[Role, ...], message: str) -> None:
    if actor.role not in roles:
        raise DomainError("forbidden", message, 403)


def _published(comment: Comment, code: str, message: str) -> None:
    if comment.state is not CommentState.PUBLISHED:
        raise Conflict(code, message, details={"state": comment.state.value})


def feature(session: Session, actor: User, comment_id: int, now: datetime | None = None) -> Comment:
    """Mark a published comment "Uitgelicht" (again: nothing changes); its author is told."""
    _require(actor, PICK_ROLES, "Enkel redacteurs en moderators lichten reacties uit.")
    comment = _comment(session, comment_id)
    _published(comment, "not_featurable", "Enkel een gepubliceerde reactie kan uitgelicht worden.")
    if comment.featured_at is not None:
        return comment
    comment.featured_at = now or utcnow()
    comment.featured_by_id = actor.id
    record_action(session, actor, "comment", comment.id, "feature", comment.state.value)
    touch_article(session, comment.article_id)
    session.flush()
    events.publish(
        session,
        "comment.featured",
        comment_id=comment.id,
        article_id=comment.article_id,
        author_id=comment.author_id,
        actor_id=actor.id,
    )
    return comment


def unfeature(session: Session, actor: User, comment_id: int) -> Comment:
    """Take a comment out of "Uitgelicht" (not featured: nothing changes)."""
    _require(actor, PICK_ROLES, "Enkel redacteurs en moderators lichten reacties uit.")
    comment = _comment(session, comment_id)
    if comment.featured_at is None:
        return comment
    comment.featured_at = None
    comment.featured_by_id = None
    record_action(session, actor, "comment", comment.id, "unfeature", comment.state.value)
    touch_article(session, comment.article_id)
    session.flush()
    return comment


def pin(session: Session, editor: User, article: Article, comment_id: int) -> Comment:
    """Pin the editor's own published comment above the article's thread, in place of the
    pinned one (if any)."""
    _require(editor, PIN_ROLES, "Enkel redacteurs pinnen een reactie vast.")
    comment = _comment(session, comment_id)
    if comment.article_id != article.id:
        raise NotFound("comment_not_found", "Deze reactie hoort niet bij dit artikel.")
    if comment.author_id != editor.id:
        raise DomainError("not_own_comment", "Je kan enkel je eigen reactie vastpinnen.", 403)
    _published(comment, "not_pinnable", "Enkel een gepubliceerde reactie kan vastgepind worden.")
    if article.pinned_comment_id == comment.id:
        return comment
    previous = article.pinned_comment_id
    article.pinned_comment_id = comment.id
    note = f"in plaats van reactie {previous}" if previous is not None else None
    record_action(
        session, editor, "article", article.cms_id, "pin", None, str(comment.id), note=note
    )
    touch_article(session, article.id)
    session.flush()
    return comment


def unpin(session: Session, editor: User, article: Article) -> None:
    """Unpin the article's pinned comment (none pinned: nothing changes)."""
    _require(editor, PIN_ROLES, "Enkel redacteurs pinnen een reactie vast.")
    if article.pinned_comment_id is None:
        return
    previous = article.pinned_comment_id
    article.pinned_comment_id = None
    record_action(session, editor, "article", article.cms_id, "unpin", str(previous), None)
    touch_article(session, article.id)
    session.flush()


def pinned_comment(session: Session, article: Article) -> Comment | None:
    """The article's pinned comment while it is published."""
    if article.pinned_comment_id is None:
        return None
    comment = session.get(Comment, article.pinned_comment_id)
    if comment is None or comment.state is not CommentState.PUBLISHED:
        return None
    return comment


def featured_comments(
    session: Session, article: Article, limit: int = SECTION_SIZE
) -> list[Comment]:
    """The article's published picks, latest pick first."""
    return list(
        session.scalars(
            select(Comment)
            .where(
                Comment.article_id == article.id,
                Comment.featured_at.is_not(None),
                Comment.state == CommentState.PUBLISHED,
            )
            .order_by(Comment.featured_at.desc(), Comment.id.desc())
            .limit(limit)
        )
    )
