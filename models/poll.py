"""Polls, their options, and ballots (one per voter per poll)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    UniqueConstraint,
    false,
    text,
)
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


class PollKind(enum.Enum):
    CHOICE = "choice"
    PLAYER_RATINGS = "player_ratings"
    SCORE_PREDICTION = "score_prediction"


class PlayerRole(enum.Enum):
    STARTER = "starter"
    SUBSTITUTE = "substitute"
    COACH = "coach"


# Scores a fan gives a player: 1 to 10.
SCORES = range(1, 11)


class Poll(Base):
    __tablename__ = "polls"

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), index=True
    )
    question: Mapped[str] = mapped_column(String(300))
    kind: Mapped[PollKind] = mapped_column(
        str_enum(PollKind), default=PollKind.CHOICE, server_default=PollKind.CHOICE.value
    )
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
    # A score_prediction poll (polls/predictions.py): the match, its competition (the
    # leaderboard's key; kick-off is closes_at) and the final score once the editor enters it.
    home_team: Mapped[str | None] = mapped_column(String(60))
    away_team: Mapped[str | None] = mapped_column(String(60))
    competition: Mapped[str | None] = mapped_column(String(60), index=True)
    result_home_goals: Mapped[int | None] = mapped_column(SmallInteger)
    result_away_goals: Mapped[int | None] = mapped_column(SmallInteger)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The points the result was scored with (the settings of that moment): `tribune recount`
    # rescores with them, so a later change of the settings does not move old matches.
    exact_points: Mapped[int | None] = mapped_column(SmallInteger)
    outcome_points: Mapped[int | None] = mapped_column(SmallInteger)

    options: Mapped[list[PollOption]] = relationship(
        back_populates="poll", order_by="PollOption.position", cascade="all, delete-orphan"
    )
    # The line-up of a player_ratings poll (empty for a choice poll).
    players: Mapped[list[PollPlayer]] = relationship(
        order_by="PollPlayer.position", cascade="all, delete-orphan"
    )

    @property
    def is_ratings(self) -> bool:
        return self.kind is PollKind.PLAYER_RATINGS

    @property
    def is_prediction(self) -> bool:
        return self.kind is PollKind.SCORE_PREDICTION


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


class PollPlayer(Base):
    """A player (or the coach) of a player_ratings poll, with the counters of its counted
    ratings (ratings of ballots not in quarantine): how many, their sum, and how many of each
    score 1..10."""

    __tablename__ = "poll_players"
    __table_args__ = (UniqueConstraint("poll_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column()
    name: Mapped[str] = mapped_column(String(80))
    shirt_number: Mapped[int | None] = mapped_column()  # None for the coach
    role: Mapped[PlayerRole] = mapped_column(str_enum(PlayerRole))
    rating_count: Mapped[int] = mapped_column(default=0)
    rating_sum: Mapped[int] = mapped_column(default=0)
    score_1: Mapped[int] = mapped_column(default=0)
    score_2: Mapped[int] = mapped_column(default=0)
    score_3: Mapped[int] = mapped_column(default=0)
    score_4: Mapped[int] = mapped_column(default=0)
    score_5: Mapped[int] = mapped_column(default=0)
    score_6: Mapped[int] = mapped_column(default=0)
    score_7: Mapped[int] = mapped_column(default=0)
    score_8: Mapped[int] = mapped_column(default=0)
    score_9: Mapped[int] = mapped_column(default=0)
    score_10: Mapped[int] = mapped_column(default=0)

    @property
    def distribution(self) -> list[int]:
        """How many counted ratings gave 1, 2, … 10."""
        return [getattr(self, f"score_{score}") for score in SCORES]


class PlayerRating(Base):
    """One score of a ballot for one player; the ballot is the voter's one rating set."""

    __tablename__ = "player_ratings"
    __table_args__ = (CheckConstraint("score BETWEEN 1 AND 10", name="score"),)

    ballot_id: Mapped[int] = mapped_column(
        ForeignKey("ballots.id", ondelete="CASCADE"), primary_key=True
    )
    player_id: Mapped[int] = mapped_column(
        ForeignKey("poll_players.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    score: Mapped[int] = mapped_column(SmallInteger)


class ScorePrediction(Base):
    """A member's predicted final score; the ballot is the one-per-voter record. `points` is
    set when the editor enters the result (None until then)."""

    __tablename__ = "score_predictions"
    __table_args__ = (
        CheckConstraint("home_goals BETWEEN 0 AND 20", name="home_goals"),
        CheckConstraint("away_goals BETWEEN 0 AND 20", name="away_goals"),
    )

    ballot_id: Mapped[int] = mapped_column(
        ForeignKey("ballots.id", ondelete="CASCADE"), primary_key=True
    )
    home_goals: Mapped[int] = mapped_column(SmallInteger)
    away_goals: Mapped[int] = mapped_column(SmallInteger)
    points: Mapped[int | None] = mapped_column(SmallInteger)
