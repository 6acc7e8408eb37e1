"""Accounts, their API tokens and moderators' notes on them."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, false, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, UTCDateTime, str_enum, utcnow


class Role(enum.Enum):
    FAN = "fan"
    MODERATOR = "moderator"
    EDITOR = "editor"
    ADMIN = "admin"

    @property
    def label_nl(self) -> str:
        return {
            "fan": "fan",
            "moderator": "moderator",
            "editor": "redacteur",
            "admin": "beheerder",
        }[self.value]


class TokenScope(enum.Enum):
    """What an editor API token may write; a token without any is read-only."""

    ARTICLES_WRITE = "articles:write"
    POLLS_WRITE = "polls:write"
    COMMENTS_WRITE = "comments:write"
    MODERATION_WRITE = "moderation:write"

    @property
    def label_nl(self) -> str:
        return {
            "articles:write": "artikels registreren en bijwerken",
            "polls:write": "peilingen aanmaken, wijzigen, sluiten en verwijderen; stemmen",
            "comments:write": "reageren, eigen reacties wijzigen en verwijderen, melden, bezwaar",
            "moderation:write": "modereren (enkel beheerders)",
        }[self.value]

    @property
    def description(self) -> str:
        return {
            "articles:write": "Register or update articles (PUT /articles/{article_id}).",
            "polls:write": "Create, edit, close, reopen and delete polls; vote as the token's "
            "account.",
            "comments:write": "Post, edit and delete the account's comments, report comments, "
            "appeal.",
            "moderation:write": "Moderation writes through the API (admins only; no such "
            "operation yet: the moderation pages take no token).",
        }[self.value]


class TokenRevocation(enum.Enum):
    """Why a token stopped working; once revoked, a token never works again."""

    OWNER = "owner"  # its owner revoked it on /profiel
    ADMIN = "admin"  # an admin revoked it
    ROLE_LOST = "role_lost"  # its owner stopped being an editor or admin
    DEACTIVATED = "deactivated"  # its owner's account was deactivated

    @property
    def label_nl(self) -> str:
        return {
            "owner": "door jou",
            "admin": "door een beheerder",
            "role_lost": "rol gewijzigd",
            "deactivated": "account gedeactiveerd",
        }[self.value]


# A permanent ban is stored as a banned_until in this year (moderation.actions.permanent_until).
PERMANENT_YEAR = 9999


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(32))
    # Case-folded username: "Fan" and "fan" are the same account name.
    username_key: Mapped[str] = mapped_column(String(32), unique=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[Role] = mapped_column(str_enum(Role), default=Role.FAN)
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    banned_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ban_reason: Mapped[str | None] = mapped_column(String(500))
    # Bumped on password change: sessions and remember-me cookies of the old password stop working.
    session_version: Mapped[int] = mapped_column(default=1)
    # False for accounts a news site's single sign-on created: they have no password and
    # /login refuses them (accounts.sso).
    password_login: Mapped[bool] = mapped_column(default=True, server_default=true())
    # Vote badge: show this fan's choice in an article's poll beside their comments there, on
    # every ballot (polls.badges; each ballot's own checkbox changes it for that poll).
    show_vote_badge: Mapped[bool] = mapped_column(default=False, server_default=false())
    # When the owner followed the verification link (accounts.care); None: not confirmed yet.
    # Accounts older than migration 0012 were set to their creation time (treated as verified).
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Counters kept by the comment state machine (the author's track record in the queue).
    published_count: Mapped[int] = mapped_column(default=0)
    held_count: Mapped[int] = mapped_column(default=0)
    rejected_count: Mapped[int] = mapped_column(default=0)
    # Latest moment one of the author's comments was rejected or removed (never earlier than the
    # creation of any such comment): posting skips the rejection-rate query when it lies before
    # the rule's window, which is the case for nearly every fan.
    last_rejected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set when the fan deleted the account (privacy.deletion): the row stays, without personal
    # data, so the comments that stay keep an author ("verwijderde gebruiker"); never logs in.
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    tokens: Mapped[list[ApiToken]] = relationship(back_populates="user")

    # Flask-Login's interface, so current_user is the User itself.
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        # The session version makes a password change end every other session.
        return f"{self.id}:{self.session_version}"

    @property
    def needs_verification(self) -> bool:
        """A password account whose address is not confirmed (SSO accounts never need it)."""
        return self.password_login and self.email_verified_at is None

    def is_banned(self, now: datetime) -> bool:
        """True while a suspension or ban is in force."""
        return self.banned_until is not None and self.banned_until > now

    def is_banned_for_good(self, now: datetime) -> bool:
        """True for a permanent ban (stored as the year 9999), not a suspension with an end."""
        return (
            self.is_banned(now)
            and self.banned_until is not None
            and (self.banned_until.year >= PERMANENT_YEAR)
        )

    def __repr__(self) -> str:
        return f"<User {self.username} {self.role.value}>"


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    # Only a SHA-256 of the token is stored; the token itself is shown once.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_reason: Mapped[TokenRevocation | None] = mapped_column(str_enum(TokenRevocation))
    # Space-separated TokenScope values, chosen at creation; empty: the token only reads.
    scopes: Mapped[str] = mapped_column(String(200), default="", server_default="")

    user: Mapped[User] = relationship(back_populates="tokens")

    @property
    def scope_set(self) -> frozenset[TokenScope]:
        """The token's scopes (an unknown stored value is ignored, never granted)."""
        known = {scope.value: scope for scope in TokenScope}
        return frozenset(known[value] for value in self.scopes.split() if value in known)


class RememberToken(Base):
    """One browser's "aangemeld blijven": its secret is replaced every time it restores a
    session, so a copy taken before that use no longer works."""

    __tablename__ = "remember_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # Only a SHA-256 of the secret is stored.
    secret_hash: Mapped[str] = mapped_column(String(64))
    # The user's session version when issued: ending the user's sessions ends this one too.
    session_version: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class UserNote(Base):
    __tablename__ = "user_notes"
    __table_args__ = (Index("ix_user_notes_user_id_created_at", "user_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
