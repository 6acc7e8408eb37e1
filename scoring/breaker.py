"""The scorer's circuit breaker: closed → open after N consecutive failures → half-open after the
cool-down (one trial call) → closed on its success, open again on its failure.

With REDIS_URL set the state lives in Redis (keys `<prefix>:scorer:*`), so every worker of every
machine sees the same breaker and only one of them makes the half-open trial call (a SET NX
claim). Without Redis each worker process keeps its own breaker. Times are the worker's clock
(seconds since the epoch), so tests move them forward instead of sleeping.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import redis

CLOSED = "closed"
OPEN = "open"
HALF_OPEN = "half_open"


class BreakerStore(Protocol):
    """Where the breaker's three facts live: consecutive failures, open-until, the trial claim."""

    def add_failure(self) -> int: ...
    def reset(self) -> None: ...
    def open_until(self) -> float | None: ...
    def set_open_until(self, moment: float) -> None: ...
    def claim_trial(self, seconds: float) -> bool: ...
    def release_trial(self) -> None: ...


class MemoryBreakerStore:
    """One process's breaker (no REDIS_URL)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._failures = 0
        self._open_until: float | None = None
        self._trial_until = 0.0  # monotonic time the trial claim lapses (as Redis's TTL)

    def add_failure(self) -> int:
        with self._lock:
            self._failures += 1
            return self._failures

    def reset(self) -> None:
        with self._lock:
            self._failures, self._open_until, self._trial_until = 0, None, 0.0

    def open_until(self) -> float | None:
        return self._open_until

    def set_open_until(self, moment: float) -> None:
        self._open_until = moment

    def claim_trial(self, seconds: float) -> bool:
        with self._lock:
            if time.monotonic() < self._trial_until:
                return False
            self._trial_until = time.monotonic() + seconds
            return True

    def release_trial(self) -> None:
        self._trial_until = 0.0


class RedisBreakerStore:
    """The breaker every worker shares (REDIS_URL set)."""

    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self.client = client
        self.failures_key = f"{prefix}:scorer:failures"
        self.open_key = f"{prefix}:scorer:open_until"
        self.trial_key = f"{prefix}:scorer:trial"

    def add_failure(self) -> int:
        count: int = self.client.incr(self.failures_key)  # type: ignore[assignment]
        return int(count)

    def reset(self) -> None:
        self.client.delete(self.failures_key, self.open_key, self.trial_key)

    def open_until(self) -> float | None:
        value: bytes | None = self.client.get(self.open_key)  # type: ignore[assignment]
        return float(value) if value is not None else None

    def set_open_until(self, moment: float) -> None:
        self.client.set(self.open_key, repr(moment))

    def claim_trial(self, seconds: float) -> bool:
        # Expires by itself: a worker that dies during its trial does not block the others.
        return bool(self.client.set(self.trial_key, "1", nx=True, px=max(1, int(seconds * 1000))))

    def release_trial(self) -> None:
        self.client.delete(self.trial_key)


@dataclass
class CircuitBreaker:
    """Decides whether a scorer call may go now, and learns from each call's outcome."""

    store: BreakerStore
    failures: int  # consecutive failures that open it
    cooldown: float  # seconds it stays open before a trial
    trial_seconds: float  # how long one trial call may take (its claim's lifetime)

    def state(self, now: float) -> str:
        """closed, open, or half_open (the cool-down is over: a trial may go)."""
        until = self.store.open_until()
        if until is None:
            return CLOSED
        return OPEN if now < until else HALF_OPEN

    def allow(self, now: float) -> bool:
        """Whether a call may go now: always when closed; one trial when half-open."""
        state = self.state(now)
        if state == CLOSED:
            return True
        if state == OPEN:
            return False
        return self.store.claim_trial(self.trial_seconds)

    def succeeded(self) -> None:
        """A call gave scores: closed, failures forgotten."""
        self.store.reset()

    def failed(self, now: float) -> None:
        """A call failed: a failed trial opens it again; the N-th consecutive failure opens it."""
        if self.store.open_until() is not None:
            self.store.set_open_until(now + self.cooldown)
            self.store.release_trial()
            return
        if self.store.add_failure() >= self.failures:
            self.store.set_open_until(now + self.cooldown)


_memory_stores: dict[str, MemoryBreakerStore] = {}
_memory_lock = threading.Lock()


def breaker_for(settings: Mapping[str, Any], client: redis.Redis | None) -> CircuitBreaker:
    """The breaker of these settings: in Redis when a client is given, else this process's own
    (one per Redis prefix and scorer URL, kept for the life of the process)."""
    prefix = settings["TRIBUNE_REDIS_PREFIX"]
    store: BreakerStore
    if client is not None:
        store = RedisBreakerStore(client, prefix)
    else:
        with _memory_lock:
            key = f"{prefix} {settings['TRIBUNE_SCORER_URL']}"
            store = _memory_stores.setdefault(key, MemoryBreakerStore())
    return CircuitBreaker(
        store,
        failures=settings["TRIBUNE_SCORER_BREAKER_FAILURES"],
        cooldown=settings["TRIBUNE_SCORER_BREAKER_COOLDOWN_SECONDS"],
        trial_seconds=settings["TRIBUNE_SCORER_TIMEOUT_MS"] / 1000 + 5,
    )
