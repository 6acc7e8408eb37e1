"""Article and site modes at posting time: auto-close, scheduled match-day windows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, bindparam, or_, select
from sqlalchemy.orm import Session

import brussels
from articles.services import article_not_found
from errors import Invalid
from lookups import get_or_404
from models import Article, CommentMode, MatchDayMode, MatchDayWindow, User, utcnow
from models.base import UTCDateTime
from moderation.audit import record_action
from writes.driver import hot_rows

SLOW_MIN, SLOW_MAX = 5, 3600  # seconds between two comments of one user in slow mode
WINDOW_MAX = timedelta(days=7)
LABEL_MAX = 120


@dataclass(frozen=True)
class ActiveMode:
    """What applies to one article right now."""

    closed: bool = False
    premoderated: bool = False
    slow_seconds: int | None = None
    window: MatchDayWindow | None = None

    @property
    def notice_nl(self) -> str | None:
        if self.closed:
            return "Reageren op dit artikel is gesloten."
        if self.premoderated:
            return "Reacties worden eerst nagekeken."
        if self.slow_seconds:
            return f"Trage modus: je kan één reactie per {self.slow_seconds} seconden plaatsen."
        return None


def auto_closed(published_at: datetime | None, auto_close_days: int, now: datetime) -> bool:
    """Articles stop taking comments N days after publication (0 = never)."""
    return bool(
        auto_close_days
        and published_at is not None
        and now - published_at > timedelta(days=auto_close_days)
    )


def active_windows(session: Session, article: Article, now: datetime) -> list[MatchDayWindow]:
    """Match-day windows in force now, site-wide or for this article."""
    return list(
        session.scalars(
            select(MatchDayWindow)
            .where(
                MatchDayWindow.starts_at <= now,
                MatchDayWindow.ends_at > now,
                or_(MatchDayWindow.article_id.is_(None), MatchDayWindow.article_id == article.id),
            )
            .order_by(MatchDayWindow.starts_at)
        )
    )


def _combined(
    comment_mode: CommentMode, windows: list[tuple[MatchDayMode, int | None]]
) -> tuple[bool, int | None]:
    """Premoderated?, slow-mode seconds: the article's own mode with the windows in force."""
    premoderated = comment_mode is CommentMode.PREMODERATED or any(
        mode is MatchDayMode.PREMODERATE for mode, _ in windows
    )
    slow = [seconds for mode, seconds in windows if mode is MatchDayMode.SLOW and seconds]
    return premoderated, max(slow) if slow else None


def active_mode(
    session: Session, article: Article, auto_close_days: int, now: datetime | None = None
) -> ActiveMode:
    """Combine the article's own mode, auto-close and match-day windows (strictest wins)."""
    now = now or utcnow()
    if article.comment_mode is CommentMode.CLOSED or auto_closed(
        article.published_at, auto_close_days, now
    ):
        return ActiveMode(closed=True)
    windows = active_windows(session, article, now)
    premoderated, slow_seconds = _combined(
        article.comment_mode, [(w.mode, w.slow_seconds) for w in windows]
    )
    return ActiveMode(
        premoderated=premoderated,
        slow_seconds=slow_seconds,
        window=windows[0] if windows else None,
    )


@dataclass(frozen=True)
class PostingTarget:
    """What posting needs of an article: its row id and the mode in force."""

    id: int
    cms_id: str
    mode: ActiveMode


def _target_statement() -> Select[Any]:
    articles, windows = Article.__table__, MatchDayWindow.__table__
    now = bindparam("now", type_=UTCDateTime())
    in_force = and_(
        windows.c.starts_at <= now,
        windows.c.ends_at > now,
        or_(windows.c.article_id.is_(None), windows.c.article_id == articles.c.id),
    )
    return (
        select(
            articles.c.id,
            articles.c.comment_mode,
            articles.c.published_at,
            windows.c.mode,
            windows.c.slow_seconds,
        )
        .select_from(articles.outerjoin(windows, in_force))
        .where(articles.c.cms_id == bindparam("cms_id"))
    )


# Built once: the posting hot path reads the article and its windows in one statement.
_TARGET = _target_statement()


def posting_target(
    session: Session, cms_id: str, auto_close_days: int, now: datetime
) -> PostingTarget:
    """The article by CMS id with its mode now (as active_mode decides), or 404."""
    rows = hot_rows(session.connection(), _TARGET, {"cms_id": cms_id, "now": now})
    if not rows:
        raise article_not_found()
    first = rows[0]
    comment_mode = CommentMode(first.comment_mode)
    if comment_mode is CommentMode.CLOSED or auto_closed(first.published_at, auto_close_days, now):
        return PostingTarget(first.id, cms_id, ActiveMode(closed=True))
    windows = [(MatchDayMode(r.mode), r.slow_seconds) for r in rows if r.mode is not None]
    premoderated, slow_seconds = _combined(comment_mode, windows)
    return PostingTarget(
        first.id, cms_id, ActiveMode(premoderated=premoderated, slow_seconds=slow_seconds)
    )


def schedule_window(
    session: Session,
    actor: User,
    article: Article | None,
    mode: str,
    starts: datetime | None,
    ends: datetime | None,
    slow_seconds: object = None,
    label: str | None = None,
) -> MatchDayWindow:
    """Schedule a match-day window; times are aware (typed in Brussels time, parsed by
    `brussels`) and stored in UTC."""
    try:
        window_mode = MatchDayMode(mode)
    except ValueError:
        raise Invalid(
            "invalid_mode", "Kies voorafgaande moderatie of trage modus.", details={"field": "mode"}
        ) from None
    for name, moment in (("starts_at", starts), ("ends_at", ends)):
        if moment is None or moment.tzinfo is None:
            raise Invalid("invalid_time", brussels.MALFORMED_NL, details={"field": name})
    assert starts is not None and ends is not None
    if ends <= starts:
        raise Invalid(
            "invalid_window", "Het einde moet na het begin liggen.", details={"field": "ends_at"}
        )
    if ends - starts > WINDOW_MAX:
        raise Invalid(
            "invalid_window",
            f"Een wedstrijddagvenster duurt hoogstens {WINDOW_MAX.days} dagen.",
            details={"field": "ends_at"},
        )
    seconds = None
    if window_mode is MatchDayMode.SLOW:
        try:
            seconds = int(slow_seconds)  # type: ignore[call-overload]  # form/JSON value; bad ones caught below
        except (TypeError, ValueError):
            seconds = 0
        if not SLOW_MIN <= seconds <= SLOW_MAX:
            raise Invalid(
                "invalid_slow",
                f"Trage modus: kies {SLOW_MIN} tot {SLOW_MAX} seconden.",
                details={"field": "slow_seconds"},
            )
    window = MatchDayWindow(
        article_id=article.id if article else None,
        mode=window_mode,
        slow_seconds=seconds,
        starts_at=starts,
        ends_at=ends,
        label=(label or "").strip()[:LABEL_MAX] or None,
        created_by_id=actor.id,
    )
    session.add(window)
    session.flush()
    record_action(
        session,
        actor,
        "match_day",
        window.id,
        "schedule_match_day",
        to_state=window_mode.value,
        note=f"{article.cms_id if article else 'hele site'}: {starts:%Y-%m-%d %H:%M}–"
        f"{ends:%Y-%m-%d %H:%M} UTC",
    )
    return window


def cancel_window(session: Session, actor: User, window_id: int) -> None:
    """Remove a scheduled window (audited)."""
    window = get_or_404(
        session, MatchDayWindow, window_id, "window_not_found", "Dit venster bestaat niet."
    )
    record_action(session, actor, "match_day", window.id, "cancel_match_day", window.mode.value)
    session.delete(window)
    session.flush()


def upcoming_windows(session: Session, now: datetime | None = None) -> list[MatchDayWindow]:
    """Windows that have not ended yet, soonest first."""
    return list(
        session.scalars(
            select(MatchDayWindow)
            .where(MatchDayWindow.ends_at > (now or utcnow()))
            .order_by(MatchDayWindow.starts_at)
        )
    )
