"""Reading threads: a page of top-level comments with their replies, in two queries."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, aliased

from models import Appeal, Article, Comment, CommentState, User

# Replies of deleted comments stay visible; the deleted one shows as "verwijderd".
VISIBLE_STATES = (CommentState.PUBLISHED, CommentState.DELETED)


@dataclass
class ThreadNode:
    comment: Comment
    author_name: str
    replies: list[ThreadNode] = field(default_factory=list)

    @property
    def is_deleted(self) -> bool:
        return self.comment.state is CommentState.DELETED


@dataclass
class ThreadPage:
    threads: list[ThreadNode]
    page: int
    per_page: int
    total_threads: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total_threads // self.per_page))


def published_threads(
    session: Session, article: Article, page: int = 1, per_page: int = 20, newest_first: bool = True
) -> ThreadPage:
    """One page of top-level threads, each with its visible replies nested under their parent."""
    page = max(1, page)
    reply = aliased(Comment)
    has_visible_reply = (
        select(reply.id)
        .where(reply.root_id == Comment.id, reply.state == CommentState.PUBLISHED)
        .exists()
    )
    # A deleted comment keeps its place only while published replies hang under it.
    roots_stmt = select(Comment).where(
        Comment.article_id == article.id,
        Comment.parent_id.is_(None),
        or_(
            Comment.state == CommentState.PUBLISHED,
            and_(Comment.state == CommentState.DELETED, has_visible_reply),
        ),
    )
    total = session.scalar(select(func.count()).select_from(roots_stmt.subquery())) or 0
    order = Comment.created_at.desc() if newest_first else Comment.created_at.asc()
    roots = list(
        session.scalars(
            roots_stmt.order_by(order, Comment.id).limit(per_page).offset((page - 1) * per_page)
        )
    )
    replies: list[Comment] = []
    if roots:
        replies = list(
            session.scalars(
                select(Comment)
                .where(
                    Comment.root_id.in_([root.id for root in roots]),
                    Comment.state.in_(VISIBLE_STATES),
                )
                .order_by(Comment.created_at, Comment.id)
            )
        )
    author_ids = {c.author_id for c in roots} | {c.author_id for c in replies}
    names: dict[int, str] = {}
    if author_ids:
        rows = session.execute(select(User.id, User.username).where(User.id.in_(author_ids)))
        names = {user_id: name for user_id, name in rows}
    nodes = {c.id: ThreadNode(c, names.get(c.author_id, "?")) for c in [*roots, *replies]}
    for child in replies:
        parent = nodes.get(child.parent_id) if child.parent_id else None
        # A reply whose parent is hidden (held, removed) hangs under the thread's root.
        (parent or nodes[child.root_id]).replies.append(nodes[child.id])  # type: ignore[index]  # a reply's root_id is set
    for node in nodes.values():
        node.replies = [child for child in node.replies if _shown(child)]
    return ThreadPage([nodes[r.id] for r in roots], page, per_page, total)


def _shown(node: ThreadNode) -> bool:
    """Deleted replies stay as "verwijderd" only when something visible hangs under them."""
    if not node.is_deleted:
        return True
    node.replies = [child for child in node.replies if _shown(child)]
    return bool(node.replies)


def authors_pending(
    session: Session, article: Article, author_id: int, limit: int = 20
) -> tuple[list[Comment], dict[int, Appeal]]:
    """The author's comments on an article that others do not see (held, rejected, removed) or
    that they appealed (so they see the outcome), newest first, with their appeals."""
    comments = list(
        session.scalars(
            select(Comment)
            .where(
                Comment.article_id == article.id,
                Comment.author_id == author_id,
                or_(
                    Comment.state.in_(
                        (CommentState.HELD, CommentState.REJECTED, CommentState.REMOVED)
                    ),
                    Comment.id.in_(select(Appeal.comment_id).where(Appeal.author_id == author_id)),
                ),
            )
            .order_by(Comment.created_at.desc())
            .limit(limit)
        )
    )
    appeals: dict[int, Appeal] = {}
    if comments:
        appeals = {
            appeal.comment_id: appeal
            for appeal in session.scalars(
                select(Appeal).where(Appeal.comment_id.in_([c.id for c in comments]))
            )
        }
    return comments, appeals
