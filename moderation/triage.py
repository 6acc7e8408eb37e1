"""Reading the moderation queue: tabs, filters, sorts, and everything one item shows."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from markupsafe import Markup, escape
from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session

from models import (
    Appeal,
    AppealState,
    Article,
    Comment,
    CommentState,
    Flag,
    ModerationAction,
    QueueCounter,
    Report,
    ReportOutcome,
    User,
    UserNote,
    utcnow,
)
from moderation.queue import APPEALS, REPORTED, UNREVIEWED

TABS = ("wachtrij", "gemeld", "recent", "goedgekeurd", "afgewezen", "bezwaren")
TAB_LABELS = {
    "wachtrij": "Wachtrij",
    "gemeld": "Gemeld",
    "recent": "Recent",
    "goedgekeurd": "Goedgekeurd",
    "afgewezen": "Afgewezen",
    "bezwaren": "Bezwaren",
}
SORTS = {"oudste": "Oudste eerst", "meldscore": "Hoogste meldscore", "ernst": "Ernstigste signaal"}
PAGE_SIZE = 25


@dataclass(frozen=True)
class QueueFilter:
    tab: str = "wachtrij"
    article: str | None = None  # CMS id
    reason: str | None = None
    author: str | None = None  # username
    sort: str = "oudste"
    page: int = 1


@dataclass
class ReporterRecord:
    upheld: int = 0
    dismissed: int = 0


@dataclass
class QueueItem:
    comment: Comment
    article: Article
    author: User
    flags: list[Flag] = field(default_factory=list)
    reports: list[tuple[Report, str, ReporterRecord]] = field(default_factory=list)
    parent: Comment | None = None
    parent_author: str | None = None
    notes: list[UserNote] = field(default_factory=list)
    recent_rejections: int = 0
    bans: int = 0
    appeal: Appeal | None = None
    highlighted: Markup = Markup("")


def tab_counts(session: Session) -> dict[str, int]:
    """Counts per tab, read from the counter rows the state machine keeps."""
    counters = {
        name: count
        for name, count in session.execute(select(QueueCounter.name, QueueCounter.count))
    }
    published = counters.get(CommentState.PUBLISHED.value, 0)
    unreviewed = counters.get(UNREVIEWED, 0)
    return {
        "wachtrij": counters.get(CommentState.HELD.value, 0),
        "gemeld": counters.get(REPORTED, 0),
        "recent": unreviewed,
        "goedgekeurd": max(0, published - unreviewed),
        "afgewezen": counters.get(CommentState.REJECTED.value, 0)
        + counters.get(CommentState.REMOVED.value, 0),
        "bezwaren": counters.get(APPEALS, 0),
    }


def oldest_waiting(session: Session, now: datetime | None = None) -> int | None:
    """Seconds the oldest held comment has waited (one index seek), or None."""
    oldest = session.scalar(
        select(Comment.queued_at)
        .where(Comment.state == CommentState.HELD, Comment.queued_at.is_not(None))
        .order_by(Comment.queued_at)
        .limit(1)
    )
    if oldest is None:
        return None
    return max(0, int(((now or utcnow()) - oldest).total_seconds()))


# The sorts of the two queues (Wachtrij, Gemeld).
QUEUE_SORTS: dict[str, tuple[ColumnElement[Any], ...]] = {
    "oudste": (Comment.queued_at.asc(), Comment.id.asc()),
    "meldscore": (Comment.report_score.desc(), Comment.id.desc()),
    "ernst": (Comment.top_severity.desc(), Comment.queued_at.asc()),
}


def _base_query(session: Session, flt: QueueFilter) -> Select[Any]:
    stmt = select(Comment)
    order: tuple[ColumnElement[Any], ...]
    if flt.tab == "wachtrij":
        # Every held comment has queued_at; saying so lets the partial queue indexes serve.
        stmt = stmt.where(Comment.state == CommentState.HELD, Comment.queued_at.is_not(None))
        order = QUEUE_SORTS[flt.sort]
    elif flt.tab == "gemeld":
        stmt = stmt.where(Comment.state == CommentState.PUBLISHED, Comment.queued_at.is_not(None))
        order = QUEUE_SORTS[flt.sort]
    elif flt.tab == "recent":
        stmt = stmt.where(Comment.state == CommentState.PUBLISHED, Comment.reviewed_at.is_(None))
        order = (Comment.created_at.desc(),)
    elif flt.tab == "goedgekeurd":
        stmt = stmt.where(Comment.state == CommentState.PUBLISHED, Comment.reviewed_at.is_not(None))
        order = (Comment.reviewed_at.desc(),)
    elif flt.tab == "afgewezen":
        # Two states: list_queue merges two index-ordered scans (see _rejected_page). The
        # "not published" term is the condition of the partial index those scans read.
        stmt = stmt.where(
            Comment.state.in_((CommentState.REJECTED, CommentState.REMOVED)),
            Comment.state != CommentState.PUBLISHED,
        )
        order = (Comment.updated_at.desc(), Comment.id.desc())
    else:  # bezwaren
        stmt = stmt.join(Appeal, Appeal.comment_id == Comment.id).where(
            Appeal.state == AppealState.PENDING
        )
        order = (Appeal.created_at.asc(),)
    if flt.article:
        article_id = session.scalar(select(Article.id).where(Article.cms_id == flt.article))
        stmt = stmt.where(Comment.article_id == (article_id or -1))
    if flt.reason:
        stmt = stmt.where(Comment.top_reason == flt.reason)
    if flt.author:
        author_id = session.scalar(
            select(User.id).where(User.username_key == flt.author.strip().casefold())
        )
        stmt = stmt.where(Comment.author_id == (author_id or -1))
    return stmt.order_by(*order)


def list_queue(session: Session, flt: QueueFilter) -> list[QueueItem]:
    """One page of a tab, with everything each item shows, in a fixed number of queries."""
    offset = (max(1, flt.page) - 1) * PAGE_SIZE
    if flt.tab == "afgewezen":
        comments = _rejected_page(session, flt, offset)
    else:
        stmt = _base_query(session, flt).limit(PAGE_SIZE).offset(offset)
        comments = list(session.scalars(stmt))
    return load_items(session, comments)


def _rejected_page(session: Session, flt: QueueFilter, offset: int) -> list[Comment]:
    """Rejected and removed, newest decision first: one (state, updated_at) index scan per
    state, each cut at the page end, merged in Python (an IN over two states would sort all)."""
    wanted = offset + PAGE_SIZE
    merged: list[Comment] = []
    for state in (CommentState.REJECTED, CommentState.REMOVED):
        single = QueueFilter(flt.tab, flt.article, flt.reason, flt.author, flt.sort, flt.page)
        stmt = _base_query(session, single).where(Comment.state == state).limit(wanted)
        merged.extend(session.scalars(stmt))
    merged.sort(key=lambda c: (c.updated_at, c.id), reverse=True)
    return merged[offset:wanted]


def load_items(session: Session, comments: list[Comment]) -> list[QueueItem]:
    """Attach articles, authors, flags, reports, parents, notes and history to comments."""
    if not comments:
        return []
    ids = [c.id for c in comments]
    author_ids = {c.author_id for c in comments}
    articles = {
        a.id: a
        for a in session.scalars(
            select(Article).where(Article.id.in_({c.article_id for c in comments}))
        )
    }
    authors = {u.id: u for u in session.scalars(select(User).where(User.id.in_(author_ids)))}
    flags: dict[int, list[Flag]] = defaultdict(list)
    for flag in session.scalars(select(Flag).where(Flag.comment_id.in_(ids)).order_by(Flag.id)):
        flags[flag.comment_id].append(flag)
    reports: dict[int, list[Report]] = defaultdict(list)
    for report in session.scalars(
        select(Report).where(Report.comment_id.in_(ids)).order_by(Report.created_at)
    ):
        reports[report.comment_id].append(report)
    reporter_ids = {r.reporter_id for rs in reports.values() for r in rs}
    records: dict[int, ReporterRecord] = defaultdict(ReporterRecord)
    names: dict[int, str] = {}
    if reporter_ids:
        for reporter_id, outcome, count in session.execute(
            select(Report.reporter_id, Report.outcome, func.count())
            .where(Report.reporter_id.in_(reporter_ids), Report.outcome != ReportOutcome.PENDING)
            .group_by(Report.reporter_id, Report.outcome)
        ):
            setattr(records[reporter_id], outcome.value, count)
        names = {
            uid: name
            for uid, name in session.execute(
                select(User.id, User.username).where(User.id.in_(reporter_ids))
            )
        }
    parent_ids = {c.parent_id for c in comments if c.parent_id}
    parents = (
        {p.id: p for p in session.scalars(select(Comment).where(Comment.id.in_(parent_ids)))}
        if parent_ids
        else {}
    )
    parent_authors = (
        {
            uid: name
            for uid, name in session.execute(
                select(User.id, User.username).where(
                    User.id.in_({p.author_id for p in parents.values()})
                )
            )
        }
        if parents
        else {}
    )
    notes: dict[int, list[UserNote]] = defaultdict(list)
    for note in session.scalars(
        select(UserNote)
        .where(UserNote.user_id.in_(author_ids))
        .order_by(UserNote.created_at.desc())
    ):
        if len(notes[note.user_id]) < 5:
            notes[note.user_id].append(note)
    since = utcnow() - timedelta(days=30)
    rejections = {
        author_id: count
        for author_id, count in session.execute(
            select(Comment.author_id, func.count())
            .where(
                Comment.author_id.in_(author_ids),
                Comment.state.in_((CommentState.REJECTED, CommentState.REMOVED)),
                Comment.updated_at >= since,
            )
            .group_by(Comment.author_id)
        )
    }
    bans = {
        int(target): count
        for target, count in session.execute(
            select(ModerationAction.target_id, func.count())
            .where(
                ModerationAction.target_type == "user",
                ModerationAction.target_id.in_([str(a) for a in author_ids]),
                ModerationAction.to_state == "banned",
            )
            .group_by(ModerationAction.target_id)
        )
    }
    appeals = {
        a.comment_id: a for a in session.scalars(select(Appeal).where(Appeal.comment_id.in_(ids)))
    }
    items = []
    for comment in comments:
        parent = parents.get(comment.parent_id) if comment.parent_id else None
        items.append(
            QueueItem(
                comment=comment,
                article=articles[comment.article_id],
                author=authors[comment.author_id],
                flags=flags[comment.id],
                reports=[
                    (r, names.get(r.reporter_id, "?"), records[r.reporter_id])
                    for r in reports[comment.id]
                ],
                parent=parent,
                parent_author=parent_authors.get(parent.author_id) if parent else None,
                notes=notes[comment.author_id],
                recent_rejections=rejections.get(comment.author_id, 0),
                bans=bans.get(comment.author_id, 0),
                appeal=appeals.get(comment.id),
                highlighted=highlight(comment.body, flags[comment.id]),
            )
        )
    return items


def highlight(body: str, flags: list[Flag]) -> Markup:
    """The body, escaped, with every flagged span wrapped in <mark> (overlaps merged)."""
    spans = sorted(
        (max(0, f.span_start), min(len(body), f.span_end))
        for f in flags
        if f.span_start is not None and f.span_end is not None and f.span_end > f.span_start
    )
    merged: list[list[int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    parts: list[str] = []
    last = 0
    for start, end in merged:
        parts.append(str(escape(body[last:start])))
        parts.append(f"<mark>{escape(body[start:end])}</mark>")
        last = end
    parts.append(str(escape(body[last:])))
    return Markup("<br>\n".join("".join(parts).split("\n")))


def history(
    session: Session, target_type: str, target_id: object, limit: int = 200
) -> list[ModerationAction]:
    """The audit trail of one comment or user, oldest first."""
    return list(
        session.scalars(
            select(ModerationAction)
            .where(
                ModerationAction.target_type == target_type,
                ModerationAction.target_id == str(target_id),
            )
            .order_by(ModerationAction.created_at, ModerationAction.id)
            .limit(limit)
        )
    )
