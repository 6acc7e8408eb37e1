"""Rows by primary key, or the one 404 when there is none."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from errors import NotFound
from models import Comment

T = TypeVar("T")


def get_or_404(
    session: Session,
    model: type[T],
    ident: Any,
    code: str,
    message: str,
    *,
    visible: Callable[[T], bool] | None = None,
    **options: Any,
) -> T:
    """`session.get(model, ident, **options)`, or NotFound(code, message) when there is no such
    row or `visible` says the caller may not see it (a deleted comment, someone else's token)."""
    found = session.get(model, ident, **options)
    if found is None or (visible is not None and not visible(found)):
        raise NotFound(code, message)
    return found


def authors_comment(session: Session, comment_id: int, author_id: int) -> Comment:
    """One of the author's own comments, in any state; someone else's is the same 404 as none
    (an appeal or an undo does not reveal that a comment id exists)."""
    return get_or_404(
        session,
        Comment,
        comment_id,
        "comment_not_found",
        "Deze reactie bestaat niet.",
        visible=lambda comment: comment.author_id == author_id,
    )
