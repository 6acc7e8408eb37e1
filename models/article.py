"""Articles registered by the CMS; each carries its always-true tallies."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime, str_enum, utcnow

ARTICLE_ID_MAX = 64
ARTICLE_ID_PATTERN = rf"^[A-Za-z0-9_-]{{1,{ARTICLE_ID_MAX}}}$"


class CommentMode(enum.Enum):
    OPEN = "open"
    PREMODERATED = "premoderated"
    CLOSED = "closed"


class ThreadSort(enum.Enum):
    """How a thread's top-level comments are ordered (comments.threads)."""

    NEWEST = "newest"
    OLDEST = "oldest"
    BEST = "best"  # "Sterk" reactions with a time decay (docs/design.md)


class Article(Base):
    __tablename__ = "articles"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The CMS's own id: the public `article_id` of the API.
    cms_id: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    url: Mapped[str | None] = mapped_column(String(2000))
    teaser: Mapped[str | None] = mapped_column(Text)
    body: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    comment_mode: Mapped[CommentMode] = mapped_column(
        str_enum(CommentMode), default=CommentMode.OPEN
    )
    # Tallies: published comments (replies included) and ballots not in quarantine.
    comment_count: Mapped[int] = mapped_column(default=0)
    vote_count: Mapped[int] = mapped_column(default=0)
    # Raised by every change readers see in the thread: the key of its cached pages.
    thread_version: Mapped[int] = mapped_column(default=0, server_default="0")
    # The thread's order when the reader picks none (set in /redactie/).
    default_sort: Mapped[ThreadSort] = mapped_column(
        str_enum(ThreadSort), default=ThreadSort.NEWEST, server_default="newest"
    )
    # The editor's own comment pinned above the thread ("Redactie: …"; comments.picks).
    pinned_comment_id: Mapped[int | None] = mapped_column(
        ForeignKey("comments.id", ondelete="SET NULL", use_alter=True)
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
