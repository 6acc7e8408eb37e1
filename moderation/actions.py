"""Moderator decisions: approve, reject, remove, restore, bans, notes and appeals.

Every state change goes through moderation.comment_states.transition; this module adds the
rules around it (who may, with which reason) and the decisions that are not comment states
(bans, notes).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

import events
from accounts.services import end_sessions
from db import insert_or_nothing
from errors import Conflict, DomainError, Invalid
from lookups import authors_comment, get_or_404
from models import (
    Appeal,
    AppealState,
    Comment,
    CommentState,
    ModerationAction,
    ReasonCode,
    Report,
    Role,
    User,
    UserNote,
    utcnow,
)
from moderation.audit import record_action
from moderation.comment_states import adjust_queue, dismiss_reports, mark_reviewed, transition
from moderation.queue import APPEALS

SUSPENSIONS = {"24h": timedelta(hours=24), "7d": timedelta(days=7), "30d": timedelta(days=30)}
APPEAL_MIN = 5
APPEAL_MAX = 1000
NOTE_MAX = 1000


def permanent_until() -> datetime:
    """The banned_until of a permanent ban."""
    return datetime(9999, 12, 31, tzinfo=UTC)


def get_comment(session: Session, comment_id: int) -> Comment:
    """A comment by id, or 404."""
    return get_or_404(
        session, Comment, comment_id, "comment_not_found", "Deze reactie bestaat niet."
    )


def parse_reason(raw: object) -> ReasonCode:
    """A reason code from a form or JSON value, or 422."""
    try:
        return ReasonCode(raw)  # type: ignore[arg-type]  # any value: ValueError answers 422
    except ValueError:
        raise Invalid(
            "invalid_reason",
            "Kies een geldige reden.",
            details={"allowed": [code.value for code in ReasonCode]},
        ) from None


def _note(raw: object) -> str | None:
    if raw is None or raw == "":
        return None
    if not isinstance(raw, str) or len(raw) > NOTE_MAX:
        raise Invalid("invalid_note", f"Een notitie heeft hoogstens {NOTE_MAX} tekens.")
    return raw.strip() or None


def refuse_own_comment(moderator: User, comment: Comment) -> None:
    """Nobody decides on their own comment: 403 `own_comment`."""
    if comment.author_id == moderator.id:
        raise DomainError("own_comment", "Over je eigen reactie beslist een andere moderator.", 403)


def get_decidable_comment(session: Session, moderator: User, comment_id: int) -> Comment:
    """A comment by id (404) that is not the moderator's own (403)."""
    comment = get_comment(session, comment_id)
    refuse_own_comment(moderator, comment)
    return comment


def approve(session: Session, moderator: User, comment_id: int) -> Comment:
    """Held → published; for a published comment in Recent, mark it as looked at."""
    comment = get_decidable_comment(session, moderator, comment_id)
    if comment.state is CommentState.PUBLISHED and comment.reviewed_at is None:
        mark_reviewed(session, comment, moderator)
    else:
        transition(session, comment, CommentState.PUBLISHED, "approve", moderator)
    return comment


def reject(
    session: Session, moderator: User, comment_id: int, reason: object, note: object = None
) -> Comment:
    """Held → rejected, with a reason the author sees."""
    comment = get_decidable_comment(session, moderator, comment_id)
    transition(
        session,
        comment,
        CommentState.REJECTED,
        "reject",
        moderator,
        parse_reason(reason),
        _note(note),
    )
    return comment


def remove(
    session: Session, moderator: User, comment_id: int, reason: object, note: object = None
) -> Comment:
    """Published → removed, with a reason the author sees."""
    comment = get_decidable_comment(session, moderator, comment_id)
    transition(
        session,
        comment,
        CommentState.REMOVED,
        "remove",
        moderator,
        parse_reason(reason),
        _note(note),
    )
    return comment


def restore(session: Session, moderator: User, comment_id: int, note: object = None) -> Comment:
    """Rejected or removed → published."""
    comment = get_decidable_comment(session, moderator, comment_id)
    transition(session, comment, CommentState.PUBLISHED, "restore", moderator, note=_note(note))
    # A pending appeal is settled by the restore: the author got what they asked for.
    appeal = session.scalar(
        select(Appeal).where(Appeal.comment_id == comment.id, Appeal.state == AppealState.PENDING)
    )
    if appeal is not None:
        _settle_appeal(session, appeal, moderator, True, _note(note) or "hersteld")
    return comment


def _settle_appeal(
    session: Session, appeal: Appeal, moderator: User, upheld: bool, note: str | None
) -> None:
    appeal.state = AppealState.UPHELD if upheld else AppealState.DENIED
    appeal.decided_at = utcnow()
    appeal.decided_by_id = moderator.id
    appeal.decision_note = note
    adjust_queue(session, APPEALS, -1)
    events.publish(
        session,
        "appeal.decided",
        appeal_id=appeal.id,
        comment_id=appeal.comment_id,
        author_id=appeal.author_id,
        state=appeal.state.value,
    )


def dismiss(session: Session, moderator: User, comment_id: int, note: object = None) -> Comment:
    """Keep a reported comment; its reports count as not upheld."""
    comment = get_decidable_comment(session, moderator, comment_id)
    dismiss_reports(session, comment, moderator, _note(note))
    return comment


@dataclass
class BulkResult:
    done: list[int]
    refused: dict[int, str]


def bulk(
    session: Session,
    moderator: User,
    comment_ids: Iterable[int],
    action: str,
    reason: object = None,
    note: object = None,
) -> BulkResult:
    """Approve or reject many comments; each one that cannot is listed with why."""
    if action not in ("approve", "reject"):
        raise Invalid("invalid_action", "Kies goedkeuren of afwijzen.")
    if action == "reject":
        parse_reason(reason)
    result = BulkResult([], {})
    for comment_id in sorted(set(comment_ids)):
        try:
            with session.begin_nested():
                if action == "approve":
                    approve(session, moderator, comment_id)
                else:
                    reject(session, moderator, comment_id, reason, note)
            result.done.append(comment_id)
        except DomainError as exc:
            result.refused[comment_id] = exc.code
    return result


def _target_user(session: Session, user_id: int) -> User:
    return get_or_404(session, User, user_id, "user_not_found", "Die gebruiker bestaat niet.")


def _other_user(session: Session, moderator: User, user_id: int, message: str) -> User:
    """The target of a decision on an account, never the moderator's own (403 `own_account`)."""
    user = _target_user(session, user_id)
    if user.id == moderator.id:
        raise DomainError("own_account", message, 403)
    return user


IMPOSING_ACTIONS = ("ban", *(f"suspend_{duration}" for duration in SUSPENSIONS))


def imposed_by(session: Session, user: User) -> User | None:
    """Who imposed the user's current suspension or ban (the latest one in the audit log);
    None when that account is gone."""
    actor_id = session.scalar(
        select(ModerationAction.actor_id)
        .where(
            ModerationAction.target_type == "user",
            ModerationAction.target_id == str(user.id),
            ModerationAction.action.in_(IMPOSING_ACTIONS),
        )
        .order_by(ModerationAction.id.desc())
        .limit(1)
    )
    return session.get(User, actor_id) if actor_id is not None else None


def check_ban_authority(
    session: Session, moderator: User, user: User, lifting: bool = False
) -> None:
    """Only an admin suspends staff (moderators, editors, admins) or lifts their suspension;
    a suspension an admin imposed (or whose author is gone) is lifted only by an admin too."""
    if moderator.role is Role.ADMIN:
        return
    if user.role is not Role.FAN:
        verb = "heft de schorsing van" if lifting else "schorst"
        raise DomainError(
            "forbidden", f"Enkel een beheerder {verb} een moderator, redacteur of beheerder.", 403
        )
    if lifting:
        author = imposed_by(session, user)
        if author is None or author.role is Role.ADMIN:
            raise DomainError(
                "forbidden",
                "Enkel een beheerder heft een schorsing op die een beheerder oplegde.",
                403,
            )


def ban(
    session: Session,
    moderator: User,
    user_id: int,
    duration: str,
    reason: object,
    note: object = None,
    reject_held: bool = False,
) -> User:
    """Suspend (24h / 7d / 30d) or ban permanently; optionally reject their held comments."""
    user = _other_user(session, moderator, user_id, "Je kan jezelf niet schorsen.")
    check_ban_authority(session, moderator, user)
    code = parse_reason(reason)
    now = utcnow()
    if duration == "permanent":
        until = permanent_until()
    elif duration in SUSPENSIONS:
        until = now + SUSPENSIONS[duration]
    else:
        raise Invalid("invalid_duration", "Kies 24h, 7d, 30d of permanent.")
    previous = user.banned_until
    user.banned_until = until
    if duration == "permanent":
        # A banned account is signed out everywhere; a suspended one stays signed in to read
        # and to see its suspension.
        end_sessions(session, user)
    user.ban_reason = code.label_nl + (f": {_note(note)}" if _note(note) else "")
    record_action(
        session,
        moderator,
        "user",
        user.id,
        "ban" if duration == "permanent" else f"suspend_{duration}",
        "banned" if previous and previous > now else "active",
        "banned",
        code.value,
        _note(note),
    )
    events.publish(
        session,
        "user.suspended",
        user_id=user.id,
        until=until.isoformat(),
        permanent=duration == "permanent",
        reason=user.ban_reason,
        actor_id=moderator.id,
    )
    if reject_held:
        held = session.scalars(
            select(Comment)
            .where(Comment.author_id == user.id, Comment.state == CommentState.HELD)
            .order_by(Comment.id)
        )
        for comment in list(held):
            transition(
                session,
                comment,
                CommentState.REJECTED,
                "reject",
                moderator,
                code,
                "bij schorsing van de auteur",
            )
    return user


def lift_ban(session: Session, moderator: User, user_id: int, note: object = None) -> User:
    """End a suspension or ban now: with the authority it took to impose it."""
    user = _other_user(session, moderator, user_id, "Je kan je eigen schorsing niet opheffen.")
    if user.banned_until is None or user.banned_until <= utcnow():
        raise Conflict("not_banned", "Deze gebruiker is niet geschorst.")
    check_ban_authority(session, moderator, user, lifting=True)
    user.banned_until = None
    user.ban_reason = None
    record_action(
        session, moderator, "user", user.id, "lift_ban", "banned", "active", note=_note(note)
    )
    events.publish(
        session,
        "user.suspended",
        user_id=user.id,
        until=None,
        permanent=False,
        reason=None,
        actor_id=moderator.id,
    )
    return user


def add_note(session: Session, moderator: User, user_id: int, body: object) -> UserNote:
    """A moderator's note on a user, shown on the author card."""
    user = _other_user(
        session, moderator, user_id, "Je schrijft geen notitie bij je eigen account."
    )
    text = _note(body)
    if not text:
        raise Invalid("invalid_note", "Een notitie mag niet leeg zijn.")
    note = UserNote(user_id=user.id, author_id=moderator.id, body=text)
    session.add(note)
    session.flush()
    record_action(session, moderator, "user", user.id, "add_note", note=text[:200])
    return note


def file_appeal(session: Session, author: User, comment_id: int, body: object) -> Appeal:
    """The author appeals a rejection or removal, once, with a short text."""
    comment = authors_comment(session, comment_id, author.id)
    if comment.state not in (CommentState.REJECTED, CommentState.REMOVED):
        raise Conflict("not_appealable", "Enkel een afgewezen reactie kan je aanvechten.")
    if comment.body_erased_at is not None:
        raise Conflict(
            "not_appealable", "De tekst van deze reactie werd gewist; bezwaar kan niet meer."
        )
    if not isinstance(body, str) or not APPEAL_MIN <= len(body.strip()) <= APPEAL_MAX:
        raise Invalid(
            "invalid_appeal",
            f"Leg in {APPEAL_MIN} tot {APPEAL_MAX} tekens uit waarom je bezwaar maakt.",
            details={"field": "body"},
        )
    inserted = insert_or_nothing(
        session,
        Appeal,
        {
            "comment_id": comment.id,
            "author_id": author.id,
            "body": body.strip(),
            "state": AppealState.PENDING.value,
            "created_at": utcnow(),
        },
        ["comment_id"],
    )
    if inserted is None:
        raise Conflict("already_appealed", "Je maakte al bezwaar tegen deze beslissing.")
    appeal = session.get_one(Appeal, inserted)
    record_action(session, author, "comment", comment.id, "appeal", comment.state.value, None)
    adjust_queue(session, APPEALS, +1)
    events.publish(
        session, "appeal.created", appeal_id=appeal.id, comment_id=comment.id, author_id=author.id
    )
    return appeal


def decide_appeal(
    session: Session, moderator: User, appeal_id: int, uphold: bool, note: object = None
) -> Appeal:
    """Uphold (the comment is published again) or deny an appeal; the author sees the outcome."""
    appeal = get_or_404(session, Appeal, appeal_id, "appeal_not_found", "Dit bezwaar bestaat niet.")
    if appeal.state is not AppealState.PENDING:
        raise Conflict("appeal_decided", "Over dit bezwaar werd al beslist.")
    comment = get_decidable_comment(session, moderator, appeal.comment_id)
    text = _note(note)
    if uphold:
        transition(session, comment, CommentState.PUBLISHED, "appeal_upheld", moderator, note=text)
    else:
        record_action(
            session,
            moderator,
            "comment",
            comment.id,
            "appeal_denied",
            comment.state.value,
            comment.state.value,
            note=text,
        )
    _settle_appeal(session, appeal, moderator, uphold, text)
    return appeal


def report_outcomes(session: Session, reporter: User, limit: int = 50) -> list[Report]:
    """A reader's reports with their outcomes, newest first."""
    return list(
        session.scalars(
            select(Report)
            .where(Report.reporter_id == reporter.id)
            .order_by(Report.created_at.desc())
            .limit(limit)
        )
    )


__all__ = [
    "approve",
    "reject",
    "remove",
    "restore",
    "dismiss",
    "bulk",
    "ban",
    "lift_ban",
    "add_note",
    "file_appeal",
    "decide_appeal",
    "report_outcomes",
]
