"""Short-lived caches of tally responses, keyed by the sorted, deduplicated ids.

Redis when REDIS_URL is set (shared by every worker), an in-process TTL cache otherwise, or
none when the TTL is 0. A cache failure is a miss, never an error: the counters are the truth.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any, Protocol

log = logging.getLogger(__name__)


def cache_key(ids: Sequence[str]) -> str:
    """A bounded key for a set of ids (callers pass them sorted and deduplicated)."""
    return hashlib.blake2b(",".join(ids).encode(), digest_size=16).hexdigest()


class TallyCache(Protocol):
    def get(self, ids: Sequence[str]) -> bytes | None: ...

    def put(self, ids: Sequence[str], body: bytes) -> None: ...


class NoCache:
    """Caching switched off (TRIBUNE_TALLY_CACHE_SECONDS=0): every read queries."""

    def get(self, ids: Sequence[str]) -> bytes | None:
        return None

    def put(self, ids: Sequence[str], body: bytes) -> None:
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

    def get(self, ids: Sequence[str]) -> bytes | None:
        key = cache_key(ids)
        entry = self._entries.get(key)
        if entry is None:
            return None
        expires, body = entry
        if expires <= self.clock():
            with self._lock:
                self._entries.pop(key, None)
            return None
        return body

    def put(self, ids: Sequence[str], body: bytes) -> None:
        key = cache_key(ids)
        with self._lock:
            self._entries[key] = (self.clock() + self.ttl, body)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


class RedisCache:
    """Responses in Redis under `<prefix>:tallies:<hash>` with a TTL (milliseconds)."""

    def __init__(self, client: Any, prefix: str, ttl: float) -> None:
        self.client = client
        self.prefix = f"{prefix}:tallies:"
        self.ttl_ms = max(1, int(ttl * 1000))

    def get(self, ids: Sequence[str]) -> bytes | None:
        try:
            return self.client.get(self.prefix + cache_key(ids))
        except Exception:  # redis.RedisError and socket errors: serve from the database
            log.warning("tally cache read failed; reading the counters", exc_info=True)
            return None

    def put(self, ids: Sequence[str], body: bytes) -> None:
        try:
            self.client.set(self.prefix + cache_key(ids), body, px=self.ttl_ms)
        except Exception:
            log.warning("tally cache write failed", exc_info=True)

    def clear(self) -> None:
        """Drop every cached tally response under this prefix (tests, after a recount)."""
        for key in self.client.scan_iter(match=self.prefix + "*", count=1000):
            self.client.delete(key)


def build_cache(ttl: float, redis_client: Any, prefix: str) -> TallyCache:
    """The cache the settings ask for."""
    if ttl <= 0:
        return NoCache()
    if redis_client is not None:
        return RedisCache(redis_client, prefix, ttl)
    return MemoryCache(ttl)
