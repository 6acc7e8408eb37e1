"""Article and site modes at posting time: auto-close, scheduled match-day windows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from errors import Invalid, NotFound
from models import Article, CommentMode, MatchDayMode, MatchDayWindow, User, utcnow
from moderation.audit import record_action

BRUSSELS = ZoneInfo("Europe/Brussels")


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


def auto_closed(article: Article, auto_close_days: int, now: datetime) -> bool:
    """Articles stop taking comments N days after publication (0 = never)."""
    return bool(
        auto_close_days
        and article.published_at is not None
        and now - article.published_at > timedelta(days=auto_close_days)
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


def active_mode(
    session: Session, article: Article, auto_close_days: int, now: datetime | None = None
) -> ActiveMode:
    """Combine the article's own mode, auto-close and match-day windows (strictest wins)."""
    now = now or utcnow()
    if article.comment_mode is CommentMode.CLOSED or auto_closed(article, auto_close_days, now):
        return ActiveMode(closed=True)
    windows = active_windows(session, article, now)
    premoderated = article.comment_mode is CommentMode.PREMODERATED or any(
        w.mode is MatchDayMode.PREMODERATE for w in windows
    )
    slow = [w.slow_seconds for w in windows if w.mode is MatchDayMode.SLOW and w.slow_seconds]
    return ActiveMode(
        premoderated=premoderated,
        slow_seconds=max(slow) if slow else None,
        window=windows[0] if windows else None,
    )


def brussels_to_utc(value: str) -> datetime:
    """A datetime-local value typed in Belgian time, as UTC."""
    try:
        local = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise Invalid("invalid_time", "Geef een geldige datum en tijd (Brussel).") from None
    if local.tzinfo is None:
        local = local.replace(tzinfo=BRUSSELS)
    return local.astimezone(ZoneInfo("UTC"))


def schedule_window(
    session: Session,
    actor: User,
    article: Article | None,
    mode: str,
    starts_local: str,
    ends_local: str,
    slow_seconds: object = None,
    label: str | None = None,
) -> MatchDayWindow:
    """Schedule a match-day window; times are entered in Europe/Brussels and stored in UTC."""
    try:
        window_mode = MatchDayMode(mode)
    except ValueError:
        raise Invalid("invalid_mode", "Kies voorafgaande moderatie of trage modus.") from None
    starts, ends = brussels_to_utc(starts_local), brussels_to_utc(ends_local)
    if ends <= starts:
        raise Invalid("invalid_window", "Het einde moet na het begin liggen.")
    if ends - starts > timedelta(days=7):
        raise Invalid("invalid_window", "Een wedstrijddagvenster duurt hoogstens 7 dagen.")
    seconds = None
    if window_mode is MatchDayMode.SLOW:
        try:
            seconds = int(slow_seconds)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            seconds = 0
        if not 5 <= seconds <= 3600:
            raise Invalid("invalid_slow", "Trage modus: kies 5 tot 3600 seconden.")
    window = MatchDayWindow(
        article_id=article.id if article else None,
        mode=window_mode,
        slow_seconds=seconds,
        starts_at=starts,
        ends_at=ends,
        label=(label or "").strip()[:120] or None,
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
    window = session.get(MatchDayWindow, window_id)
    if window is None:
        raise NotFound("window_not_found", "Dit venster bestaat niet.")
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
