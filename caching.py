"""Short-lived response caches: one TTL store, and the two caches built on it.

A store keeps bytes under a key for a time to live: in Redis when REDIS_URL is set (shared by
every worker), in process otherwise, or nowhere when the TTL is 0. A store failure is a miss,
never an error: the database is the truth.

- `ThreadCache`: rendered thread pages, keyed by the article's thread version. Every change that
  alters what readers see of a thread calls `touch_article`; before the transaction commits,
  `articles.thread_version` goes up by one in the same transaction, as its last write (articles
  are the last rows any transaction locks). A reader reads the version with the article and
  looks the page up under it, so a committed change retires every cached page of the article
  at once, in every worker, without a cache round trip on the writing side.
- `TallyCache`: tally answers, keyed by the sorted, deduplicated ids they answer for.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from sqlalchemy import bindparam, event, update
from sqlalchemy.orm import Session, sessionmaker

from models import Article

log = logging.getLogger(__name__)


# ---------------------------------------------------------------- TTL stores


class TtlStore(Protocol):
    """Bytes under a key for the store's time to live."""

    def get(self, key: str) -> bytes | None: ...

    def put(self, key: str, body: bytes) -> None: ...

    def clear(self) -> None: ...


class NoCache:
    """Caching switched off (a TTL of 0): every read goes to the database."""

    def get(self, key: str) -> bytes | None:
        return None

    def put(self, key: str, body: bytes) -> None:
        return None

    def clear(self) -> None:
        return None


class MemoryCache:
    """A per-process TTL cache with a size bound (oldest entries go first)."""

    def __init__(
        self,
        ttl: float,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self.clock = clock
        self._entries: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        expires, body = entry
        if expires <= self.clock():
            with self._lock:
                self._entries.pop(key, None)
            return None
        return body

    def put(self, key: str, body: bytes) -> None:
        with self._lock:
            self._entries[key] = (self.clock() + self.ttl, body)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


class RedisCache:
    """Bytes in Redis under `<namespace><key>` with a TTL (milliseconds)."""

    def __init__(self, client: Any, namespace: str, ttl: float) -> None:
        self.client = client
        self.namespace = namespace
        self.ttl_ms = max(1, int(ttl * 1000))

    def get(self, key: str) -> bytes | None:
        try:
            body: bytes | None = self.client.get(self.namespace + key)
        except Exception:  # redis.RedisError and socket errors: serve from the database
            log.warning(
                "cache read failed under %s; reading the database", self.namespace, exc_info=True
            )
            return None
        return body

    def put(self, key: str, body: bytes) -> None:
        try:
            self.client.set(self.namespace + key, body, px=self.ttl_ms)
        except Exception:
            log.warning("cache write failed under %s", self.namespace, exc_info=True)

    def clear(self) -> None:
        """Drop every entry under this namespace (tests, after a recount)."""
        for key in self.client.scan_iter(match=self.namespace + "*", count=1000):
            self.client.delete(key)


def build_store(
    ttl: float,
    redis_client: Any,
    namespace: str,
    *,
    local_ttl: float | None = None,
    max_entries: int = 10_000,
) -> TtlStore:
    """Redis when a client is given, else in process (for `local_ttl` when given); none at 0."""
    if redis_client is not None:
        return RedisCache(redis_client, namespace, ttl) if ttl > 0 else NoCache()
    lifetime = ttl if local_ttl is None else local_ttl
    return MemoryCache(lifetime, max_entries) if lifetime > 0 else NoCache()


# ---------------------------------------------------------------- thread pages

TOUCHED = "tribune.touched_articles"

_ARTICLES = Article.__table__
_BUMP = (
    update(_ARTICLES)
    .where(_ARTICLES.c.id.in_(bindparam("ids", expanding=True)))
    .values(thread_version=_ARTICLES.c.thread_version + 1)
)


def touch_article(session: Session, article_id: int) -> None:
    """Mark an article's thread as changed by this transaction."""
    session.info.setdefault(TOUCHED, set()).add(article_id)


def bump_touched(session: Session) -> None:
    """Raise the thread version of every touched article (one statement)."""
    touched = session.info.pop(TOUCHED, None)
    if touched:
        session.connection().execute(_BUMP, {"ids": sorted(touched)})


class ThreadCache:
    """Serialised thread pages by article, thread version and page variant."""

    def __init__(
        self,
        redis_client: Any = None,
        prefix: str = "tribune",
        ttl: float = 60.0,
        local_ttl: float = 60.0,
    ) -> None:
        self.store = build_store(
            ttl, redis_client, prefix + ":thread:p:", local_ttl=local_ttl, max_entries=2000
        )

    def key(self, article_id: int, version: int, variant: str) -> str:
        return f"{article_id}:{version}:{variant}"

    def get(self, key: str) -> bytes | None:
        return self.store.get(key)

    def put(self, key: str, body: bytes) -> None:
        self.store.put(key, body)

    @staticmethod
    def listen(factory: sessionmaker[Session]) -> None:
        """Raise touched articles' versions before each commit; forget them on rollback."""

        @event.listens_for(factory, "before_commit")
        def _before_commit(session: Session) -> None:
            bump_touched(session)

        @event.listens_for(factory, "after_rollback")
        def _after_rollback(session: Session) -> None:
            session.info.pop(TOUCHED, None)


# ---------------------------------------------------------------- tallies


def ids_key(ids: Sequence[str]) -> str:
    """A bounded key for a set of ids (callers pass them sorted and deduplicated)."""
    return hashlib.blake2b(",".join(ids).encode(), digest_size=16).hexdigest()


class TallyCache:
    """Tally answers by the ids they answer for."""

    def __init__(self, store: TtlStore) -> None:
        self.store = store

    def get(self, ids: Sequence[str]) -> bytes | None:
        return self.store.get(ids_key(ids))

    def put(self, ids: Sequence[str], body: bytes) -> None:
        self.store.put(ids_key(ids), body)

    def clear(self) -> None:
        self.store.clear()


def build_tally_cache(ttl: float, redis_client: Any, prefix: str) -> TallyCache:
    """The tally cache the settings ask for (TRIBUNE_TALLY_CACHE_SECONDS, 0 = off)."""
    return TallyCache(build_store(ttl, redis_client, f"{prefix}:tallies:"))
