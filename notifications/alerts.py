"""The moderation queue's alarm: when the oldest held comment waits longer than
TRIBUNE_ALERT_WAIT_MINUTES or more than TRIBUNE_ALERT_HELD comments wait, staff who opted in
get a mail and `queue.alert` is published (webhooks); at most once per ALERT_INTERVAL, agreed
by every worker through one row of notification_clocks."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from events import publish
from models import (
    Comment,
    CommentState,
    Delivery,
    NotificationClock,
    NotificationSettings,
    QueueCounter,
    User,
)
from notifications import notices
from notifications.delivery import notify
from notifications.preferences import ALERT_ROLES
from outbox import periodic_job

ALERT_INTERVAL = timedelta(minutes=15)
CLOCK = "queue_alert"
WAIT = "wait"  # the oldest held comment waits too long
HELD = "held"  # too many comments wait


@dataclass(frozen=True)
class QueueState:
    """How many comments are held, and since when the oldest waits."""

    held: int
    oldest_queued_at: datetime | None

    def wait_minutes(self, now: datetime) -> int | None:
        if self.oldest_queued_at is None:
            return None
        return int((now - self.oldest_queued_at).total_seconds() // 60)


def queue_state(session: Session) -> QueueState:
    """Two cheap reads: the held counter and the head of the queue's index."""
    held = session.scalar(
        select(QueueCounter.count).where(QueueCounter.name == CommentState.HELD.value)
    )
    oldest = session.scalar(
        select(Comment.queued_at)
        .where(Comment.state == CommentState.HELD, Comment.queued_at.is_not(None))
        .order_by(Comment.queued_at)
        .limit(1)
    )
    return QueueState(held or 0, oldest)


def alarm_reasons(
    state: QueueState, now: datetime, wait_minutes: int, held_limit: int
) -> list[str]:
    """Which thresholds the queue crosses (a limit of 0 is off)."""
    reasons = []
    if (
        wait_minutes > 0
        and state.oldest_queued_at is not None
        and now - state.oldest_queued_at > timedelta(minutes=wait_minutes)
    ):
        reasons.append(WAIT)
    if held_limit > 0 and state.held > held_limit:
        reasons.append(HELD)
    return reasons


def claim_clock(session: Session, name: str, now: datetime, interval: timedelta) -> bool:
    """Move the clock to `now` if it last moved `interval` ago or longer; whether this caller
    did (a compare-and-set UPDATE: of two workers at once, one wins)."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    session.execute(
        dialect.insert(NotificationClock.__table__)
        .values(name=name, last_at=None)
        .on_conflict_do_nothing(index_elements=["name"])
    )
    moved = cast(
        "CursorResult[Any]",
        session.execute(
            update(NotificationClock)
            .where(
                NotificationClock.name == name,
                or_(
                    NotificationClock.last_at.is_(None),
                    NotificationClock.last_at <= now - interval,
                ),
            )
            .values(last_at=now)
            .execution_options(synchronize_session=False)
        ),
    )
    return moved.rowcount == 1


def opted_in_staff(session: Session) -> list[int]:
    """Moderators and admins who asked for the alarm."""
    return list(
        session.scalars(
            select(User.id)
            .join(NotificationSettings, NotificationSettings.user_id == User.id)
            .where(
                NotificationSettings.queue_alert == Delivery.IMMEDIATE,
                User.role.in_(ALERT_ROLES),
                User.is_active.is_(True),
            )
            .order_by(User.id)
        )
    )


def check_queue(session: Session, now: datetime, wait_minutes: int, held_limit: int) -> bool:
    """Raise the alarm when a threshold is crossed and none went out in the last 15 minutes;
    whether it did."""
    state = queue_state(session)
    reasons = alarm_reasons(state, now, wait_minutes, held_limit)
    if not reasons or not claim_clock(session, CLOCK, now, ALERT_INTERVAL):
        return False
    waited = state.wait_minutes(now)
    publish(
        session,
        "queue.alert",
        held=state.held,
        oldest_queued_at=state.oldest_queued_at.isoformat() if state.oldest_queued_at else None,
        oldest_wait_minutes=waited,
        reasons=reasons,
        wait_minutes_limit=wait_minutes,
        held_limit=held_limit,
    )
    notice = notices.queue_alert_notice(
        held=state.held,
        oldest_queued_at=state.oldest_queued_at,
        wait_minutes=waited,
        reasons=reasons,
        wait_limit=wait_minutes,
        held_limit=held_limit,
    )
    for user_id in opted_in_staff(session):
        notify(session, user_id, notice, now=now)
    return True


@periodic_job("queue_alert", every_seconds=60)
def queue_alert_job(session: Session, settings: Mapping[str, Any], now: datetime) -> None:
    """The worker's alarm check (TRIBUNE_ALERT_WAIT_MINUTES, TRIBUNE_ALERT_HELD)."""
    check_queue(
        session, now, settings["TRIBUNE_ALERT_WAIT_MINUTES"], settings["TRIBUNE_ALERT_HELD"]
    )
