"""The settings notifications read: checked at startup, and handed to event handlers through
the session (Session.info), since a handler gets only the session and the event."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from config import DEFAULTS, SettingError

SESSION_KEY = "tribune.settings"


def check_settings(settings: Mapping[str, Any]) -> None:
    """Refuse values the jobs cannot use (SettingError at startup)."""
    if not 0 <= settings["TRIBUNE_DIGEST_HOUR"] <= 23:
        raise SettingError("TRIBUNE_DIGEST_HOUR must be an hour from 0 to 23")
    for key in ("TRIBUNE_ALERT_WAIT_MINUTES", "TRIBUNE_ALERT_HELD"):
        if settings[key] < 0:
            raise SettingError(f"{key} must be 0 (off) or more")


def setting(session: Session, key: str) -> Any:
    """A setting of the app whose sessionmaker made `session` (the default without one)."""
    settings: Mapping[str, Any] = session.info.get(SESSION_KEY) or DEFAULTS
    return settings[key]
