"""A poll's state, which follows from its schedule: scheduled, open, closed."""

from __future__ import annotations

import enum
from datetime import datetime

from models import Poll


class PollState(enum.Enum):
    SCHEDULED = "scheduled"
    OPEN = "open"
    CLOSED = "closed"


def poll_state(poll: Poll, now: datetime) -> PollState:
    """Scheduled before opens_at, closed from closes_at on, open in between."""
    if poll.opens_at is not None and now < poll.opens_at:
        return PollState.SCHEDULED
    if poll.closes_at is not None and now >= poll.closes_at:
        return PollState.CLOSED
    return PollState.OPEN
