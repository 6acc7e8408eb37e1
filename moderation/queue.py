"""The moderation queues: which queue counters a comment counts in, and their counts.

The counters move only with a comment's state, through moderation.comment_states.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Comment, CommentState, QueueCounter

if TYPE_CHECKING:  # comment_states imports this module
    from moderation.comment_states import PostedComment

# Queue counters by name: one per state, plus "reported" (published with open reports: the
# Gemeld tab), "unreviewed" (published, no moderator looked yet: the Recent tab) and "appeals".
REPORTED = "reported"
UNREVIEWED = "unreviewed"
APPEALS = "appeals"


def queue_memberships(comment: Comment | PostedComment) -> set[str]:
    """The queue counters a comment counts in, derived from its columns."""
    if comment.state is None:
        return set()
    names = {comment.state.value}
    if comment.state is CommentState.PUBLISHED:
        if comment.queued_at is not None:
            names.add(REPORTED)
        if comment.reviewed_at is None:
            names.add(UNREVIEWED)
    return names


def queue_counts(session: Session) -> dict[str, int]:
    """Every queue counter by name."""
    return {
        name: count
        for name, count in session.execute(select(QueueCounter.name, QueueCounter.count))
    }
