"""Which enabled endpoints want which events, cached per process and per database.

Every published event asks this cache, so a site without endpoints pays one dictionary look-up
per event, not a query. Entries live `ttl` seconds (another process's change is seen within
that time) and are dropped at once by the services that change endpoints in this process.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from weakref import WeakKeyDictionary

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from models.webhooks import WebhookEndpoint

TTL_SECONDS = 5.0


@dataclass(frozen=True)
class Subscription:
    """One enabled endpoint, where it points and the events it wants."""

    endpoint_id: int
    url: str
    events: frozenset[str]


class EndpointCache:
    """Subscriptions per engine (each app, each test database, has its own)."""

    def __init__(self, ttl: float = TTL_SECONDS, clock: Callable[[], float] = time.monotonic):
        self.ttl = ttl
        self.clock = clock
        self._entries: WeakKeyDictionary[Engine, tuple[float, tuple[Subscription, ...]]] = (
            WeakKeyDictionary()
        )
        self._lock = threading.Lock()

    @staticmethod
    def _engine(session: Session) -> Engine:
        return session.get_bind().engine

    def subscriptions(self, session: Session) -> tuple[Subscription, ...]:
        """The enabled endpoints, read through `session` when the cached list is too old."""
        engine = self._engine(session)
        now = self.clock()
        with self._lock:
            entry = self._entries.get(engine)
        if entry is not None and now - entry[0] < self.ttl:
            return entry[1]
        rows = session.execute(
            select(WebhookEndpoint.id, WebhookEndpoint.url, WebhookEndpoint.events)
            .where(WebhookEndpoint.enabled.is_(True))
            .order_by(WebhookEndpoint.id)
        )
        found = tuple(Subscription(row.id, row.url, frozenset(row.events or ())) for row in rows)
        with self._lock:
            self._entries[engine] = (now, found)
        return found

    def subscribers(self, session: Session, event_name: str) -> list[Subscription]:
        """The enabled endpoints subscribed to `event_name`."""
        return [s for s in self.subscriptions(session) if event_name in s.events]

    def invalidate(self, session: Session) -> None:
        """Forget the list of `session`'s database (an endpoint changed)."""
        with self._lock:
            self._entries.pop(self._engine(session), None)


endpoint_cache = EndpointCache()
