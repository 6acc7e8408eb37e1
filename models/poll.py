"""Polls, their options, and ballots (one per voter per poll)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, false, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, UTCDateTime, str_enum, utcnow


class ResultsVisibility(enum.Enum):
    ALWAYS = "always"
    AFTER_VOTE = "after_vote"
    AFTER_CLOSE = "after_close"
    NEVER = "never"


class VoterScope(enum.Enum):
    EVERYONE = "everyone"
    LOGGED_IN = "logged_in"


class Poll(Base):
    __tablename__ = "polls"

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), index=True
    )
    question: Mapped[str] = mapped_column(String(300))
    # 1 = single choice; more = multiple choice with this maximum.
    max_choices: Mapped[int] = mapped_column(default=1)
    opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the worker announced the close (poll.closed); cleared by reopening.
    closed_announced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    results_visibility: Mapped[ResultsVisibility] = mapped_column(
        str_enum(ResultsVisibility), default=ResultsVisibility.ALWAYS
    )
    voter_scope: Mapped[VoterScope] = mapped_column(
        str_enum(VoterScope), default=VoterScope.EVERYONE
    )
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # Ballots not in quarantine.
    ballot_count: Mapped[int] = mapped_column(default=0)

    options: Mapped[list[PollOption]] = relationship(
        back_populates="poll", order_by="PollOption.position", cascade="all, delete-orphan"
    )


class PollOption(Base):
    __tablename__ = "poll_options"
    __table_args__ = (UniqueConstraint("poll_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column()
    label: Mapped[str] = mapped_column(String(200))
    vote_count: Mapped[int] = mapped_column(default=0)

    poll: Mapped[Poll] = relationship(back_populates="options")


class Ballot(Base):
    __tablename__ = "ballots"
    # The database, not Python, guarantees one ballot per voter per poll.
    __table_args__ = (
        UniqueConstraint("poll_id", "voter_key"),
        Index("ix_ballots_poll_id_ip_hash_created_at", "poll_id", "ip_hash", "created_at"),
        # A member's ballots (vote badges, GDPR export, account deletion).
        Index(
            "ix_ballots_user_id_poll_id",
            "user_id",
            "poll_id",
            postgresql_where=text("user_id IS NOT NULL"),
            sqlite_where=text("user_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"))
    # "u:<user id>" for logged-in fans, "a:<token id>" for signed anonymous voter tokens.
    voter_key: Mapped[str] = mapped_column(String(80))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Keyed hash of the client IP (IPv6 by /64); the address itself is never stored.
    ip_hash: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    is_suspicious: Mapped[bool] = mapped_column(default=False)
    # Why it was marked: "ip_allowance" (over the per-IP allowance) or "burst" (token spike).
    suspicion: Mapped[str | None] = mapped_column(String(20))
    quarantined_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The member chose to show this choice beside their comments under the poll's article
    # (polls.badges: never for anonymous ballots, none while quarantined).
    show_badge: Mapped[bool] = mapped_column(default=False, server_default=false())

    choices: Mapped[list[BallotChoice]] = relationship(cascade="all, delete-orphan")


class BallotChoice(Base):
    __tablename__ = "ballot_choices"

    ballot_id: Mapped[int] = mapped_column(
        ForeignKey("ballots.id", ondelete="CASCADE"), primary_key=True
    )
    option_id: Mapped[int] = mapped_column(
        ForeignKey("poll_options.id", ondelete="CASCADE"), primary_key=True, index=True
    )
