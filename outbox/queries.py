"""What the admin's delivery page reads: messages by state, their attempts, the counts."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import MessageState, OutboxAttempt, OutboxMessage


def state_counts(session: Session) -> dict[MessageState, int]:
    """How many messages are in each state (every state, zero included)."""
    rows = session.execute(
        select(OutboxMessage.state, func.count()).group_by(OutboxMessage.state)
    ).all()
    counts = dict.fromkeys(MessageState, 0)
    counts.update({state: count for state, count in rows})
    return counts


def list_messages(
    session: Session, state: MessageState | None, page: int, per_page: int
) -> tuple[list[OutboxMessage], int]:
    """One page of messages, newest first, optionally of one state; and how many there are."""
    query = select(OutboxMessage)
    counted = select(func.count()).select_from(OutboxMessage)
    if state is not None:
        query = query.where(OutboxMessage.state == state)
        counted = counted.where(OutboxMessage.state == state)
    total = session.scalar(counted) or 0
    rows = session.scalars(
        query.order_by(OutboxMessage.id.desc()).offset((page - 1) * per_page).limit(per_page)
    ).all()
    return list(rows), total


def attempts_of(session: Session, message_id: int) -> list[OutboxAttempt]:
    """Every attempt to deliver one message, oldest first."""
    return list(
        session.scalars(
            select(OutboxAttempt)
            .where(OutboxAttempt.message_id == message_id)
            .order_by(OutboxAttempt.id)
        )
    )
