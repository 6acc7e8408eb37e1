"""Who is signed in inside the comments embed: its short-lived access tokens and the SSO
identities (a news site's readers) mapped to Tribune accounts."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime, str_enum, utcnow


class EmbedVia(enum.Enum):
    """How an embed session was opened."""

    SSO = "sso"  # the news site's signed token (POST /api/v1/embed/sessions)
    LOGIN = "login"  # the first-party popup login (POST /embed/sessie)


class SsoIdentity(Base):
    """One reader of one news site: (issuer, subject) of its SSO tokens, mapped to one account."""

    __tablename__ = "sso_identities"
    __table_args__ = (UniqueConstraint("issuer", "subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # The token's `iss` ("" when the site sends none: one site per Tribune then).
    issuer: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(String(200))
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True, unique=True
    )
    # The `name` claim as last received (the account's name may carry a " · 2" suffix).
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The last embed logout: an SSO token issued (iat) before it is a replay and refused.
    logged_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class EmbedSession(Base):
    """One embed's access token (opaque, stored as a SHA-256), valid for minutes."""

    __tablename__ = "embed_sessions"
    __table_args__ = (Index("ix_embed_sessions_user_id_expires_at", "user_id", "expires_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    via: Mapped[EmbedVia] = mapped_column(str_enum(EmbedVia, length=8))
    sso_identity_id: Mapped[int | None] = mapped_column(
        ForeignKey("sso_identities.id", ondelete="SET NULL")
    )
    # The user's session version when issued: "overal afmelden" ends embed sessions too.
    session_version: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
