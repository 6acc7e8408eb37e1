"""Notification settings per account, the items a daily digest collects, and the clocks of the
notification jobs (when the last queue alert went out)."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime, str_enum, utcnow


class NotificationKind(enum.Enum):
    """What a notification is about; each kind has its own setting and unsubscribe link."""

    REPLY = "reply"  # a reply to my comment
    DECISION = "decision"  # my comment approved, rejected, removed or restored by a moderator
    REPORT = "report"  # a comment I reported was decided on
    APPEAL = "appeal"  # my appeal was decided
    SUSPENSION = "suspension"  # my account was suspended or banned, or that was lifted
    QUEUE_ALERT = "queue_alert"  # staff: the moderation queue waits too long or is too full

    @property
    def label_nl(self) -> str:
        return {
            "reply": "Een antwoord op mijn reactie",
            "decision": "Mijn reactie goedgekeurd, afgewezen of uitgelicht",
            "report": "Een beslissing over iets wat ik meldde",
            "appeal": "Een beslissing over mijn bezwaar",
            "suspension": "Een schorsing of verbanning van mijn account",
            "queue_alert": "Wachtrij-alarm",
        }[self.value]


class Delivery(enum.Enum):
    """How a fan wants one kind of notification."""

    IMMEDIATE = "immediate"
    DAILY = "daily"
    NEVER = "never"

    @property
    def label_nl(self) -> str:
        return {"immediate": "meteen", "daily": "dagelijks overzicht", "never": "nooit"}[self.value]


class NotificationSettings(Base):
    """One account's notification choices (NULL: the kind's default, notifications.DEFAULTS)
    and the key that signs its unsubscribe links."""

    __tablename__ = "notification_settings"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    reply: Mapped[Delivery | None] = mapped_column(str_enum(Delivery, length=10))
    decision: Mapped[Delivery | None] = mapped_column(str_enum(Delivery, length=10))
    report: Mapped[Delivery | None] = mapped_column(str_enum(Delivery, length=10))
    appeal: Mapped[Delivery | None] = mapped_column(str_enum(Delivery, length=10))
    suspension: Mapped[Delivery | None] = mapped_column(str_enum(Delivery, length=10))
    queue_alert: Mapped[Delivery | None] = mapped_column(str_enum(Delivery, length=10))
    # Random; HMAC key of this account's unsubscribe tokens (a new key voids every old link).
    unsubscribe_key: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class DigestItem(Base):
    """One notification waiting for its recipient's daily digest; deleted when the digest mail
    is enqueued (so it is sent once)."""

    __tablename__ = "digest_items"
    __table_args__ = (Index("ix_digest_items_user_id_created_at", "user_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[NotificationKind] = mapped_column(str_enum(NotificationKind, length=16))
    article_id: Mapped[int | None] = mapped_column(ForeignKey("articles.id", ondelete="SET NULL"))
    # The article's title when collected (the digest groups by it) and the line's content:
    # a Dutch summary and the path it links to.
    article_title: Mapped[str] = mapped_column(String(300))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class NotificationClock(Base):
    """When a notification job last acted (the queue alert's 15-minute limit): one row per
    name, moved by a compare-and-set UPDATE so several workers agree."""

    __tablename__ = "notification_clocks"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    last_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
