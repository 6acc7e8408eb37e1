"""Delivering the outbox: claim due messages, hand each to its channel's deliverer, record the
attempt, retry with exponential backoff, give up (dead) after the last attempt.

Claiming takes `FOR UPDATE SKIP LOCKED` on PostgreSQL, so several workers share the work and
no message goes to two of them; SQLite's write lock serialises claims. A claimed message is
`sending` until its lease ends: a worker that dies mid-delivery leaves it to another after the
lease. Messages to one recipient go in order: one waits while an earlier one to the same
recipient is pending, failing or being sent (a dead one no longer blocks).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from db import begin_write
from models import Channel, MessageState, OutboxAttempt, OutboxMessage, utcnow
from outbox.mail import compose, transport_from_url
from outbox.rendering import render_mail

log = logging.getLogger(__name__)

UNDELIVERED = (MessageState.PENDING, MessageState.FAILED, MessageState.SENDING)
RATE_WINDOW = timedelta(hours=1)
ERROR_MAX = 500


@dataclass(frozen=True)
class DeliveryOutcome:
    """What one attempt gave: ok, the receiver's status code (SMTP or HTTP), the error."""

    ok: bool
    status_code: int | None = None
    error: str | None = None


Deliverer = Callable[[OutboxMessage, Mapping[str, Any]], DeliveryOutcome]
SessionFactory = Callable[[], Session]

# Deliverers of channels other than mail (the webhook package registers its own).
_deliverers: dict[Channel, Deliverer] = {}


def register_deliverer(channel: Channel, deliverer: Deliverer) -> None:
    """The function that delivers one message of `channel`."""
    _deliverers[channel] = deliverer


def mail_deliverer(settings: Mapping[str, Any]) -> Deliverer:
    """Render, compose and send one mail through the transport MAIL_URL names."""
    transport = transport_from_url(
        settings["MAIL_URL"],
        Path(settings["TRIBUNE_MAIL_DIRECTORY"]),
        timeout=settings["TRIBUNE_MAIL_TIMEOUT_SECONDS"],
        ca_file=settings.get("MAIL_CA_FILE"),
    )

    def deliver(message: OutboxMessage, settings: Mapping[str, Any]) -> DeliveryOutcome:
        rendered = render_mail(
            message.template or "", message.payload, settings, message.unsubscribe_path
        )
        transport.send(compose(message, rendered, settings))
        return DeliveryOutcome(ok=True, status_code=250)

    return deliver


def deliverers(settings: Mapping[str, Any]) -> dict[Channel, Deliverer]:
    """Every channel's deliverer for one worker."""
    return {**_deliverers, Channel.MAIL: mail_deliverer(settings)}


def backoff(attempts: int, base: float, cap: float) -> timedelta:
    """The wait after the `attempts`-th failed attempt: base, 2·base, 4·base … at most cap."""
    return timedelta(seconds=min(cap, base * 2 ** max(attempts - 1, 0)))


def _due(now: datetime) -> Any:
    message = OutboxMessage
    earlier = aliased(OutboxMessage)
    blocked = exists().where(
        earlier.recipient_key == message.recipient_key,
        earlier.id < message.id,
        earlier.state.in_(UNDELIVERED),
    )
    ready = or_(
        and_(
            message.state.in_((MessageState.PENDING, MessageState.FAILED)),
            message.next_attempt_at <= now,
        ),
        and_(message.state == MessageState.SENDING, message.lease_until < now),
    )
    return and_(ready, ~blocked)


def _mail_wait(session: Session, message: OutboxMessage, now: datetime, per_hour: int) -> datetime:
    """When the recipient's hourly allowance lets this mail go (now when it does)."""
    since = now - RATE_WINDOW
    sent = select(OutboxMessage.sent_at).where(
        OutboxMessage.recipient_key == message.recipient_key,
        OutboxMessage.channel == Channel.MAIL,
        OutboxMessage.state == MessageState.SENT,
        OutboxMessage.sent_at > since,
    )
    count = session.scalar(select(func.count()).select_from(sent.subquery())) or 0
    if count < per_hour:
        return now
    oldest = session.scalar(select(func.min(sent.subquery().c.sent_at)))
    return (oldest or now) + RATE_WINDOW


def claim_due(
    session: Session, settings: Mapping[str, Any], now: datetime, limit: int = 20
) -> list[int]:
    """Take up to `limit` due messages for this worker (the caller commits the claim)."""
    candidates = session.scalars(
        select(OutboxMessage)
        .where(_due(now))
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True, of=OutboxMessage)
    ).all()
    lease = timedelta(seconds=settings["TRIBUNE_OUTBOX_LEASE_SECONDS"])
    claimed = []
    for message in candidates:
        if message.channel is Channel.MAIL:
            allowed_at = _mail_wait(
                session, message, now, settings["TRIBUNE_MAIL_PER_RECIPIENT_PER_HOUR"]
            )
            if allowed_at > now:  # over the recipient's hourly allowance: later, not lost
                message.state = MessageState.PENDING
                message.next_attempt_at = allowed_at
                continue
        message.state = MessageState.SENDING
        message.lease_until = now + lease
        claimed.append(message.id)
    session.flush()
    return claimed


def record_attempt(
    session: Session,
    message: OutboxMessage,
    outcome: DeliveryOutcome,
    settings: Mapping[str, Any],
    now: datetime,
    duration_ms: int = 0,
) -> None:
    """Log one attempt and move the message: sent, failed (retry later) or dead."""
    error = outcome.error[:ERROR_MAX] if outcome.error else None
    session.add(
        OutboxAttempt(
            message_id=message.id,
            attempted_at=now,
            ok=outcome.ok,
            status_code=outcome.status_code,
            error=error,
            duration_ms=duration_ms,
        )
    )
    message.attempts += 1
    message.lease_until = None
    message.last_status_code = outcome.status_code
    if outcome.ok:
        message.state = MessageState.SENT
        message.sent_at = now
        message.last_error = None
    elif message.attempts >= settings["TRIBUNE_OUTBOX_MAX_ATTEMPTS"]:
        message.state = MessageState.DEAD
        message.last_error = error
    else:
        message.state = MessageState.FAILED
        message.last_error = error
        message.next_attempt_at = now + backoff(
            message.attempts,
            settings["TRIBUNE_OUTBOX_BACKOFF_SECONDS"],
            settings["TRIBUNE_OUTBOX_MAX_BACKOFF_SECONDS"],
        )
    session.flush()


def _attempt(
    message: OutboxMessage, deliverer: Deliverer | None, settings: Mapping[str, Any]
) -> DeliveryOutcome:
    if deliverer is None:
        return DeliveryOutcome(False, None, f"no deliverer for channel {message.channel.value}")
    try:
        return deliverer(message, settings)
    except Exception as error:  # any failure of the receiver or the network is one failed try
        code = getattr(error, "smtp_code", None)
        return DeliveryOutcome(False, code if isinstance(code, int) else None, _describe(error))


def _describe(error: Exception) -> str:
    return f"{type(error).__name__}: {error}".strip()


def deliver_claimed(
    session_factory: SessionFactory,
    message_id: int,
    settings: Mapping[str, Any],
    channels: Mapping[Channel, Deliverer],
    now: Callable[[], datetime] = utcnow,
) -> bool:
    """Deliver one claimed message and record the attempt; True when it was delivered."""
    with session_factory() as session:
        message = session.get(OutboxMessage, message_id)
        if message is None:
            return False
        session.expunge(message)
        session.rollback()
    started = time.monotonic()
    outcome = _attempt(message, channels.get(message.channel), settings)
    duration_ms = int((time.monotonic() - started) * 1000)
    if not outcome.ok:
        log.warning("delivery %s (%s) failed: %s", message.delivery_id, message.kind, outcome.error)
    with session_factory() as session:
        begin_write(session)
        stored = session.get(OutboxMessage, message_id, with_for_update=True)
        # Only the worker holding the message records it (another took it after the lease).
        if stored is not None and stored.state is MessageState.SENDING:
            record_attempt(session, stored, outcome, settings, now(), duration_ms)
        session.commit()
    return outcome.ok


def deliver_due(
    session_factory: SessionFactory,
    settings: Mapping[str, Any],
    channels: Mapping[Channel, Deliverer],
    now: Callable[[], datetime] = utcnow,
    limit: int = 20,
) -> int:
    """Claim a batch of due messages and deliver them; returns how many were claimed."""
    with session_factory() as session:
        begin_write(session)
        claimed = claim_due(session, settings, now(), limit)
        session.commit()
    for message_id in claimed:
        deliver_claimed(session_factory, message_id, settings, channels, now)
    return len(claimed)
