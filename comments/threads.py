"""Reading threads: a page of top-level comments with their replies, in two queries."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Float, and_, bindparam, func, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.functions import FunctionElement

from comments.picks import featured_comments, pinned_comment
from errors import Invalid
from models import Appeal, Article, Comment, CommentState, Reaction, ThreadSort, User, utcnow
from models.base import UTCDateTime
from polls.badges import article_option, badges_for, voters_subquery

# Replies of deleted comments stay visible; the deleted one shows as "verwijderd".
VISIBLE_STATES = (CommentState.PUBLISHED, CommentState.DELETED)


# Sort "beste" (docs/design.md): a Hacker-News-like score that lets a comment's "Sterk"
# reactions lift it while its age lowers it, so a fresh comment with a few reactions can pass
# an old one with many: (reactions + 1) / (age in hours + 2) ^ GRAVITY.
GRAVITY = 1.8
# The words of the page's `volgorde` parameter; the API takes the values (and "beste").
SORT_WORDS = {"nieuwste": ThreadSort.NEWEST, "oudste": ThreadSort.OLDEST, "beste": ThreadSort.BEST}
SORT_NAMES = {
    **{sort.value: sort for sort in ThreadSort},
    **SORT_WORDS,
}
WORD_OF_SORT = {sort: word for word, sort in SORT_WORDS.items()}


def parse_sort(raw: str | None, default: ThreadSort) -> ThreadSort | None:
    """The sort a request names (an API value or a page word), the default when it names
    none, None when it names something else."""
    if raw is None or raw == "":
        return default
    return SORT_NAMES.get(raw)


class hours_since(FunctionElement[float]):
    """Hours from a timestamp column to a given moment, in SQL (both databases)."""

    type = Float()
    inherit_cache = True
    name = "hours_since"


@compiles(hours_since)
def _hours_since_postgresql(element: hours_since, compiler: Any, **kw: Any) -> str:
    then, now = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"(EXTRACT(EPOCH FROM ({now} - {then})) / 3600.0)"


@compiles(hours_since, "sqlite")
def _hours_since_sqlite(element: hours_since, compiler: Any, **kw: Any) -> str:
    then, now = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"((julianday({now}) - julianday({then})) * 24.0)"


def best_score(now: datetime) -> ColumnElement[Any]:
    """The "beste" score of a comment at `now`, as an SQL expression."""
    age = hours_since(Comment.created_at, bindparam("score_now", now, type_=UTCDateTime))
    return (Comment.reaction_count + 1) / func.power(age + 2.0, GRAVITY)


def thread_order(sort: ThreadSort, now: datetime) -> tuple[ColumnElement[Any], ...]:
    """ORDER BY of a page of top-level comments; the id breaks ties the same way."""
    if sort is ThreadSort.OLDEST:
        return (Comment.created_at.asc(), Comment.id.asc())
    if sort is ThreadSort.BEST:
        return (best_score(now).desc(), Comment.id.desc())
    return (Comment.created_at.desc(), Comment.id.asc())


@dataclass
class ThreadNode:
    comment: Comment
    author_name: str
    replies: list[ThreadNode] = field(default_factory=list)
    # The author's vote badge under this article: (option id, label) per shown choice.
    badge: list[tuple[int, str]] = field(default_factory=list)

    @property
    def is_deleted(self) -> bool:
        return self.comment.state is CommentState.DELETED

    @property
    def badge_text(self) -> str | None:
        """The labels after "stemde: " (None: no badge)."""
        return ", ".join(label for _, label in self.badge) or None

    @property
    def featured(self) -> bool:
        return self.comment.featured_at is not None


@dataclass(frozen=True)
class ThreadFilter:
    """Which comments a filtered thread lists (flat, newest or oldest first): the picks
    ("?filter=uitgelicht") or those whose author's badge shows one answer ("?stemde=<id>")."""

    featured: bool = False
    voted_option_id: int | None = None

    @property
    def active(self) -> bool:
        return self.featured or self.voted_option_id is not None


@dataclass
class ThreadPage:
    threads: list[ThreadNode]
    page: int
    per_page: int
    total_threads: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total_threads // self.per_page))


def thread_filter(
    session: Session, article: Article, featured: str | None, stemde: str | None
) -> ThreadFilter:
    """The thread filter a request names (?filter=uitgelicht, ?stemde=<option id>), or 422."""
    if featured not in (None, "", "uitgelicht"):
        raise Invalid("invalid_parameter", "filter is 'uitgelicht'.")
    option_id = None
    if stemde not in (None, ""):
        option_id = article_option(session, article.id, stemde).id
    return ThreadFilter(featured=featured == "uitgelicht", voted_option_id=option_id)


def published_threads(
    session: Session,
    article: Article,
    page: int = 1,
    per_page: int = 20,
    sort: ThreadSort = ThreadSort.NEWEST,
    now: datetime | None = None,
    only: ThreadFilter | None = None,
    also_badge: Iterable[ThreadNode] = (),
) -> ThreadPage:
    """One page of top-level threads, each with its visible replies nested under their parent
    (replies stay in time order under their top-level comment, whatever the sort); with a
    filter, one page of the matching published comments, flat (oldest first only when the sort
    is oldest; "beste" lists a filter newest first). Every node gets its author's vote badge,
    and so do `also_badge`'s (the highlights): one query for all."""
    page = max(1, page)
    if only is not None and only.active:
        newest_first = sort is not ThreadSort.OLDEST
        return _filtered(session, article, page, per_page, newest_first, only, also_badge)
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
    order = thread_order(sort, now or utcnow())
    roots = list(
        session.scalars(
            roots_stmt.order_by(*order).limit(per_page).offset((page - 1) * per_page)
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
    names = _names(session, {c.author_id for c in roots} | {c.author_id for c in replies})
    nodes = {c.id: ThreadNode(c, names.get(c.author_id, "?")) for c in [*roots, *replies]}
    for child in replies:
        parent = nodes.get(child.parent_id) if child.parent_id else None
        # A reply whose parent is hidden (held, removed) hangs under the thread's root.
        (parent or nodes[child.root_id]).replies.append(nodes[child.id])  # type: ignore[index]  # a reply's root_id is set
    for node in nodes.values():
        node.replies = [child for child in node.replies if _shown(child)]
    attach_badges(session, article, [*nodes.values(), *also_badge])
    return ThreadPage([nodes[r.id] for r in roots], page, per_page, total)


def _names(session: Session, author_ids: set[int]) -> dict[int, str]:
    if not author_ids:
        return {}
    rows = session.execute(select(User.id, User.username).where(User.id.in_(author_ids)))
    return {user_id: name for user_id, name in rows}


def attach_badges(session: Session, article: Article, nodes: Iterable[ThreadNode]) -> None:
    """Give every node its author's vote badge: one query for the whole page."""
    shown = [node for node in nodes if not node.is_deleted]
    found = badges_for(session, article.id, {node.comment.author_id for node in shown})
    for node in shown:
        node.badge = found.get(node.comment.author_id, [])


def _filtered(
    session: Session,
    article: Article,
    page: int,
    per_page: int,
    newest_first: bool,
    only: ThreadFilter,
    also_badge: Iterable[ThreadNode],
) -> ThreadPage:
    """The matching published comments of the article (replies too), flat."""
    stmt = select(Comment).where(
        Comment.article_id == article.id, Comment.state == CommentState.PUBLISHED
    )
    if only.featured:
        stmt = stmt.where(Comment.featured_at.is_not(None))
    if only.voted_option_id is not None:
        stmt = stmt.where(
            Comment.author_id.in_(voters_subquery(article.id, only.voted_option_id))
        )
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    order = Comment.created_at.desc() if newest_first else Comment.created_at.asc()
    paged = stmt.order_by(order, Comment.id).limit(per_page).offset((page - 1) * per_page)
    found = list(session.scalars(paged))
    names = _names(session, {c.author_id for c in found})
    nodes = [ThreadNode(c, names.get(c.author_id, "?")) for c in found]
    attach_badges(session, article, [*nodes, *also_badge])
    return ThreadPage(nodes, page, per_page, total)


@dataclass
class Highlights:
    """Above the thread: the editor's pinned comment and the "Uitgelicht" section."""

    pinned: ThreadNode | None
    featured: list[ThreadNode]

    def nodes(self) -> list[ThreadNode]:
        return ([self.pinned] if self.pinned is not None else []) + self.featured


def thread_highlights(session: Session, article: Article) -> Highlights:
    """The pinned comment and the latest picks, with names (their badges come with the page's:
    published_threads(also_badge=highlights.nodes()))."""
    pinned = pinned_comment(session, article)
    featured = featured_comments(session, article)
    shown = ([pinned] if pinned is not None else []) + featured
    names = _names(session, {c.author_id for c in shown})
    nodes = [ThreadNode(c, names.get(c.author_id, "?")) for c in shown]
    if pinned is not None:
        return Highlights(nodes[0], nodes[1:])
    return Highlights(None, nodes)


def _shown(node: ThreadNode) -> bool:
    """Deleted replies stay as "verwijderd" only when something visible hangs under them."""
    if not node.is_deleted:
        return True
    node.replies = [child for child in node.replies if _shown(child)]
    return bool(node.replies)


def reacted_ids(session: Session, user_id: int, comment_ids: list[int]) -> set[int]:
    """Which of these comments the reader gave a "Sterk" (one indexed read)."""
    if not comment_ids:
        return set()
    return set(
        session.scalars(
            select(Reaction.comment_id).where(
                Reaction.user_id == user_id, Reaction.comment_id.in_(comment_ids)
            )
        )
    )


def node_ids(nodes: list[ThreadNode]) -> list[int]:
    """Every comment id of these threads, replies included."""
    found: list[int] = []
    stack = list(nodes)
    while stack:
        node = stack.pop()
        found.append(node.comment.id)
        stack.extend(node.replies)
    return found


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
