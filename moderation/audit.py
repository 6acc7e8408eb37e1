"""The audit log writer: one row per state change or moderator decision."""

from __future__ import annotations

from sqlalchemy.orm import Session

from models import ModerationAction, User


def record_action(
    session: Session,
    actor: User | None,
    target_type: str,
    target_id: object,
    action: str,
    from_state: str | None = None,
    to_state: str | None = None,
    reason_code: str | None = None,
    note: str | None = None,
) -> ModerationAction:
    """Write one audit row."""
    row = ModerationAction(
        actor_id=actor.id if actor is not None else None,
        target_type=target_type,
        target_id=str(target_id),
        action=action,
        from_state=from_state,
        to_state=to_state,
        reason_code=reason_code,
        note=note,
    )
    session.add(row)
    return row
