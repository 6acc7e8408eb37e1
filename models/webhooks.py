"""Webhook endpoints the newsroom's tools register at /beheer/webhooks."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime, utcnow

URL_MAX = 2000
DESCRIPTION_MAX = 200
SECRET_MAX = 100  # "whsec_" + base64 of 24..64 bytes


class WebhookEndpoint(Base):
    """One receiver: where to POST, which events, and the secrets that sign each delivery.

    The secret is stored as it is: signing needs it in the clear, and an encryption key held
    by the same process would only guard against a leak of the database alone. It is shown
    once (after creation or rotation) and never again. During a rotation's grace period the
    previous secret signs too (`previous_secret` until `previous_expires_at`).
    """

    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(URL_MAX))
    description: Mapped[str] = mapped_column(String(DESCRIPTION_MAX), default="")
    # Event names (webhooks.events.WEBHOOK_EVENTS), in that order.
    events: Mapped[list[str]] = mapped_column(JSON, default=list)
    enabled: Mapped[bool] = mapped_column(default=True)
    secret: Mapped[str] = mapped_column(String(SECRET_MAX))
    previous_secret: Mapped[str | None] = mapped_column(String(SECRET_MAX))
    previous_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    rotated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def signing_secrets(self, now: datetime) -> list[str]:
        """The secrets a delivery at `now` is signed with: the current one, and the previous
        one while its grace period lasts."""
        found = [self.secret]
        if (
            self.previous_secret
            and self.previous_expires_at is not None
            and self.previous_expires_at > now
        ):
            found.append(self.previous_secret)
        return found
