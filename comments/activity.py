"""Recent activity per author: flood limits and duplicate memory.

Shared by every instance through Redis when REDIS_URL is set; in process otherwise.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from typing import Any, Protocol


class ActivityStore(Protocol):
    def recent(self, user_id: int, window_seconds: float, now: float) -> list[tuple[float, str]]:
        """(time, fingerprint) of the author's posts in the window, oldest first."""
        ...

    def count_recent(self, user_id: int, window_seconds: float, now: float) -> int: ...

    def record_post(self, user_id: int, fingerprint: str, now: float, pipe: Any = None) -> None:
        """Remember a post; with Redis, `pipe` (a pipeline) sends it with other commands."""
        ...

    def recent_fingerprints(self, user_id: int, window_seconds: float, now: float) -> list[str]: ...


class MemoryActivity:
    """Per-process memory; right for one process (tests, the demo server)."""

    MAX_ITEMS = 50

    def __init__(self) -> None:
        self._posts: dict[int, deque[tuple[float, str]]] = defaultdict(
            lambda: deque(maxlen=self.MAX_ITEMS)
        )
        self._lock = threading.Lock()

    def recent(self, user_id: int, window_seconds: float, now: float) -> list[tuple[float, str]]:
        with self._lock:
            return [
                (at, fp) for at, fp in self._posts.get(user_id, ()) if now - at < window_seconds
            ]

    def count_recent(self, user_id: int, window_seconds: float, now: float) -> int:
        with self._lock:
            return sum(1 for at, _ in self._posts.get(user_id, ()) if now - at < window_seconds)

    def record_post(self, user_id: int, fingerprint: str, now: float, pipe: Any = None) -> None:
        with self._lock:
            self._posts[user_id].append((now, fingerprint))

    def recent_fingerprints(self, user_id: int, window_seconds: float, now: float) -> list[str]:
        with self._lock:
            return [fp for at, fp in self._posts.get(user_id, ()) if now - at < window_seconds]


class RedisActivity:
    """One sorted set per author (score = time, member = time:fingerprint), trimmed as it goes."""

    KEEP_SECONDS = 24 * 3600

    def __init__(self, client: object, prefix: str = "tribune:activity") -> None:
        self.redis = client
        self.prefix = prefix

    def _key(self, user_id: int) -> str:
        return f"{self.prefix}:{user_id}"

    def recent(self, user_id: int, window_seconds: float, now: float) -> list[tuple[float, str]]:
        """One round trip for both the flood count and the duplicate check."""
        members = self.redis.zrangebyscore(  # type: ignore[attr-defined]
            self._key(user_id), now - window_seconds, "+inf", withscores=True
        )
        result = []
        for member, score in members:
            text = member.decode() if isinstance(member, bytes) else member
            result.append((float(score), text.split(":", 1)[1]))
        return result

    def count_recent(self, user_id: int, window_seconds: float, now: float) -> int:
        return int(self.redis.zcount(self._key(user_id), now - window_seconds, "+inf"))  # type: ignore[attr-defined]

    def record_post(self, user_id: int, fingerprint: str, now: float, pipe: Any = None) -> None:
        key = self._key(user_id)
        # No MULTI/EXEC: one round trip either way, and the trims are idempotent.
        own = pipe is None
        if own:
            pipe = self.redis.pipeline(transaction=False)  # type: ignore[attr-defined]
        pipe.zadd(key, {f"{now:.6f}:{fingerprint}": now})
        pipe.zremrangebyscore(key, "-inf", now - self.KEEP_SECONDS)
        pipe.zremrangebyrank(key, 0, -51)
        pipe.expire(key, self.KEEP_SECONDS)
        if own:
            pipe.execute()

    def recent_fingerprints(self, user_id: int, window_seconds: float, now: float) -> list[str]:
        members = self.redis.zrangebyscore(self._key(user_id), now - window_seconds, "+inf")  # type: ignore[attr-defined]
        return [(m.decode() if isinstance(m, bytes) else m).split(":", 1)[1] for m in members]


def clock() -> float:
    """Wall-clock seconds (shared meaning across instances, unlike monotonic time)."""
    return time.time()
