"""The domain events that notify fans: each handler reads the rows the event names and hands
one notice to notifications.delivery, in the publishing transaction (docs/design.md,
"Notifications"). Imported once by wiring.init_app."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from dsa.notices import removal_notice
from events import DomainEvent, subscribe
from models import Appeal, AppealState, Comment, CommentState, User
from notifications import notices
from notifications.delivery import notify
from notifications.settings import setting

PUBLISHED = CommentState.PUBLISHED.value
HELD = CommentState.HELD.value
DECIDED = (CommentState.REJECTED.value, CommentState.REMOVED.value)


def _notify_reply(session: Session, reply: Comment, event: DomainEvent) -> None:
    """The parent's author hears of a published reply (never of their own)."""
    if reply.parent_id is None:
        return
    parent = session.get(Comment, reply.parent_id)
    # A reply under a comment its author deleted (or that is no longer shown) is no news to them.
    if parent is None or parent.state is not CommentState.PUBLISHED:
        return
    notify(
        session,
        parent.author_id,
        notices.reply_notice(session, reply, parent),
        actor_id=reply.author_id,
        now=event.occurred_at,
    )


@subscribe("comment.created")
def on_comment_created(session: Session, event: DomainEvent) -> None:
    """A reply published at once; a held one waits for its approval."""
    if event.data.get("parent_id") is None or event.data.get("state") != PUBLISHED:
        return
    reply = session.get(Comment, event.data["comment_id"])
    if reply is not None:
        _notify_reply(session, reply, event)


def _pending_appeal(session: Session, comment_id: int) -> bool:
    return (
        session.scalar(
            select(Appeal.id).where(
                Appeal.comment_id == comment_id, Appeal.state == AppealState.PENDING
            )
        )
        is not None
    )


def _notice_ground(session: Session, notice_id: object) -> str | None:
    """The Dutch label of the legal ground of the DSA notice a decision answers, if any."""
    notice = removal_notice(session, notice_id)
    return notice.ground.label_nl if notice is not None else None


@subscribe("comment.state_changed")
def on_state_changed(session: Session, event: DomainEvent) -> None:
    """A moderator's decision on the author's comment: approved (and its reply, if it is one,
    reaches the parent's author), rejected or removed (the statement of reasons), restored.
    An appeal upheld is told by appeal.decided; the author's own moves tell nobody."""
    data = event.data
    from_state, to_state = data["from_state"], data["to_state"]
    comment = session.get(Comment, data["comment_id"])
    if comment is None:
        return
    actor_id = data.get("actor_id")
    if from_state == HELD and to_state == PUBLISHED:
        notify(
            session,
            comment.author_id,
            notices.approved_notice(session, comment),
            actor_id=actor_id,
            now=event.occurred_at,
        )
        _notify_reply(session, comment, event)
    elif to_state in DECIDED:
        notice = notices.rejected_notice(
            session,
            comment,
            automated=bool(data.get("automated")),
            reason_code=data.get("reason_code"),
            note=data.get("note"),
            decided_at=event.occurred_at,
            notice_ground=_notice_ground(session, data.get("notice_id")),
            dispute_body=setting(session, "TRIBUNE_DISPUTE_SETTLEMENT_BODY"),
        )
        notify(session, comment.author_id, notice, actor_id=actor_id, now=event.occurred_at)
    elif (
        from_state in DECIDED
        and to_state == PUBLISHED
        and data.get("action") == "restore"
        # A restore that settles a pending appeal is told as the appeal's decision.
        and not _pending_appeal(session, comment.id)
    ):
        notify(
            session,
            comment.author_id,
            notices.approved_notice(session, comment, restored=True),
            actor_id=actor_id,
            now=event.occurred_at,
        )


@subscribe("comment.featured")
def on_comment_featured(session: Session, event: DomainEvent) -> None:
    """The author hears that the editors picked their comment ("Uitgelicht")."""
    comment = session.get(Comment, event.data["comment_id"])
    if comment is None or comment.state is not CommentState.PUBLISHED:
        return
    notify(
        session,
        comment.author_id,
        notices.featured_notice(session, comment),
        actor_id=event.data.get("actor_id"),
        now=event.occurred_at,
    )


@subscribe("report.decided")
def on_report_decided(session: Session, event: DomainEvent) -> None:
    """The reporter hears what became of their report."""
    comment = session.get(Comment, event.data["comment_id"])
    if comment is None:
        return
    notify(
        session,
        event.data["reporter_id"],
        notices.report_notice(session, comment, event.data["outcome"]),
        now=event.occurred_at,
    )


@subscribe("appeal.decided")
def on_appeal_decided(session: Session, event: DomainEvent) -> None:
    """The author hears whether their appeal was upheld."""
    appeal = session.get(Appeal, event.data["appeal_id"])
    comment = session.get(Comment, event.data["comment_id"])
    if appeal is None or comment is None:
        return
    notify(
        session,
        event.data["author_id"],
        notices.appeal_notice(session, appeal, comment),
        actor_id=appeal.decided_by_id,
        now=event.occurred_at,
    )


@subscribe("user.suspended")
def on_user_suspended(session: Session, event: DomainEvent) -> None:
    """The account hears of its suspension or ban (with its end), or that it was lifted."""
    user = session.get(User, event.data["user_id"])
    if user is None:
        return
    notice = notices.suspension_notice(
        user,
        until=event.data.get("until"),
        permanent=bool(event.data.get("permanent")),
        reason=event.data.get("reason"),
        contact=setting(session, "TRIBUNE_SUSPENSION_CONTACT"),
    )
    notify(session, user.id, notice, actor_id=event.data.get("actor_id"), now=event.occurred_at)
