"""Remember-me tokens: one per browser that chose "aangemeld blijven", rotated on every use.

The cookie holds "<row id>.<secret>"; only a SHA-256 of the secret is stored. Restoring a
session replaces the secret (a conditional UPDATE, so of two requests racing with the same
cookie only one wins), so a copy of the cookie taken before that use stops working. A token
also carries the user's session version when it was issued: end_sessions (logout, password or
role change, ban, deactivation) ends every remember-me token with the sessions.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, delete, select, update
from sqlalchemy.orm import Session

from models import RememberToken, User
from parsing import is_id_text

SECRET_BYTES = 32
VALUE_MAX = 100  # a longer cookie is not ours
RACE_WINDOW = timedelta(seconds=30)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue(session: Session, user: User, lifetime: timedelta, now: datetime) -> str:
    """A new remember-me token for one browser; returns the cookie value (shown only now).

    The user's expired tokens are swept here, so the table holds about one row per browser.
    """
    session.execute(
        delete(RememberToken).where(
            RememberToken.user_id == user.id, RememberToken.expires_at <= now
        )
    )
    secret = secrets.token_urlsafe(SECRET_BYTES)
    token = RememberToken(
        user_id=user.id,
        secret_hash=_digest(secret),
        session_version=user.session_version,
        created_at=now,
        expires_at=now + lifetime,
    )
    session.add(token)
    session.flush()
    return f"{token.id}.{secret}"


@dataclass(frozen=True)
class Restored:
    """Who a remember-me cookie signed in, and the cookie that replaces it."""

    user_key: str  # what User.get_id() gives: "<id>:<session version>"
    cookie: str


class Refused(enum.Enum):
    """Why a remember-me cookie signed nobody in."""

    # Unknown, expired, ended or tampered with: the browser should drop the cookie.
    DEAD = "dead"
    # Its secret was replaced moments ago: most likely a parallel request of the same browser
    # won the rotation and carries the new cookie; dropping the cookie here could erase it.
    RACED = "raced"


def parse(value: str) -> tuple[int, str] | None:
    """(row id, secret) from a cookie value, or None when it is not one of ours."""
    if len(value) > VALUE_MAX:
        return None
    token_id, _, secret = value.partition(".")
    if not is_id_text(token_id) or not secret:
        return None
    return int(token_id), secret


def use(session: Session, value: str, lifetime: timedelta, now: datetime) -> Restored | Refused:
    """Restore a session from a remember-me cookie and rotate its secret; refused when the
    cookie is unknown, expired, already used (rotated), or from before the user's sessions
    ended."""
    parsed = parse(value)
    if parsed is None:
        return Refused.DEAD
    token_id, secret = parsed
    token = session.scalar(select(RememberToken).where(RememberToken.id == token_id))
    if token is None or token.expires_at <= now:
        return Refused.DEAD
    if not hmac.compare_digest(token.secret_hash, _digest(secret)):
        raced = token.used_at is not None and now - token.used_at < RACE_WINDOW
        return Refused.RACED if raced else Refused.DEAD
    user = session.get(User, token.user_id)
    if user is None or not user.is_active or user.session_version != token.session_version:
        return Refused.DEAD
    fresh = secrets.token_urlsafe(SECRET_BYTES)
    # An UPDATE's result is a CursorResult (rowcount); Session.execute is typed Result.
    rotated = cast(
        "CursorResult[Any]",
        session.execute(
            update(RememberToken)
            .where(RememberToken.id == token_id, RememberToken.secret_hash == token.secret_hash)
            .values(secret_hash=_digest(fresh), used_at=now, expires_at=now + lifetime)
            .execution_options(synchronize_session=False)
        ),
    )
    if rotated.rowcount != 1:  # another request used this cookie first
        return Refused.RACED
    return Restored(user_key=user.get_id(), cookie=f"{token_id}.{fresh}")


def forget(session: Session, value: str) -> None:
    """Delete the token behind a cookie (this browser logs out); only with its secret, so a
    made-up cookie cannot end another browser's token."""
    parsed = parse(value)
    if parsed is not None:
        token_id, secret = parsed
        session.execute(
            delete(RememberToken).where(
                RememberToken.id == token_id, RememberToken.secret_hash == _digest(secret)
            )
        )


def forget_all(session: Session, user: User) -> None:
    """Delete every remember-me token of the user (their sessions end)."""
    session.execute(delete(RememberToken).where(RememberToken.user_id == user.id))
