"""A poll's state, which follows from its schedule: scheduled, open, closed."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Protocol


class PollState(enum.Enum):
    SCHEDULED = "scheduled"
    OPEN = "open"
    CLOSED = "closed"


class Scheduled(Protocol):
    """What the state is read from: a Poll row, or the vote path's PollSnapshot."""

    @property
    def opens_at(self) -> datetime | None: ...

    @property
    def closes_at(self) -> datetime | None: ...


def poll_state(poll: Scheduled, now: datetime) -> PollState:
    """Scheduled before opens_at, closed from closes_at on, open in between."""
    if poll.opens_at is not None and now < poll.opens_at:
        return PollState.SCHEDULED
    if poll.closes_at is not None and now >= poll.closes_at:
        return PollState.CLOSED
    return PollState.OPEN
