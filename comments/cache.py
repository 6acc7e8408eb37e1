"""Rendered thread pages, cached per version of the article's thread.

Every change that alters what readers see of an article's thread (a comment reaching or
leaving "published", an edit) records the article on the session; before the transaction
commits, `articles.thread_version` goes up by one, in the same transaction, as the last write
(articles are the last rows any transaction locks). A reader reads the version with the
article and looks the page up under it, so a committed change retires every cached page of
the article at once, in every worker, without a cache round trip on the writing side. Pages
live in Redis when it is set (shared by all workers), else in process.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from sqlalchemy import bindparam, event, update
from sqlalchemy.orm import Session, sessionmaker

from models import Article

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
        self.redis = redis_client
        self.prefix = prefix + ":thread"
        self.ttl = ttl
        self.local_ttl = local_ttl
        self._pages: dict[str, tuple[float, bytes]] = {}
        self._lock = threading.Lock()

    def key(self, article_id: int, version: int, variant: str) -> str:
        return f"{self.prefix}:p:{article_id}:{version}:{variant}"

    def get(self, key: str) -> bytes | None:
        if self.redis is not None:
            return self.redis.get(key)  # type: ignore[no-any-return]
        with self._lock:
            hit = self._pages.get(key)
        if hit and hit[0] > time.monotonic():
            return hit[1]
        return None

    def put(self, key: str, body: bytes) -> None:
        if self.redis is not None:
            self.redis.set(key, body, ex=int(self.ttl))
            return
        with self._lock:
            if len(self._pages) > 2000:
                self._pages.clear()
            self._pages[key] = (time.monotonic() + self.local_ttl, body)

    @staticmethod
    def listen(factory: sessionmaker) -> None:  # type: ignore[type-arg]
        """Raise touched articles' versions before each commit; forget them on rollback."""

        @event.listens_for(factory, "before_commit")
        def _before_commit(session: Session) -> None:
            bump_touched(session)

        @event.listens_for(factory, "after_rollback")
        def _after_rollback(session: Session) -> None:
            session.info.pop(TOUCHED, None)
