"""The worker's job that announces closed polls (poll.closed), scheduled or closed by hand."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

import events
from models import Poll
from outbox import periodic_job

BATCH = 200


@periodic_job("announce_closed_polls", every_seconds=5)
def announce_closed_polls(session: Session, settings: Mapping[str, Any], now: datetime) -> None:
    """Publish poll.closed once for every poll whose closing time has passed."""
    polls = session.scalars(
        select(Poll)
        .where(Poll.closes_at <= now, Poll.closed_announced_at.is_(None))
        .order_by(Poll.closes_at, Poll.id)
        .limit(BATCH)
        .with_for_update(skip_locked=True)
    ).all()
    for poll in polls:
        poll.closed_announced_at = now
        events.publish(session, "poll.closed", poll_id=poll.id, article_id=poll.article_id)
    session.flush()
