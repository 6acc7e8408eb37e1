"""Writing messages into the outbox (in the caller's transaction) and an admin's retry."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from errors import Conflict
from lookups import get_or_404
from models import Channel, MessageState, OutboxMessage, utcnow

# A message's recipient key for ordering and rate limits.
WEBHOOK_KEY = "webhook:{}"


def new_delivery_id() -> str:
    """A stable id for one message: its Message-ID or webhook-id on every attempt."""
    return uuid.uuid4().hex


def enqueue_mail(
    session: Session,
    *,
    to: str,
    template: str,
    context: dict[str, Any],
    kind: str,
    user_id: int | None = None,
    unsubscribe_path: str | None = None,
) -> OutboxMessage:
    """Queue a mail (rendered from templates/mail/<template>.txt/.html at delivery)."""
    message = OutboxMessage(
        channel=Channel.MAIL,
        kind=kind,
        recipient=to,
        recipient_key=to.strip().casefold(),
        user_id=user_id,
        template=template,
        payload=context,
        unsubscribe_path=unsubscribe_path,
        delivery_id=new_delivery_id(),
        state=MessageState.PENDING,
        next_attempt_at=utcnow(),
    )
    session.add(message)
    session.flush()
    return message


def enqueue_webhook(
    session: Session, *, endpoint_id: int, event: str, payload: dict[str, Any], url: str = ""
) -> OutboxMessage:
    """Queue one webhook call of `event` to one endpoint (delivered by the webhook deliverer)."""
    key = WEBHOOK_KEY.format(endpoint_id)
    message = OutboxMessage(
        channel=Channel.WEBHOOK,
        kind=event,
        recipient=url or key,
        recipient_key=key,
        endpoint_id=endpoint_id,
        payload=payload,
        delivery_id=new_delivery_id(),
        state=MessageState.PENDING,
        next_attempt_at=utcnow(),
    )
    session.add(message)
    session.flush()
    return message


def retry_message(session: Session, message_id: int, now: datetime | None = None) -> OutboxMessage:
    """An admin's retry: a failed or dead message is due now, with a full set of attempts."""
    message = get_or_404(
        session, OutboxMessage, message_id, "message_not_found", "Dit bericht bestaat niet (meer)."
    )
    if message.state not in (MessageState.FAILED, MessageState.DEAD):
        raise Conflict(
            "message_not_retryable",
            "Enkel een mislukt of opgegeven bericht kan je opnieuw versturen.",
        )
    message.state = MessageState.PENDING
    message.attempts = 0
    message.next_attempt_at = now or utcnow()
    message.lease_until = None
    session.flush()
    return message
