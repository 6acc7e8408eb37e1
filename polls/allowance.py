"""The per-IP allowance counted in Redis: ballots per poll per IP hash in the last hour.

One sorted set per poll and IP hash holds a mark per ballot (score: the ballot's time; member:
the voter key plus a random suffix, so two attempts of one voter never share a mark). Marking
is one round trip (a script: drop the marks older than an hour, add this one, count), so
concurrent votes from one address each see a different count and the sliding hour stays exact,
as the database count under SQLite's write lock was. A mark whose ballot is not inserted (a
repeat voter, a refused or rolled-back vote) is taken away again; until then it counts for the
address's other votes.

Used on PostgreSQL, where votes run side by side. On SQLite the write lock serialises votes,
so polls.services counts the rows inside the ballot insert instead (exact, and cheaper than a
round trip); it does the same without Redis, or when Redis does not answer.
The keys carry the poll's created_at next to its id: ids repeat across databases (test runs,
a restored copy) that share one Redis, creation times practically do not.
"""

from __future__ import annotations

import contextlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

WINDOW_SECONDS = 3600
BORN_KEPT = 10_000  # polls whose creation time a process keeps before it starts afresh


@dataclass(frozen=True)
class Mark:
    """One ballot's mark and how many other marks its address had in the hour before."""

    key: str
    member: str
    before: int


# Drop the marks older than the hour ("(" keeps a mark exactly an hour old, as the row count's
# `created_at >= now - 1 hour` does), add this one, count, keep the key a little over an hour.
# A script runs atomically and costs one round trip.
_MARK_SCRIPT = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[1])
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
local marks = redis.call('ZCARD', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[4])
return marks
"""


class RedisIpAllowance:
    """Marks per poll per IP hash in a Redis sorted set (shared by every worker)."""

    def __init__(self, client: Any, prefix: str) -> None:
        self.client = client
        self.prefix = prefix
        self._mark = client.register_script(_MARK_SCRIPT)
        self._born: dict[int, datetime] = {}

    def born(self, poll_id: int) -> datetime | None:
        """The poll's creation time if this process has seen it (it names the poll's keys)."""
        return self._born.get(poll_id)

    def remember_born(self, poll_id: int, created_at: datetime) -> None:
        """Keep a poll's creation time: it never changes, so one read per poll per process."""
        if len(self._born) >= BORN_KEPT:
            self._born.clear()
        self._born[poll_id] = created_at

    def _key(self, poll_id: int, poll_created_at: datetime, ip_hash: str) -> str:
        born = int(poll_created_at.timestamp() * 1_000_000)
        return f"{self.prefix}:{poll_id}:{born}:{ip_hash}"

    def mark(
        self,
        poll_id: int,
        poll_created_at: datetime,
        ip_hash: str,
        voter_key: str,
        now: datetime,
    ) -> Mark | None:
        """Mark one ballot about to be inserted; None when Redis fails (count the rows then)."""
        key = self._key(poll_id, poll_created_at, ip_hash)
        member = f"{voter_key}:{secrets.token_hex(4)}"
        moment = now.timestamp()
        try:
            marks = self._mark(
                keys=[key],
                args=[repr(moment - WINDOW_SECONDS), repr(moment), member, WINDOW_SECONDS + 60],
            )
        except Exception:  # a Redis hiccup must not block voting: count the rows instead
            return None
        return Mark(key, member, int(marks) - 1)

    def forget(self, poll_id: int, poll_created_at: datetime, ip_hash: str, voter_key: str) -> None:
        """Take back the marks of a voter's ballot that was deleted (a duplicate claimed at
        sign-in: polls.claims), so the address counts the ballots that exist."""
        key = self._key(poll_id, poll_created_at, ip_hash)
        with contextlib.suppress(Exception):  # at worst one ballot too many for an hour
            stale = [m for m, _ in self.client.zscan_iter(key, match=f"{voter_key}:*")]
            if stale:
                self.client.zrem(key, *stale)

    def unmark(self, mark: Mark) -> None:
        """Take back the mark of a ballot that was not inserted."""
        # If Redis fails here, the address counts one ballot too many for an hour at worst.
        with contextlib.suppress(Exception):
            self.client.zrem(mark.key, mark.member)
