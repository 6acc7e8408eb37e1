"""Burst detection: a sudden spike of newly issued anonymous voter tokens on one poll.

Token issuance is counted per poll per minute (Redis when configured, else this process's
memory). A ballot cast with a token issued in a minute whose count is above both a floor and
`factor` times the average of the ten minutes before is marked suspicious ("burst"). Nothing is
refused: a goal in a derby also brings a spike, so editors look and decide (quarantine).

A spike, once seen, is remembered in the process: its minute's count only grows and the ten
minutes before it are over, so the verdict cannot change, and the votes of a spike (where the
load is) ask the store nothing. A quiet minute is asked again: it may still become a spike.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from datetime import datetime
from typing import Any, Protocol

BASELINE_MINUTES = 10
KEEP_SECONDS = 2 * 3600
SPIKES_KEPT = 10_000  # remembered spike minutes per process before the memo starts afresh


def minute_of(when: datetime) -> int:
    return int(when.timestamp() // 60)


class BurstStore(Protocol):
    def increment(self, poll_id: int, minute: int) -> None: ...

    def counts(self, poll_id: int, minutes: list[int]) -> list[int]: ...


class MemoryBurstStore:
    """Per-process counters (tests, single-process development)."""

    def __init__(self) -> None:
        self._counts: dict[tuple[int, int], int] = defaultdict(int)
        self._lock = threading.Lock()

    def increment(self, poll_id: int, minute: int) -> None:
        with self._lock:
            self._counts[(poll_id, minute)] += 1
            if len(self._counts) > 50_000:
                cutoff = minute - KEEP_SECONDS // 60
                for key in [k for k in self._counts if k[1] < cutoff]:
                    del self._counts[key]

    def counts(self, poll_id: int, minutes: list[int]) -> list[int]:
        with self._lock:
            return [self._counts.get((poll_id, m), 0) for m in minutes]


class RedisBurstStore:
    """Counters shared by every worker."""

    def __init__(self, client: Any, prefix: str) -> None:
        self.client = client
        self.prefix = prefix

    def _key(self, poll_id: int, minute: int) -> str:
        return f"{self.prefix}:{poll_id}:{minute}"

    def increment(self, poll_id: int, minute: int) -> None:
        pipe = self.client.pipeline()
        key = self._key(poll_id, minute)
        pipe.incr(key)
        pipe.expire(key, KEEP_SECONDS)
        pipe.execute()

    def counts(self, poll_id: int, minutes: list[int]) -> list[int]:
        values = self.client.mget([self._key(poll_id, m) for m in minutes])
        return [int(v) if v is not None else 0 for v in values]


class BurstDetector:
    """Counts token issuance and says whether a token was born in a spike."""

    def __init__(self, store: BurstStore, floor: int = 60, factor: float = 5.0) -> None:
        self.store = store
        self.floor = floor
        self.factor = factor
        self._spikes: set[tuple[int, int]] = set()

    def record_issue(self, poll_id: int, when: datetime) -> None:
        """Count one newly issued token."""
        self.store.increment(poll_id, minute_of(when))

    def is_burst(self, poll_id: int, issued_at: datetime) -> bool:
        """Whether the token's issuing minute was a spike."""
        minute = minute_of(issued_at)
        if (poll_id, minute) in self._spikes:
            return True
        minutes = [minute - i for i in range(BASELINE_MINUTES + 1)]
        try:
            current, *before = self.store.counts(poll_id, minutes)
        except Exception:  # a Redis hiccup must not block voting
            return False
        baseline = sum(before) / BASELINE_MINUTES
        if current > self.floor and current > self.factor * baseline:
            if len(self._spikes) >= SPIKES_KEPT:
                self._spikes.clear()
            self._spikes.add((poll_id, minute))
            return True
        return False
