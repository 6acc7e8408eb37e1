"""The active lexicon in every worker: shipped word files plus moderators' runtime changes.

A change bumps a version number (a database row, and a Redis key when REDIS_URL is set). Each
worker checks that number at most every few seconds and, when it moved, rebuilds the lexicon
from the database and swaps it in; screening itself never waits on the database.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from errors import Invalid
from lookups import get_or_404
from models import LexiconAction, LexiconEntry, SiteSetting, User, utcnow
from moderation.audit import record_action
from moderation.lexicon import (
    ALLOWED_CATEGORIES,
    LexiconOverrides,
    active_lexicon,
    build_lexicon,
    set_active_lexicon,
)

VERSION_KEY = "lexicon_version"
REDIS_VERSION_KEY = "tribune:lexicon_version"
# Every list a moderator may add to (the ones screening understands).
LIST_NAMES = ALLOWED_CATEGORIES


def _stored_int(value: object) -> int:
    """The version as stored (a JSON number), 0 when there is none."""
    return int(value) if isinstance(value, int | float | str) else 0


def read_version(session: Session) -> int:
    """The lexicon version stored in the database (0 when nothing changed yet)."""
    value = session.scalar(select(SiteSetting.value).where(SiteSetting.key == VERSION_KEY))
    return _stored_int(value)


def _bump_version(session: Session) -> int:
    """Move the stored version up by one and return the new number."""
    current = session.get(SiteSetting, VERSION_KEY, with_for_update=True)
    if current is None:
        session.add(SiteSetting(key=VERSION_KEY, value=1))
        session.flush()
        return 1
    new_version = _stored_int(current.value) + 1
    session.execute(
        update(SiteSetting)
        .where(SiteSetting.key == VERSION_KEY)
        .values(value=new_version, updated_at=utcnow())
    )
    session.expire(current)
    return new_version


def load_overrides(session: Session) -> LexiconOverrides:
    """Every runtime change, as the pure overrides screening understands."""
    added: list[tuple[str, str]] = []
    removed: set[str] = set()
    allowed: set[str] = set()
    domains: set[str] = set()
    for entry in session.scalars(select(LexiconEntry).order_by(LexiconEntry.id)):
        if entry.action is LexiconAction.ADD:
            added.append((entry.word, entry.list_name or "hold"))
        elif entry.action is LexiconAction.REMOVE:
            removed.add(entry.word)
        elif entry.action is LexiconAction.ALLOW:
            allowed.add(entry.word)
        else:
            domains.add(entry.word)
    return LexiconOverrides(
        added=tuple(added),
        removed=frozenset(removed),
        allowed=frozenset(allowed),
        allowed_domains=frozenset(domains),
    )


def add_entry(
    session: Session, actor: User, action: LexiconAction, word: str, list_name: str | None = None
) -> tuple[LexiconEntry, int]:
    """Record a word-list change, bump the version and audit it; returns the new version."""
    word = word.strip().casefold()
    if not 2 <= len(word) <= 100 or "\n" in word:
        raise Invalid("invalid_word", "Een woord of domein heeft 2 tot 100 tekens.")
    if action is LexiconAction.ADD and list_name not in LIST_NAMES:
        raise Invalid("invalid_list", f"Kies een lijst: {', '.join(LIST_NAMES)}.")
    existing = session.scalar(
        select(LexiconEntry).where(LexiconEntry.action == action, LexiconEntry.word == word)
    )
    if existing is not None:
        existing.list_name = list_name if action is LexiconAction.ADD else None
        entry = existing
    else:
        entry = LexiconEntry(
            action=action,
            word=word,
            list_name=list_name if action is LexiconAction.ADD else None,
            created_by_id=actor.id,
        )
        session.add(entry)
    session.flush()
    version = _bump_version(session)
    record_action(
        session,
        actor,
        "lexicon",
        entry.id,
        f"lexicon_{action.value}",
        to_state=list_name,
        note=f"{word} (versie {version})",
    )
    return entry, version


def remove_entry(session: Session, actor: User, entry_id: int) -> int:
    """Undo a runtime change, bump the version and audit it; returns the new version."""
    entry = get_or_404(
        session, LexiconEntry, entry_id, "entry_not_found", "Die woordenlijstregel bestaat niet."
    )
    version = _bump_version(session)
    record_action(
        session,
        actor,
        "lexicon",
        entry.id,
        f"lexicon_undo_{entry.action.value}",
        note=f"{entry.word} (versie {version})",
    )
    session.delete(entry)
    session.flush()
    return version


class LexiconRefresher:
    """Keeps this process's active lexicon at the latest version, checking every few seconds."""

    def __init__(
        self,
        session_factory: Callable[[], Session],
        redis_client: Any = None,  # a redis.Redis, or None without Redis
        interval: float = 3.0,
        redis_key: str = REDIS_VERSION_KEY,
    ) -> None:
        self.session_factory = session_factory
        self.redis = redis_client
        self.redis_key = redis_key
        self.interval = interval
        self._checked_at = 0.0
        self._lock = threading.Lock()

    def _remote_version(self) -> int | None:
        if self.redis is not None:
            try:
                raw = self.redis.get(self.redis_key)
                if raw is not None:
                    return int(raw)
            except Exception:  # Redis down: fall back to the database
                pass
        with self.session_factory() as session:
            return read_version(session)

    def publish(self, version: int) -> None:
        """Tell every worker (through Redis) that the lexicon moved; call after commit."""
        if self.redis is not None:
            self.redis.set(self.redis_key, version)
        self._checked_at = 0.0  # this worker picks it up on its next screening

    def refresh(self, force: bool = False) -> None:
        """Swap in a rebuilt lexicon when the stored version differs from the active one."""
        now = time.monotonic()
        if not force and now - self._checked_at < self.interval:
            return
        with self._lock:
            if not force and now - self._checked_at < self.interval:
                return
            self._checked_at = now
            version = self._remote_version()
            if version is None or version == active_lexicon().version:
                return
            with self.session_factory() as session:
                version = read_version(session)
                overrides = load_overrides(session)
            set_active_lexicon(build_lexicon(overrides, version=version))
