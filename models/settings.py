"""Small shared tables: queue counters, runtime word-list changes, site-wide settings."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime, str_enum, utcnow


class QueueCounter(Base):
    """How many comments sit in each queue, kept by the state machine (no COUNT over millions)."""

    __tablename__ = "queue_counters"

    name: Mapped[str] = mapped_column(String(20), primary_key=True)
    count: Mapped[int] = mapped_column(default=0)


class LexiconAction(enum.Enum):
    ADD = "add"  # a word joins one of the lists
    REMOVE = "remove"  # a shipped word stops counting
    ALLOW = "allow"  # a word never flags (allow-list)
    ALLOW_DOMAIN = "allow_domain"  # links to this domain do not hold a comment


class LexiconEntry(Base):
    """A moderator's change to the shipped word lists, applied at runtime in every worker."""

    __tablename__ = "lexicon_entries"
    __table_args__ = (UniqueConstraint("action", "word"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    action: Mapped[LexiconAction] = mapped_column(str_enum(LexiconAction))
    word: Mapped[str] = mapped_column(String(100))
    list_name: Mapped[str | None] = mapped_column(String(20))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SiteSetting(Base):
    """A site-wide setting or version number (e.g. the lexicon version) as JSON."""

    __tablename__ = "site_settings"

    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[object] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
