"""Embed access tokens: short-lived opaque bearer tokens of the comments embed (docs/embed.md).

The embed runs in a third-party iframe where cookies cannot be relied on, so it keeps one of
these in memory and sends it as `Authorization: Bearer`. Only a SHA-256 of the token is
stored. Services take a Session, may flush, never commit.
"""

from __future__ import annotations

import enum
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete
from sqlalchemy.orm import Session

from accounts.services import signed_in_user
from models import EmbedSession, EmbedVia, SsoIdentity, User, utcnow
from writes.driver import hot_rows

# Tells an embed token from an editor API token (accounts.services.TOKEN_PREFIX "trb_") at a
# glance, so a request can be routed to the right check before any lookup.
EMBED_TOKEN_PREFIX = "tre_"
DEFAULT_LIFETIME = timedelta(seconds=900)
KEEP_EXPIRED = timedelta(days=1)  # expired rows kept this long (a trace for support questions)


class EmbedRefusal(enum.Enum):
    """Why a presented embed token does not authenticate."""

    UNKNOWN = "unknown"  # never issued, or mistyped
    EXPIRED = "expired"  # its minutes are over (the embed should have refreshed it)
    ENDED = "ended"  # revoked by logout or refresh, or the account's sessions ended


def _digest(plain: str) -> str:
    return hashlib.sha256(plain.encode()).hexdigest()


def is_embed_token(plain: str) -> bool:
    """True when the text has the shape of an embed token (not an API token)."""
    return plain.startswith(EMBED_TOKEN_PREFIX)


def issue_embed_session(
    session: Session,
    user: User,
    via: EmbedVia,
    *,
    identity: SsoIdentity | None = None,
    lifetime: timedelta = DEFAULT_LIFETIME,
    now: datetime | None = None,
) -> tuple[EmbedSession, str]:
    """Open an embed session for the user; returns the row and the token (shown once)."""
    now = now or utcnow()
    # The user's long-expired rows go (every refresh adds one); the index covers this.
    session.execute(
        delete(EmbedSession).where(
            EmbedSession.user_id == user.id, EmbedSession.expires_at < now - KEEP_EXPIRED
        )
    )
    plain = EMBED_TOKEN_PREFIX + secrets.token_urlsafe(32)
    embed = EmbedSession(
        user_id=user.id,
        token_hash=_digest(plain),
        via=via,
        sso_identity_id=identity.id if identity is not None else None,
        session_version=user.session_version,
        created_at=now,
        expires_at=now + lifetime,
    )
    session.add(embed)
    session.flush()
    return embed, plain


@dataclass(frozen=True, slots=True)
class LiveEmbedSession:
    """What a request needs of the embed session that authenticated it (the row itself is
    read only by the routes that change it: refresh and logout)."""

    id: int
    user_id: int


_TABLE = EmbedSession.__table__
# Built once: every request of a signed-in embed reader runs it (the token's row by its hash;
# the unique index covers it). Read anew on every request, not cached: a logout or refresh in
# any process ends the token at once.
_SESSION_BY_HASH = (
    _TABLE.select()
    .with_only_columns(
        _TABLE.c.id,
        _TABLE.c.user_id,
        _TABLE.c.session_version,
        _TABLE.c.expires_at,
        _TABLE.c.revoked_at,
    )
    .where(_TABLE.c.token_hash == bindparam("token_hash"))
)


def authenticate_embed_token(
    session: Session, plain: str, now: datetime | None = None
) -> tuple[LiveEmbedSession, User] | EmbedRefusal:
    """The live embed session of this token and its user, or why there is none. Reads only:
    two prebuilt reads (the token's row, the user as a cookie session loads it), so a bearer
    request costs what a cookie request costs."""
    if not is_embed_token(plain) or len(plain) > 100:
        return EmbedRefusal.UNKNOWN
    rows = hot_rows(session.connection(), _SESSION_BY_HASH, {"token_hash": _digest(plain)})
    if not rows:
        return EmbedRefusal.UNKNOWN
    row = rows[0]
    if row.revoked_at is not None:
        return EmbedRefusal.ENDED
    if row.expires_at <= (now or utcnow()):
        return EmbedRefusal.EXPIRED
    user = signed_in_user(session, row.user_id)
    if user is None or not user.is_active or user.session_version != row.session_version:
        return EmbedRefusal.ENDED
    return LiveEmbedSession(row.id, row.user_id), user


def find_embed_session(
    session: Session, plain: str, now: datetime | None = None
) -> EmbedSession | EmbedRefusal:
    """The live embed session row of this token, or why there is none. Reads only."""
    found = authenticate_embed_token(session, plain, now)
    if isinstance(found, EmbedRefusal):
        return found
    return session.get_one(EmbedSession, found[0].id)


def user_for_embed_token(session: Session, plain: str, now: datetime | None = None) -> User | None:
    """The user a live embed token stands for, else None. A banned user is returned too:
    the thread then shows their suspension, as on /artikels/<id>."""
    found = authenticate_embed_token(session, plain, now)
    return None if isinstance(found, EmbedRefusal) else found[1]


def refresh_embed_session(
    session: Session,
    embed: EmbedSession,
    *,
    lifetime: timedelta = DEFAULT_LIFETIME,
    now: datetime | None = None,
) -> tuple[EmbedSession, str]:
    """Replace a live session by a new one (same user, same origin of trust); the old token
    stops working at once, so a copy of it is worth nothing after the embed's next refresh."""
    now = now or utcnow()
    user = session.get(User, embed.user_id)
    if user is None:  # the row's foreign key cascades: only a concurrent delete gets here
        raise LookupError("embed session without its user")
    embed.revoked_at = now
    identity = session.get(SsoIdentity, embed.sso_identity_id) if embed.sso_identity_id else None
    return issue_embed_session(
        session, user, embed.via, identity=identity, lifetime=lifetime, now=now
    )


def revoke_embed_session(
    session: Session, embed: EmbedSession, now: datetime | None = None
) -> None:
    """Log the embed out: the token ends, and for an SSO session the identity's logout time is
    recorded, so the site's token that opened it (or any issued before now) cannot be replayed."""
    now = now or utcnow()
    embed.revoked_at = now
    if embed.sso_identity_id is not None:
        identity = session.get(SsoIdentity, embed.sso_identity_id)
        if identity is not None:
            identity.logged_out_at = now
    session.flush()
