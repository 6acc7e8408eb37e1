"""Domain events: what happened, published inside the transaction that made it happen.

Services publish an event at the one place a thing happens (a comment posted, its state moved,
a report decided, a suspension imposed); subscribers (mail notifications, webhooks) react in
the same transaction, so what they enqueue in the outbox commits or rolls back with the event.
Handlers must be cheap, never commit and never import flask.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from models.base import utcnow

# Every event Tribune publishes, with what its data holds (docs/design.md, "Domain events").
EVENT_NAMES = (
    "comment.created",
    "comment.state_changed",
    "comment.featured",
    "report.created",
    "report.decided",
    "appeal.created",
    "appeal.decided",
    "user.suspended",
    "poll.closed",
    "queue.alert",
)


@dataclass(frozen=True)
class DomainEvent:
    """One thing that happened: its name, its data (ids and plain values) and when."""

    name: str
    data: dict[str, Any]
    occurred_at: datetime = field(default_factory=utcnow)


Handler = Callable[[Session, DomainEvent], None]

_handlers: dict[str, list[Handler]] = defaultdict(list)
# Seeding demo data and importing old threads replay history: nobody is to be told about it.
_muted: ContextVar[bool] = ContextVar("events_muted", default=False)


def subscribe(name: str) -> Callable[[Handler], Handler]:
    """Register a handler for an event (once per function, however often its module loads)."""
    if name not in EVENT_NAMES:
        raise ValueError(f"unknown event {name!r}")

    def register(handler: Handler) -> Handler:
        key = (handler.__module__, handler.__qualname__)
        handlers = _handlers[name]
        handlers[:] = [h for h in handlers if (h.__module__, h.__qualname__) != key]
        handlers.append(handler)
        return handler

    return register


def unsubscribe(name: str, handler: Handler) -> None:
    """Remove a handler (tests that listen for a while)."""
    handlers = _handlers.get(name, [])
    if handler in handlers:
        handlers.remove(handler)


def has_subscribers(name: str) -> bool:
    """Whether publishing `name` would reach anyone (skip building costly data when not)."""
    return bool(_handlers.get(name)) and not _muted.get()


def publish(session: Session, name: str, **data: Any) -> DomainEvent | None:
    """Hand an event to its subscribers, in the caller's transaction."""
    if name not in EVENT_NAMES:
        raise ValueError(f"unknown event {name!r}")
    if _muted.get() or not _handlers.get(name):
        return None
    event = DomainEvent(name, data)
    for handler in list(_handlers[name]):
        handler(session, event)
    return event


@contextmanager
def muted() -> Iterator[None]:
    """Publish nothing inside this block (demo seeding, imports of old threads)."""
    token = _muted.set(True)
    try:
        yield
    finally:
        _muted.reset(token)
