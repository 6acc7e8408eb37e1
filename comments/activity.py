"""Recent activity per author: flood limits and duplicate memory.

Shared by every instance through Redis when REDIS_URL is set; in process otherwise. One call
checks the flood limits and, when they allow the post, records it: one Redis round trip per
post, and two posts of one author at the same moment cannot both slip under a limit.

The round trip can travel while the caller works: begin_claim() sends it and the answer's
result() collects it. A worker that waits idle for Redis pays more CPU for the wake-up (a
context switch, cold caches) than for the call itself; one that screens the text meanwhile
mostly finds the answer waiting.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any, Protocol

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError
from redis.exceptions import TimeoutError as RedisTimeoutError

# Flood limits: (posts allowed, within seconds).
Limits = list[tuple[int, float]]


@dataclass
class Claim:
    """The author's posts in the memory window before this one, and whether this one may go.

    When `allowed`, the post is recorded already (`member` names it, so a post that then
    fails can be forgotten); otherwise `window` is the limit it ran into.
    """

    allowed: bool
    recent: list[tuple[float, str]] = field(default_factory=list)
    window: float = 0.0
    member: str = ""


class PendingClaim(Protocol):
    def result(self) -> Claim:
        """The claim's answer; must be called once for every begin_claim()."""
        ...


@dataclass
class ReadyClaim:
    """A claim answered at once (in process, or after a fallback to the plain call)."""

    claim: Claim

    def result(self) -> Claim:
        return self.claim


class ActivityStore(Protocol):
    def claim(
        self, user_id: int, fingerprint: str, now: float, memory_seconds: float, limits: Limits
    ) -> Claim:
        """Check the flood limits and, if they allow it, record the post (atomically)."""
        ...

    def begin_claim(
        self, user_id: int, fingerprint: str, now: float, memory_seconds: float, limits: Limits
    ) -> PendingClaim:
        """claim(), started now and answered by the result's result()."""
        ...

    def forget(self, user_id: int, claim: Claim) -> None:
        """Take back a recorded post that was not stored after all."""
        ...


def _first_breach(times: list[float], now: float, limits: Limits) -> float | None:
    for limit, window in limits:
        if sum(1 for at in times if now - at < window) >= limit:
            return window
    return None


class MemoryActivity:
    """Per-process memory; right for one process (tests, the demo server)."""

    MAX_ITEMS = 50

    def __init__(self) -> None:
        self._posts: dict[int, deque[tuple[float, str, str]]] = defaultdict(
            lambda: deque(maxlen=self.MAX_ITEMS)
        )
        self._lock = threading.Lock()

    def claim(
        self, user_id: int, fingerprint: str, now: float, memory_seconds: float, limits: Limits
    ) -> Claim:
        with self._lock:
            posts = self._posts[user_id]
            recent = [(at, fp) for at, fp, _ in posts if now - at < memory_seconds]
            breach = _first_breach([at for at, _ in recent], now, limits)
            if breach is not None:
                return Claim(False, recent, breach)
            member = uuid.uuid4().hex
            posts.append((now, fingerprint, member))
            return Claim(True, recent, member=member)

    def begin_claim(
        self, user_id: int, fingerprint: str, now: float, memory_seconds: float, limits: Limits
    ) -> PendingClaim:
        return ReadyClaim(self.claim(user_id, fingerprint, now, memory_seconds, limits))

    def forget(self, user_id: int, claim: Claim) -> None:
        with self._lock:
            posts = self._posts.get(user_id)
            if posts is not None:
                kept = [post for post in posts if post[2] != claim.member]
                posts.clear()
                posts.extend(kept)


# KEYS[1]: the author's sorted set (score = time, member = time:fingerprint:nonce).
# ARGV: now, memory start, member, keep seconds, max items, then (limit, window) pairs.
# Returns {allowed 0/1, window of the breached limit, the posts in the memory window}.
_CLAIM = """
local key = KEYS[1]
local now = tonumber(ARGV[1])
local recent = redis.call('ZRANGEBYSCORE', key, ARGV[2], '+inf', 'WITHSCORES')
for i = 6, #ARGV, 2 do
  local limit = tonumber(ARGV[i])
  local window = tonumber(ARGV[i + 1])
  if redis.call('ZCOUNT', key, '(' .. (now - window), '+inf') >= limit then
    return {0, ARGV[i + 1], recent}
  end
end
redis.call('ZADD', key, now, ARGV[3])
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - tonumber(ARGV[4]))
redis.call('ZREMRANGEBYRANK', key, 0, -(tonumber(ARGV[5]) + 1))
redis.call('EXPIRE', key, ARGV[4])
return {1, '0', recent}
"""


class RedisActivity:
    """One sorted set per author, trimmed as it goes; checked and written by one script."""

    KEEP_SECONDS = 24 * 3600
    MAX_ITEMS = 50

    def __init__(self, client: Any, prefix: str = "tribune:activity") -> None:
        self.redis = client
        self.prefix = prefix
        self._claim = client.register_script(_CLAIM)

    def _key(self, user_id: int) -> str:
        return f"{self.prefix}:{user_id}"

    def _arguments(
        self, fingerprint: str, now: float, memory_seconds: float, limits: Limits
    ) -> tuple[str, list[Any]]:
        member = f"{now:.6f}:{fingerprint}:{uuid.uuid4().hex[:8]}"
        args: list[Any] = [now, now - memory_seconds, member, self.KEEP_SECONDS, self.MAX_ITEMS]
        for limit, window in limits:
            args += [limit, window]
        return member, args

    @staticmethod
    def _answer(reply: list[Any], member: str) -> Claim:
        allowed, window, flat = reply
        recent = []
        for raw, score in zip(flat[::2], flat[1::2], strict=True):
            text = raw.decode() if isinstance(raw, bytes) else raw
            # "time:fingerprint:nonce" (entries written before the nonce have none)
            recent.append((float(score), text.split(":", 1)[1].rsplit(":", 1)[0]))
        if not allowed:
            return Claim(False, recent, float(window))
        return Claim(True, recent, member=member)

    def claim(
        self, user_id: int, fingerprint: str, now: float, memory_seconds: float, limits: Limits
    ) -> Claim:
        member, args = self._arguments(fingerprint, now, memory_seconds, limits)
        return self._answer(self._claim(keys=[self._key(user_id)], args=args), member)

    def begin_claim(
        self, user_id: int, fingerprint: str, now: float, memory_seconds: float, limits: Limits
    ) -> PendingClaim:
        """Send the script on a connection of the client's pool; _SentClaim reads the answer.

        When the send fails, the plain call runs at once (with the client's retries).
        """
        member, args = self._arguments(fingerprint, now, memory_seconds, limits)
        pool = self.redis.connection_pool
        try:
            connection = pool.get_connection()
        except (RedisConnectionError, RedisTimeoutError):
            return ReadyClaim(self.claim(user_id, fingerprint, now, memory_seconds, limits))
        try:
            connection.send_command("EVALSHA", self._claim.sha, 1, self._key(user_id), *args)
        except (RedisConnectionError, RedisTimeoutError):
            connection.disconnect()
            pool.release(connection)
            return ReadyClaim(self.claim(user_id, fingerprint, now, memory_seconds, limits))
        except BaseException:
            connection.disconnect()
            pool.release(connection)
            raise
        return _SentClaim(self, connection, user_id, member, args)

    def forget(self, user_id: int, claim: Claim) -> None:
        self.redis.zrem(self._key(user_id), claim.member)


def clock() -> float:
    """Wall-clock seconds (shared meaning across instances, unlike monotonic time)."""
    return time.time()


class _SentClaim:
    """A claim sent on `connection`; result() reads its answer and gives the connection back."""

    def __init__(
        self, store: RedisActivity, connection: Any, user_id: int, member: str, args: list[Any]
    ) -> None:
        self.store = store
        self.connection = connection
        self.user_id = user_id
        self.member = member
        self.args = args

    def result(self) -> Claim:
        store, connection = self.store, self.connection
        pool = store.redis.connection_pool
        try:
            reply = connection.read_response()
        except (NoScriptError, RedisConnectionError, RedisTimeoutError) as exc:
            # NOSCRIPT: Redis lost its scripts (restart, SCRIPT FLUSH); the error was read, so
            # the connection is clean. A broken connection is dropped; as with the client's own
            # retry the script may have run (worst case: the post is recorded twice).
            if not isinstance(exc, NoScriptError):
                connection.disconnect()
            pool.release(connection)
            # The plain call (re)loads the script and retries as the client does.
            key = store._key(self.user_id)
            return store._answer(store._claim(keys=[key], args=self.args), self.member)
        except BaseException:
            connection.disconnect()  # an answer may still be on its way: never reuse it
            pool.release(connection)
            raise
        pool.release(connection)
        return store._answer(reply, self.member)
