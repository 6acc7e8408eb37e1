"""Single-use links sent by mail: password reset, address verification, change of address."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime, str_enum, utcnow


class TokenPurpose(enum.Enum):
    """What a mailed link does when followed."""

    RESET = "reset"  # /wachtwoord-herstellen/<token>: set a new password
    VERIFY = "verify"  # /e-mail-bevestigen/<token>: the account's address is confirmed
    CHANGE_EMAIL = "change_email"  # /e-mail-wijzigen/<token>: the account takes new_email


class AccountToken(Base):
    """One mailed link. Only a SHA-256 of its token is stored; it works once, until
    expires_at, and a newer link of the same purpose for the same account replaces it (the
    older row is deleted)."""

    __tablename__ = "account_tokens"
    __table_args__ = (Index("ix_account_tokens_user_id_purpose", "user_id", "purpose"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    purpose: Mapped[TokenPurpose] = mapped_column(str_enum(TokenPurpose))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The address a change_email link moves the account to (its only purpose with one).
    new_email: Mapped[str | None] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
