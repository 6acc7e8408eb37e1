"""Scoring jobs: one per new comment while an operator's model scores comments
(TRIBUNE_SCORER_URL), written with the comment and worked off by `tribune worker`."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime, str_enum, utcnow


class ScoringState(enum.Enum):
    """pending → scoring → done; pending again after a failure (later, with backoff); dropped
    when it waited longer than TRIBUNE_SCORER_MAX_AGE_SECONDS."""

    PENDING = "pending"
    SCORING = "scoring"  # claimed by a worker until lease_until
    DONE = "done"  # scored (scores set), or nothing left to score (the comment went)
    DROPPED = "dropped"  # too old: given up, noted in the audit log

    @property
    def label_nl(self) -> str:
        return {
            "pending": "wachtend",
            "scoring": "bezig",
            "done": "gescoord",
            "dropped": "opgegeven",
        }[self.value]


class ScoringJob(Base):
    """Score one comment with the operator's model (once; retried until done or too old)."""

    __tablename__ = "scoring_jobs"
    __table_args__ = (Index("ix_scoring_jobs_state_next_attempt_at", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(
        ForeignKey("comments.id", ondelete="CASCADE"), unique=True
    )
    state: Mapped[ScoringState] = mapped_column(
        str_enum(ScoringState, length=8), default=ScoringState.PENDING
    )
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(500))
    # The model's answer: attribute → summary score (0–1), kept for the moderators.
    scores: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
