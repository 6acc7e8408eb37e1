"""One notice to one account: a mail in the outbox now, a line for the daily digest, or nothing
(the account's choice, no confirmed address, an account it makes no sense to tell)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from models import Delivery, DigestItem, User, utcnow
from notifications.notices import Notice
from notifications.preferences import (
    delivery_for,
    notification_address,
    reachable,
    unsubscribe_path,
)
from outbox import enqueue_mail


def notify(
    session: Session,
    recipient_id: int | None,
    notice: Notice,
    *,
    actor_id: int | None = None,
    now: datetime | None = None,
) -> Delivery:
    """Send or collect `notice` for the recipient as they chose; what happened is returned
    (NEVER when nothing was sent: their choice, their own action, no address, ...)."""
    if recipient_id is None or recipient_id == actor_id:
        return Delivery.NEVER  # nobody is told of their own action
    user = session.get(User, recipient_id)
    now = now or utcnow()
    if user is None or not reachable(user, notice.kind, now):
        return Delivery.NEVER
    delivery = delivery_for(session, user, notice.kind)
    address = notification_address(session, user)
    if delivery is Delivery.NEVER or address is None:
        return Delivery.NEVER
    if delivery is Delivery.DAILY:
        session.add(
            DigestItem(
                user_id=user.id,
                kind=notice.kind,
                article_id=notice.article_id,
                article_title=notice.article_title,
                data={"summary": notice.summary, "path": notice.path},
                created_at=now,
            )
        )
        return delivery
    enqueue_mail(
        session,
        to=address,
        template=notice.template,
        context=notice.context,
        kind=notice.template.removeprefix("notify_"),
        user_id=user.id,
        unsubscribe_path=unsubscribe_path(session, user.id, notice.kind),
    )
    return delivery
