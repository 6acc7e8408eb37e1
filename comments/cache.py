"""Rendered thread pages, cached until the state machine touches the article.

Every change that alters what readers see of an article's thread (a state change, an edit)
records the article on the session; after commit its thread version is bumped, which retires
every cached page of it. With Redis the versions and pages are shared by all workers; without
it each process keeps its own, with a short TTL so other workers' changes show within seconds.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

TOUCHED = "tribune.touched_articles"
DEFERRED = "tribune.after_commit"
# Set on sessions whose factory runs deferred work after commit (ThreadCache.listen).
RUNS_DEFERRED = "tribune.runs_after_commit"
logger = logging.getLogger(__name__)
AfterCommit = Callable[[Any], None]


def touch_article(session: Session, article_id: int) -> None:
    """Mark an article's thread as changed by this transaction."""
    session.info.setdefault(TOUCHED, set()).add(article_id)


def after_commit(session: Session, work: AfterCommit) -> None:
    """Run `work(pipeline)` once the transaction commits, in the same Redis round trip as the
    thread version bump (the pipeline is None without Redis); dropped on rollback. Sessions
    that do not run deferred work (scripts, some tests) run it at once, with no pipeline."""
    if session.info.get(RUNS_DEFERRED):
        session.info.setdefault(DEFERRED, []).append(work)
    else:
        work(None)


class ThreadCache:
    """Versioned cache of serialised thread pages."""

    def __init__(
        self,
        redis_client: Any = None,
        prefix: str = "tribune",
        ttl: float = 60.0,
        local_ttl: float = 2.0,
    ) -> None:
        self.redis = redis_client
        self.prefix = prefix + ":thread"
        self.ttl = ttl
        self.local_ttl = local_ttl
        self._versions: dict[int, int] = {}
        self._pages: dict[str, tuple[float, bytes]] = {}
        self._lock = threading.Lock()

    def _version_key(self, article_id: int) -> str:
        return f"{self.prefix}:v:{article_id}"

    def version(self, article_id: int) -> int:
        if self.redis is not None:
            raw = self.redis.get(self._version_key(article_id))
            return int(raw) if raw else 0
        return self._versions.get(article_id, 0)

    def get(self, article_id: int, variant: str) -> tuple[str, bytes | None]:
        """The cache key for this page at the current version, and the page if cached."""
        key = f"{self.prefix}:p:{article_id}:{self.version(article_id)}:{variant}"
        if self.redis is not None:
            return key, self.redis.get(key)
        with self._lock:
            hit = self._pages.get(key)
        if hit and hit[0] > time.monotonic():
            return key, hit[1]
        return key, None

    def put(self, key: str, body: bytes) -> None:
        if self.redis is not None:
            self.redis.set(key, body, ex=int(self.ttl))
            return
        with self._lock:
            if len(self._pages) > 2000:
                self._pages.clear()
            self._pages[key] = (time.monotonic() + self.local_ttl, body)

    def bump(self, article_ids: set[int], deferred: list[AfterCommit] = ()) -> None:  # type: ignore[assignment]
        """Retire the cached pages of these articles (and run deferred work alongside)."""
        if self.redis is not None:
            pipe = self.redis.pipeline(transaction=False)  # INCRs need no MULTI/EXEC
            for article_id in sorted(article_ids):
                pipe.incr(self._version_key(article_id))
            for work in deferred:
                work(pipe)
            pipe.execute()
            return
        with self._lock:
            for article_id in article_ids:
                self._versions[article_id] = self._versions.get(article_id, 0) + 1
        for work in deferred:
            work(None)

    def listen(self, factory: sessionmaker) -> None:  # type: ignore[type-arg]
        """Bump versions after each commit that touched threads; forget them on rollback."""
        factory.configure(info={**factory.kw.get("info", {}), RUNS_DEFERRED: True})

        @event.listens_for(factory, "after_commit")
        def _after_commit(session: Session) -> None:
            touched = session.info.pop(TOUCHED, None)
            deferred = session.info.pop(DEFERRED, None)
            if touched or deferred:
                try:
                    self.bump(touched or set(), deferred or [])
                except Exception:  # a cache outage must not fail a committed write
                    logger.warning("thread cache bump failed; pages expire by TTL", exc_info=True)

        @event.listens_for(factory, "after_rollback")
        def _after_rollback(session: Session) -> None:
            session.info.pop(TOUCHED, None)
            session.info.pop(DEFERRED, None)
