"""Comments, the screening flags stored with them, and readers' reports."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Float,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, UTCDateTime, str_enum, utcnow
from reasons import REASON_LABELS_NL, ReasonCode  # noqa: F401 (re-exported by models)


class CommentState(enum.Enum):
    PUBLISHED = "published"
    HELD = "held"
    REJECTED = "rejected"
    REMOVED = "removed"
    DELETED = "deleted"


class ReportOutcome(enum.Enum):
    PENDING = "pending"
    UPHELD = "upheld"
    DISMISSED = "dismissed"


# The partial-index condition of the queue indexes: the comment is in a queue.
IN_A_QUEUE: dict[str, Any] = {
    "postgresql_where": text("queued_at IS NOT NULL"),
    "sqlite_where": text("queued_at IS NOT NULL"),
}


class Comment(Base):
    __tablename__ = "comments"
    __table_args__ = (
        # Thread listing: an article's comments in one state, by time.
        Index("ix_comments_article_id_state_created_at", "article_id", "state", "created_at"),
        Index("ix_comments_author_id_created_at", "author_id", "created_at"),
        # Replies by thread: top-level comments (root_id NULL) are never looked up by it.
        Index(
            "ix_comments_root_id",
            "root_id",
            postgresql_where=text("root_id IS NOT NULL"),
            sqlite_where=text("root_id IS NOT NULL"),
        ),
        # Moderation queue (Wachtrij, Gemeld): one state, oldest entry first, with its filters
        # and sorts. Partial: only comments in a queue (queued_at set) are in these indexes, so
        # a post that publishes straight away, most of them, writes none of them. Queue queries
        # say "queued_at IS NOT NULL" so that both databases can use them.
        *(
            Index(name, *columns, **IN_A_QUEUE)
            for name, columns in (
                ("ix_comments_state_queued_at", ("state", "queued_at")),
                ("ix_comments_state_article_id_queued_at", ("state", "article_id", "queued_at")),
                ("ix_comments_state_top_reason_queued_at", ("state", "top_reason", "queued_at")),
                ("ix_comments_state_author_id_queued_at", ("state", "author_id", "queued_at")),
                # Sorts read backwards: highest score (newest first among equals), most severe.
                ("ix_comments_state_report_score_id", ("state", "report_score", "id")),
                (
                    "ix_comments_state_severity_queued_at",
                    ("state", text("top_severity DESC"), "queued_at"),
                ),
            )
        ),
        # Recent (not yet reviewed) and Goedgekeurd (reviewed) tabs; each holds only its rows.
        Index(
            "ix_comments_state_reviewed_at_created_at",
            "state",
            "reviewed_at",
            "created_at",
            postgresql_where=text("reviewed_at IS NOT NULL"),
            sqlite_where=text("reviewed_at IS NOT NULL"),
        ),
        Index(
            "ix_comments_unreviewed_created_at",
            "created_at",
            postgresql_where=text("state = 'published' AND reviewed_at IS NULL"),
            sqlite_where=text("state = 'published' AND reviewed_at IS NULL"),
        ),
        # Afgewezen tab: latest decisions first. Published comments, the most, are left out;
        # its query says "state <> 'published'" so that both databases can use it.
        Index(
            "ix_comments_state_updated_at",
            "state",
            "updated_at",
            postgresql_where=text("state <> 'published'"),
            sqlite_where=text("state <> 'published'"),
        ),
        # The "Uitgelicht" section and filter: an article's picks, newest first.
        Index(
            "ix_comments_article_id_featured_at",
            "article_id",
            "featured_at",
            postgresql_where=text("featured_at IS NOT NULL"),
            sqlite_where=text("featured_at IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id", ondelete="SET NULL"))
    # Top-level ancestor, so a page of threads loads its replies with one query.
    root_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id", ondelete="SET NULL"))
    depth: Mapped[int] = mapped_column(SmallInteger, default=0)
    body: Mapped[str] = mapped_column(Text)
    state: Mapped[CommentState] = mapped_column(str_enum(CommentState))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Queue columns, kept by the state machine.
    queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    report_score: Mapped[float] = mapped_column(Float, default=0.0)
    report_count: Mapped[int] = mapped_column(default=0)
    # "Sterk" reactions (rows in reactions), kept in the same transaction; `tribune recount`.
    reaction_count: Mapped[int] = mapped_column(default=0, server_default="0")
    top_severity: Mapped[int] = mapped_column(SmallInteger, default=0)
    # Reason code of the most severe flag, so the queue filters by reason without a join.
    top_reason: Mapped[str | None] = mapped_column(String(20))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Why it was rejected or removed (a reason code), shown to its author.
    decision_reason: Mapped[ReasonCode | None] = mapped_column(str_enum(ReasonCode))
    decision_note: Mapped[str | None] = mapped_column(String(1000))
    # Set when the body was erased (privacy.retention after TRIBUNE_RETAIN_REJECTED_DAYS, or the
    # author's account deletion): the body then holds only a Dutch placeholder.
    body_erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Editor's pick ("Uitgelicht"): when and by whom (comments.picks).
    featured_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    featured_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    flags: Mapped[list[Flag]] = relationship(
        back_populates="comment", cascade="all, delete-orphan", order_by="Flag.id"
    )


class Flag(Base):
    __tablename__ = "flags"

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(
        ForeignKey("comments.id", ondelete="CASCADE"), index=True
    )
    code: Mapped[str] = mapped_column(String(32))
    reason: Mapped[ReasonCode] = mapped_column(str_enum(ReasonCode))
    severity: Mapped[int] = mapped_column(SmallInteger)
    # The matched list word or rule detail; never the personal data itself (its span is kept).
    detail: Mapped[str | None] = mapped_column(String(200))
    span_start: Mapped[int | None] = mapped_column()
    span_end: Mapped[int | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    comment: Mapped[Comment] = relationship(back_populates="flags")


class Report(Base):
    __tablename__ = "reports"
    # One report per reader per comment, guaranteed by the database.
    __table_args__ = (UniqueConstraint("comment_id", "reporter_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"))
    reporter_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    reason: Mapped[ReasonCode] = mapped_column(str_enum(ReasonCode))
    note: Mapped[str | None] = mapped_column(String(500))
    weight: Mapped[float] = mapped_column(Float, default=1.0)
    outcome: Mapped[ReportOutcome] = mapped_column(
        str_enum(ReportOutcome), default=ReportOutcome.PENDING
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
