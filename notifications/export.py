"""The account's notification data in its GDPR export (Art. 15/20): its choices and the digest
items still waiting; and their removal when the account is deleted (Art. 17)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from models import DigestItem, NotificationSettings, User
from notifications.preferences import current_choices, settings_of
from privacy.deletion import FormerAccount, register_eraser
from privacy.export import register_section

# (table, column referencing users.id) → the key of the section that lists those rows.
EXPORT_COVERS = {
    ("notification_settings", "user_id"): "settings",
    ("digest_items", "user_id"): "digest_items",
}


@register_section("notifications", covers=EXPORT_COVERS)
def export_notification_data(session: Session, user: User) -> dict[str, Any]:
    """Every kind's choice (stored or default) and the waiting digest items, JSON-ready."""
    row = settings_of(session, user.id)
    choices = {
        kind.value: delivery.value for kind, delivery in current_choices(session, user).items()
    }
    items = session.scalars(
        select(DigestItem).where(DigestItem.user_id == user.id).order_by(DigestItem.id)
    )
    return {
        # The settings row's key is the account's id; without a row every kind has its default.
        "settings": [{"id": user.id, **choices}] if row is not None else [],
        "defaults_apply": row is None,
        "choices": choices,
        "digest_items": [
            {
                "id": item.id,
                "kind": item.kind.value,
                "article_title": item.article_title,
                "summary": item.data.get("summary"),
                "created_at": item.created_at.isoformat(),
            }
            for item in items
        ],
    }


@register_eraser("notifications", covers=list(EXPORT_COVERS))
def erase_notification_data(session: Session, former: FormerAccount) -> None:
    """A deleted account's choices and waiting digest lines go with it."""
    session.execute(delete(DigestItem).where(DigestItem.user_id == former.user_id))
    session.execute(
        delete(NotificationSettings).where(NotificationSettings.user_id == former.user_id)
    )
