"""The transactional outbox: mail and webhook messages written with the event that causes them,
delivered later by `tribune worker`, and every delivery attempt."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime, str_enum, utcnow


class Channel(enum.Enum):
    MAIL = "mail"
    WEBHOOK = "webhook"


class MessageState(enum.Enum):
    """pending → sending → sent, or → failed (retried later) → … → dead after the last try."""

    PENDING = "pending"
    SENDING = "sending"  # claimed by a worker until lease_until
    SENT = "sent"
    FAILED = "failed"  # the last attempt failed; next_attempt_at says when to retry
    DEAD = "dead"  # gave up after the maximum number of attempts; an admin may retry

    @property
    def label_nl(self) -> str:
        return {
            "pending": "wachtend",
            "sending": "bezig",
            "sent": "verzonden",
            "failed": "mislukt, opnieuw later",
            "dead": "opgegeven",
        }[self.value]


class OutboxMessage(Base):
    """One mail or webhook call to deliver, with a stable delivery id."""

    __tablename__ = "outbox_messages"
    __table_args__ = (
        Index("ix_outbox_messages_state_next_attempt_at", "state", "next_attempt_at"),
        Index("ix_outbox_messages_recipient_key_id", "recipient_key", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[Channel] = mapped_column(str_enum(Channel, length=8))
    # What the message is ("password_reset", "reply", "comment.created", …).
    kind: Mapped[str] = mapped_column(String(40))
    # An e-mail address, or the webhook endpoint's URL when it was enqueued.
    recipient: Mapped[str] = mapped_column(String(500))
    # Who is one recipient for ordering and rate limits: a case-folded address, "webhook:<id>".
    recipient_key: Mapped[str] = mapped_column(String(320))
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    endpoint_id: Mapped[int | None]
    # Mail: the template pair under templates/mail/ rendered at delivery with `payload`;
    # webhook: the event's JSON body.
    template: Mapped[str | None] = mapped_column(String(60))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    unsubscribe_path: Mapped[str | None] = mapped_column(String(300))
    # The Message-ID of a mail, the webhook-id of a call: the same on every retry.
    delivery_id: Mapped[str] = mapped_column(String(32), unique=True)
    state: Mapped[MessageState] = mapped_column(
        str_enum(MessageState, length=8), default=MessageState.PENDING
    )
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(500))
    last_status_code: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class OutboxAttempt(Base):
    """One delivery attempt: the delivery log (response codes, errors)."""

    __tablename__ = "outbox_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(
        ForeignKey("outbox_messages.id", ondelete="CASCADE"), index=True
    )
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ok: Mapped[bool]
    status_code: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(String(500))
    duration_ms: Mapped[int] = mapped_column(default=0)


class WorkerJob(Base):
    """When a periodic job of the worker last ran: several workers agree on one run."""

    __tablename__ = "worker_jobs"

    name: Mapped[str] = mapped_column(String(60), primary_key=True)
    last_run_at: Mapped[datetime] = mapped_column(UTCDateTime)
