"""Per-app service objects the views hand to the business functions (built once in create_app)."""

from __future__ import annotations

from datetime import datetime

import redis
from flask import Flask, current_app
from sqlalchemy.orm import Session

from accounts.sso import SsoSettings
from caching import ThreadCache
from comments.activity import ActivityStore, MemoryActivity, RedisActivity
from config import SettingError
from errors import Invalid
from live.pacing import CheckCounter, Hint, Pacing, has_open_poll
from moderation.flags import Screening
from moderation.rules import PostingPolicy
from moderation.runtime import LexiconRefresher
from moderation.screening import screen, screen_username
from notifications.settings import SESSION_KEY as SETTINGS_SESSION_KEY
from notifications.settings import check_settings as check_notification_settings
from ops.metrics import CountingRedis
from scoring.client import check_settings as check_scorer_settings

SHARED_STATE_WARNING = (
    "DATABASE_URL is PostgreSQL but REDIS_URL is not set: flood and duplicate memory, rate "
    "limits, caches, the word-list version and the scorer's breaker live in each worker's "
    "memory, which is right for one process only (docs/architecture.md, 'What instances share')"
)


def init_app(app: Flask) -> None:
    """Build the Redis client, activity store, lexicon refresher and posting policy."""
    redis_client = None
    if app.config["REDIS_URL"]:
        # Counts its failed commands (tribune_redis_errors_total); otherwise a redis.Redis.
        redis_client = CountingRedis.from_url(app.config["REDIS_URL"], socket_timeout=2)
    elif app.config["DATABASE_URL"].startswith("postgresql"):
        # PostgreSQL means a deployment of several workers or instances: say what is not shared.
        app.logger.warning(SHARED_STATE_WARNING)
    prefix = app.config["TRIBUNE_REDIS_PREFIX"]
    activity: ActivityStore = (
        RedisActivity(redis_client, prefix + ":activity") if redis_client else MemoryActivity()
    )
    app.extensions["tribune.redis"] = redis_client
    app.extensions["tribune.activity"] = activity
    app.extensions["tribune.policy"] = PostingPolicy.from_config(app.config)
    app.extensions["tribune.lexicon"] = LexiconRefresher(
        app.extensions["tribune.sessionmaker"],
        redis_client,
        interval=app.config["TRIBUNE_LEXICON_CHECK_SECONDS"],
        redis_key=prefix + ":lexicon_version",
    )
    app.extensions["tribune.username_check"] = check_username
    pacing = Pacing.from_config(app.config)
    try:
        pacing.check()
    except ValueError as exc:
        raise SettingError(str(exc)) from None
    app.extensions["tribune.live"] = (pacing, CheckCounter(redis_client, prefix + ":"))
    thread_cache = ThreadCache(
        redis_client,
        prefix,
        ttl=app.config["TRIBUNE_THREAD_CACHE_SECONDS"],
        local_ttl=app.config["TRIBUNE_THREAD_LOCAL_CACHE_SECONDS"],
    )
    thread_cache.listen(app.extensions["tribune.sessionmaker"])
    app.extensions["tribune.thread_cache"] = thread_cache
    sso = SsoSettings.from_config(app.config)
    try:
        sso.check()
    except ValueError as exc:
        raise SettingError(str(exc)) from None
    app.extensions["tribune.sso"] = sso
    check_notification_settings(app.config)
    check_scorer_settings(app.config)
    # Event handlers get only the session: they read the app's settings from it (Session.info).
    app.extensions["tribune.sessionmaker"].configure(info={SETTINGS_SESSION_KEY: app.config})


def redis_client() -> redis.Redis | None:
    """The shared Redis client, or None when REDIS_URL is not set."""
    client: redis.Redis | None = current_app.extensions["tribune.redis"]
    return client


def activity_store() -> ActivityStore:
    found: ActivityStore = current_app.extensions["tribune.activity"]
    return found


def posting_policy() -> PostingPolicy:
    found: PostingPolicy = current_app.extensions["tribune.policy"]
    return found


def lexicon_refresher() -> LexiconRefresher:
    found: LexiconRefresher = current_app.extensions["tribune.lexicon"]
    return found


def screen_text(text: str) -> Screening:
    """Screen with the latest lexicon (checked at most every few seconds)."""
    lexicon_refresher().refresh()
    return screen(text)


def check_username(username: str) -> None:
    """Usernames are screened too: nothing that would hold or reject a comment."""
    lexicon_refresher().refresh()
    if screen_username(username).decision != "publish":
        raise Invalid(
            "username_not_allowed",
            "Deze gebruikersnaam kan niet. Kies een andere.",
            details={"field": "username"},
        )


def sso_settings() -> SsoSettings:
    """The SSO settings, checked at startup (keys loaded once)."""
    found: SsoSettings = current_app.extensions["tribune.sso"]
    return found


def refresh_hint(session: Session, article_id: int, now: datetime) -> Hint:
    """The `Tribune-Refresh` interval for a check of this article and whether it is live
    (live.pacing): counts the check, so the interval follows the load of all instances."""
    pacing, counter = current_app.extensions["tribune.live"]
    rate = counter.count()
    live = has_open_poll(session, article_id, now)
    return Hint(pacing.interval(live, rate), live)


def thread_cache() -> ThreadCache:
    found: ThreadCache = current_app.extensions["tribune.thread_cache"]
    return found
