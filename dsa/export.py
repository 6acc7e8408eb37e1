"""DSA notices in the GDPR export (Art. 15/20): the notices the account filed and, for staff,
the ones it decided; and what becomes of them when the account is deleted (Art. 17): a filed
notice stays (the decision on it is a legal record) without the notifier's name, address or
account."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from models import Notice, User
from privacy.deletion import FormerAccount, register_eraser
from privacy.export import register_section

EXPORT_COVERS = {
    ("notices", "notifier_user_id"): "filed",
    ("notices", "decided_by_id"): "decided",
    ("notices", "complaint_decided_by_id"): "complaints_decided",
}


def _time(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _value(member: Any) -> str | None:
    return member.value if member is not None else None


@register_section("dsa_notices", covers=EXPORT_COVERS)
def export_notices(session: Session, user: User) -> dict[str, Any]:
    """The notices of illegal content the account filed (with its complaint), and those it
    decided or whose complaint it decided (ids only)."""
    filed = session.scalars(
        select(Notice).where(Notice.notifier_user_id == user.id).order_by(Notice.id)
    )
    decided = session.scalars(
        select(Notice).where(Notice.decided_by_id == user.id).order_by(Notice.id)
    )
    complaints_decided = session.scalars(
        select(Notice).where(Notice.complaint_decided_by_id == user.id).order_by(Notice.id)
    )
    return {
        "filed": [
            {
                "id": notice.id,
                "comment_id": notice.comment_id,
                "ground": notice.ground.value,
                "explanation": notice.explanation,
                "name": notice.notifier_name,
                "email": notice.notifier_email,
                "state": notice.state.value,
                "decision": notice.decision.value if notice.decision else None,
                "created_at": _time(notice.created_at),
                "decided_at": _time(notice.decided_at),
                "complaint": notice.complaint_body,
                "complaint_state": _value(notice.complaint_state),
                "complaint_at": _time(notice.complaint_at),
                "complaint_decided_at": _time(notice.complaint_decided_at),
            }
            for notice in filed
        ],
        "decided": [
            {
                "id": notice.id,
                "comment_id": notice.comment_id,
                "decision": notice.decision.value if notice.decision else None,
                "decided_at": _time(notice.decided_at),
            }
            for notice in decided
        ],
        "complaints_decided": [
            {
                "id": notice.id,
                "comment_id": notice.comment_id,
                "complaint_state": _value(notice.complaint_state),
                "complaint_decided_at": _time(notice.complaint_decided_at),
            }
            for notice in complaints_decided
        ],
    }


@register_eraser("dsa_notices", covers=[("notices", "notifier_user_id")])
def erase_notifier(session: Session, former: FormerAccount) -> None:
    """The deleted account's notices lose who filed them; the notices and decisions stay."""
    session.execute(
        update(Notice)
        .where(Notice.notifier_user_id == former.user_id)
        .values(notifier_user_id=None, notifier_name=None, notifier_email=None)
    )
