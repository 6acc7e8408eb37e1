"""The audit log: every state change and moderator decision, for any kind of target."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime, str_enum, utcnow


class ModerationAction(Base):
    __tablename__ = "moderation_actions"
    __table_args__ = (
        Index("ix_moderation_actions_target", "target_type", "target_id", "created_at"),
        # Partial: most rows are the system's (actor_id NULL: every post writes one), and the
        # lookups by actor (its foreign key) never ask for those.
        Index(
            "ix_moderation_actions_actor_id_created_at",
            "actor_id",
            "created_at",
            postgresql_where=text("actor_id IS NOT NULL"),
            sqlite_where=text("actor_id IS NOT NULL"),
        ),
        Index("ix_moderation_actions_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # None when the system acted (screening, report threshold, schedule).
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    target_type: Mapped[str] = mapped_column(String(20))  # comment, user, poll, ballot, article …
    target_id: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(40))
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str | None] = mapped_column(String(20))
    reason_code: Mapped[str | None] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AppealState(enum.Enum):
    PENDING = "pending"
    UPHELD = "upheld"  # the comment is published again
    DENIED = "denied"  # the decision stands


class Appeal(Base):
    """An author's one appeal against a rejection or removal (the Bezwaren tab)."""

    __tablename__ = "appeals"
    __table_args__ = (Index("ix_appeals_state_created_at", "state", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # One appeal per comment, guaranteed by the database.
    comment_id: Mapped[int] = mapped_column(
        ForeignKey("comments.id", ondelete="CASCADE"), unique=True
    )
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    body: Mapped[str] = mapped_column(String(1000))
    state: Mapped[AppealState] = mapped_column(str_enum(AppealState), default=AppealState.PENDING)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decision_note: Mapped[str | None] = mapped_column(String(1000))


class MatchDayMode(enum.Enum):
    PREMODERATE = "premoderate"  # every comment waits for a moderator
    SLOW = "slow"  # one comment per user per N seconds


class MatchDayWindow(Base):
    """A scheduled match-day mode, site-wide (article_id NULL) or for one article; times in UTC."""

    __tablename__ = "match_day_windows"
    __table_args__ = (Index("ix_match_day_windows_ends_at", "ends_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int | None] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), index=True
    )
    mode: Mapped[MatchDayMode] = mapped_column(str_enum(MatchDayMode))
    slow_seconds: Mapped[int | None] = mapped_column()
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    label: Mapped[str | None] = mapped_column(String(120))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
