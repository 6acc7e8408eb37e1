"""The refresh interval the server hands to every live check, lengthened under load.

Readers' scripts ask again after the `Tribune-Refresh` seconds of the last answer: the live
interval while one of the article's polls is open, the idle interval otherwise. Every check
is counted in ten-second buckets (in Redis when REDIS_URL is set, so all instances see the
same load; per process otherwise); when the last full bucket held more checks per second than
TRIBUNE_LIVE_CHECKS_PER_SECOND, the interval grows by that ratio, up to
TRIBUNE_LIVE_REFRESH_MAX_SECONDS. The checks are conditional requests (ETags), so most are
answered with a 304 without rendering anything.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import redis
from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import Session

from models import Poll, PollOption, PollPlayer

HEADER = "Tribune-Refresh"
# Sent while one of the article's polls is open: the scripts then put news in on their own
# (a reader who is typing excepted); otherwise they offer it behind a "nieuwe reacties" button.
LIVE_HEADER = "Tribune-Live"
BUCKET_SECONDS = 10


@dataclass(frozen=True)
class Hint:
    """What one answer tells the script: when to check again, and whether the article is live."""

    seconds: int
    live: bool

    def apply(self, headers: Any) -> None:
        headers[HEADER] = str(self.seconds)
        if self.live:
            headers[LIVE_HEADER] = "1"


@dataclass(frozen=True)
class Pacing:
    live_seconds: int
    idle_seconds: int
    max_seconds: int
    checks_per_second: float

    @classmethod
    def from_config(cls, config: Any) -> Pacing:
        return cls(
            live_seconds=config["TRIBUNE_LIVE_REFRESH_SECONDS"],
            idle_seconds=config["TRIBUNE_IDLE_REFRESH_SECONDS"],
            max_seconds=config["TRIBUNE_LIVE_REFRESH_MAX_SECONDS"],
            checks_per_second=config["TRIBUNE_LIVE_CHECKS_PER_SECOND"],
        )

    def check(self) -> None:
        """Refuse settings that would make checks run wild or never lengthen."""
        if min(self.live_seconds, self.idle_seconds) < 1 or self.checks_per_second <= 0:
            raise ValueError(
                "TRIBUNE_LIVE_REFRESH_SECONDS and TRIBUNE_IDLE_REFRESH_SECONDS must be at least "
                "1, TRIBUNE_LIVE_CHECKS_PER_SECOND above 0"
            )
        if self.max_seconds < max(self.live_seconds, self.idle_seconds):
            raise ValueError(
                "TRIBUNE_LIVE_REFRESH_MAX_SECONDS must be at least the live and idle intervals"
            )

    def interval(self, live: bool, checks_per_second: float) -> int:
        """Seconds until the next check: longer under load, never above the maximum."""
        base = self.live_seconds if live else self.idle_seconds
        load = max(1.0, checks_per_second / self.checks_per_second)
        return min(self.max_seconds, max(base, math.ceil(base * load)))


class CheckCounter:
    """Checks per ten-second bucket; the rate is that of the last full bucket."""

    def __init__(
        self,
        client: redis.Redis | None,
        prefix: str,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._client, self._prefix, self._clock = client, prefix, clock
        self._local: dict[int, int] = {}
        self._lock = threading.Lock()

    def count(self) -> float:
        """Count this check and answer the rate of the bucket before this one."""
        bucket = int(self._clock() // BUCKET_SECONDS)
        if self._client is not None:
            try:
                return self._count_shared(bucket)
            except redis.RedisError:
                pass  # the local count serves until Redis answers again
        with self._lock:
            self._local[bucket] = self._local.get(bucket, 0) + 1
            for old in [b for b in self._local if b < bucket - 1]:
                del self._local[old]
            return self._local.get(bucket - 1, 0) / BUCKET_SECONDS

    def _count_shared(self, bucket: int) -> float:
        assert self._client is not None
        key = f"{self._prefix}live:{bucket}"
        pipe = self._client.pipeline(transaction=False)
        pipe.incr(key)
        pipe.expire(key, 3 * BUCKET_SECONDS)
        pipe.get(f"{self._prefix}live:{bucket - 1}")
        _, _, before = pipe.execute()
        return int(before or 0) / BUCKET_SECONDS


def has_open_poll(session: Session, article_id: int, now: Any) -> bool:
    """True when one of the article's polls takes votes now (polls.states.poll_state OPEN)."""
    return bool(
        session.scalar(
            select(
                exists().where(
                    Poll.article_id == article_id,
                    or_(Poll.opens_at.is_(None), Poll.opens_at <= now),
                    or_(Poll.closes_at.is_(None), Poll.closes_at > now),
                )
            )
        )
    )


def polls_signature(session: Session, article_id: int) -> str:
    """What changes in the article's poll panels as votes come in or ballots are quarantined:
    per poll its ballot count, the sum of its option counts and of its players' rating counts
    (player ratings), in one query."""
    votes = (
        select(func.coalesce(func.sum(PollOption.vote_count), 0))
        .where(PollOption.poll_id == Poll.id)
        .scalar_subquery()
    )
    ratings = (
        select(func.coalesce(func.sum(PollPlayer.rating_count), 0))
        .where(PollPlayer.poll_id == Poll.id)
        .scalar_subquery()
    )
    rows = session.execute(
        select(Poll.id, Poll.ballot_count, votes, ratings)
        .where(Poll.article_id == article_id)
        .order_by(Poll.id)
    )
    return ".".join(f"{pid}:{ballots}:{v}:{r}" for pid, ballots, v, r in rows)


def etag_matches(etag: str, if_none_match: str) -> bool:
    """Weak comparison (RFC 9110 for If-None-Match); "*" matches any tag."""
    tags = [part.strip() for part in if_none_match.split(",") if part.strip()][:10]
    plain = etag.removeprefix("W/")
    return any(tag == "*" or tag.removeprefix("W/") == plain for tag in tags)
