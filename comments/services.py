"""Posting, editing, deleting and reporting comments. Services take a Session; views commit."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

import events
from brussels import text_nl
from caching import touch_article
from comments.activity import ActivityStore, clock
from db import insert_or_nothing
from errors import Conflict, DomainError, Invalid, NotFound
from lookups import authors_comment, get_or_404
from models import (
    Article,
    Comment,
    CommentState,
    Flag,
    ModerationAction,
    ReasonCode,
    Report,
    ReportOutcome,
    User,
    utcnow,
)
from moderation import rules
from moderation.comment_states import (
    NewComment,
    PostedComment,
    mark_reported,
    post_new_comment,
    transition,
)
from moderation.flags import Screening
from moderation.modes import active_mode, posting_target
from moderation.rules import ContextFlag, PostingPolicy
from ops.metrics import record_on_commit
from parsing import is_id

BODY_MIN = 2
BODY_MAX = 2000
REPORT_NOTE_MAX = 500
MAX_DEPTH = 6
Screener = Callable[[str], Screening]


@dataclass
class StoredFlag:
    """A flag as stored and shown: screening and context flags alike."""

    code: str
    reason: str
    severity: int
    label_nl: str
    detail: str | None = None
    span_start: int | None = None
    span_end: int | None = None


@dataclass
class PostResult:
    comment: Comment | PostedComment
    flags: list[StoredFlag] = field(default_factory=list)

    @property
    def reasons(self) -> list[str]:
        return list(dict.fromkeys(f.reason for f in sorted(self.flags, key=lambda f: -f.severity)))


def clean_body(body: object) -> str:
    """Trim and check a comment body: 2–2,000 characters of plain text."""
    if not isinstance(body, str):
        raise Invalid("invalid_body", "Een reactie is tekst.", details={"field": "body"})
    text = body.replace("\r\n", "\n").replace("\x00", "").strip()
    if len(text) < BODY_MIN:
        raise Invalid(
            "body_too_short",
            f"Een reactie heeft minstens {BODY_MIN} tekens.",
            details={"field": "body"},
        )
    if len(text) > BODY_MAX:
        raise Invalid(
            "body_too_long",
            f"Een reactie heeft hoogstens {BODY_MAX} tekens (nu {len(text)}).",
            details={"field": "body", "length": len(text)},
        )
    return text


def _screening_flags(screening: Screening) -> list[StoredFlag]:
    return [
        StoredFlag(
            code=flag.code.code,
            reason=flag.reason,
            severity=int(flag.severity),
            label_nl=flag.label_nl,
            detail=flag.detail[:200] if flag.detail else None,
            span_start=flag.start,
            span_end=flag.end,
        )
        for flag in screening.flags
    ]


def _context_flag(flag: ContextFlag, detail: str | None = None) -> StoredFlag:
    return StoredFlag(flag.code, flag.reason, int(flag.severity), flag.label_nl, detail)


def _flag_rows(flags: list[StoredFlag]) -> list[dict[str, object]]:
    """Flags as the column values of their rows."""
    return [
        {
            "code": f.code,
            "reason": ReasonCode(f.reason),
            "severity": f.severity,
            "detail": f.detail,
            "span_start": f.span_start,
            "span_end": f.span_end,
        }
        for f in flags
    ]


def _store_flags(comment: Comment, flags: list[StoredFlag]) -> None:
    comment.flags = [Flag(**row) for row in _flag_rows(flags)]
    strongest = max(flags, key=lambda f: f.severity, default=None)
    comment.top_severity = strongest.severity if strongest else 0
    comment.top_reason = strongest.reason if strongest else None


def posting_block(author: User, now: datetime) -> DomainError | None:
    """Why a banned or suspended author cannot post or edit now (403, the end date in Brussels
    time and in details as UTC), or None. The article page shows it instead of the forms."""
    if not author.is_banned(now):
        return None
    until = author.banned_until
    permanent = author.is_banned_for_good(now)
    return DomainError(
        "banned",
        "Je account is permanent verbannen."
        if permanent or until is None
        else f"Je account is geschorst tot {text_nl(until)} (Belgische tijd).",
        403,
        details={
            "banned_until": None if permanent or until is None else until.isoformat(),
            "reason": author.ban_reason,
        },
    )


def check_can_post(author: User, now: datetime) -> None:
    """Banned or suspended authors cannot post (403 with the end date)."""
    block = posting_block(author, now)
    if block is not None:
        raise block


def unverified_block(author: User, policy: PostingPolicy) -> DomainError | None:
    """Why this account may not post, reply or report yet (TRIBUNE_REQUIRE_VERIFIED_EMAIL):
    403 email_unverified for a password account without a confirmed address; SSO accounts
    never need one. None when nothing stands in the way."""
    if not policy.require_verified_email or not author.needs_verification:
        return None
    return DomainError(
        "email_unverified",
        "Bevestig eerst je e-mailadres: volg de link in de mail die we je stuurden. Geen mail "
        "gekregen? Laat de link opnieuw sturen.",
        403,
    )


def check_verified(author: User, policy: PostingPolicy) -> None:
    """Refuse a post, reply or report of an account that must confirm its address first."""
    block = unverified_block(author, policy)
    if block is not None:
        raise block


def _parent(session: Session, article_id: int, parent_id: object) -> Comment | None:
    if parent_id is None:
        return None
    if not isinstance(parent_id, int) or isinstance(parent_id, bool):
        raise Invalid("invalid_parent", "parent_id is een getal of null.")
    if not is_id(parent_id):
        raise NotFound("parent_not_found", "De reactie waarop je antwoordt bestaat niet.")
    parent = get_or_404(
        session,
        Comment,
        parent_id,
        "parent_not_found",
        "De reactie waarop je antwoordt bestaat niet.",
        visible=lambda parent: parent.article_id == article_id,
    )
    if parent.state is not CommentState.PUBLISHED:
        raise Conflict("parent_not_visible", "Op deze reactie kan je niet (meer) antwoorden.")
    return parent


def post_comment(
    session: Session,
    article_cms_id: str,
    author: User,
    body: object,
    parent_id: object,
    screener: Screener,
    policy: PostingPolicy,
    activity: ActivityStore,
    now: datetime | None = None,
    before_write: Callable[[], None] | None = None,
) -> PostResult:
    """Screen a new comment, apply the context rules and store it as published, held or rejected.

    Everything up to the first database write only reads (and records the post in the flood
    memory, taken back if it is not stored); `before_write` is called there, once the rows are
    built (the view opens its write transaction), and what could have changed meanwhile is
    checked again.
    """
    now = now or utcnow()
    target = posting_target(session, article_cms_id, policy.auto_close_days, now)
    mode = target.mode
    if mode.closed:
        raise Conflict("comments_closed", "Reageren op dit artikel is gesloten.")
    check_can_post(author, now)
    check_verified(author, policy)
    text = clean_body(body)
    parent = _parent(session, target.id, parent_id)

    moment = clock()
    limits = [(policy.flood_limit, policy.flood_window_seconds)]
    if mode.slow_seconds:  # match-day slow mode: one comment per N seconds
        limits.append((1, float(mode.slow_seconds)))
    memory_window = max([policy.duplicate_window_seconds, *(w for _, w in limits)])
    fingerprint = rules.fingerprint(text)
    # One step checks the flood limits and records this post (one Redis round trip). It
    # travels while the text is screened and the author's history weighed: waiting for it
    # idle cost the worker more than the round trip itself.
    pending = activity.begin_claim(author.id, fingerprint, moment, memory_window, limits)
    try:
        screening = screener(text)
        flags = _screening_flags(screening)
        decision = screening.decision
        if decision != "reject":
            if mode.premoderated:
                flags.append(_context_flag(ContextFlag.PREMODERATED))
            if screening.flags and rules.is_new_account(session, author, policy):
                flags.append(_context_flag(ContextFlag.NEW_ACCOUNT))
            rate = rules.recent_rejection_rate(session, author, policy, now)
            if rate is not None and rate > policy.rejection_rate:
                flags.append(_context_flag(ContextFlag.RECENT_HISTORY, f"{rate:.0%}"))
    except BaseException:
        claim = pending.result()
        if claim.allowed:
            activity.forget(author.id, claim)
        raise
    claim = pending.result()
    if not claim.allowed:
        raise DomainError(
            "too_fast",
            "Je reageert te snel. Wacht even voor je opnieuw reageert.",
            429,
            details={"retry_after": int(claim.window)},
        )
    try:
        if decision != "reject":
            previous = [
                fp for at, fp in claim.recent if moment - at < policy.duplicate_window_seconds
            ]
            duplicate = rules.duplicate_flag(fingerprint, previous, policy)
            if duplicate is not None:
                flags.append(_context_flag(duplicate))
            if decision == "publish" and any(
                f.severity >= int(ContextFlag.PREMODERATED.severity) for f in flags
            ):
                decision = "hold"

        def take_lock() -> None:
            if before_write is None:
                return
            before_write()
            if parent is not None:
                session.refresh(parent, ["state"])
                if parent.state is not CommentState.PUBLISHED:
                    raise Conflict(
                        "parent_not_visible", "Op deze reactie kan je niet (meer) antwoorden."
                    )

        to_state = {
            "publish": CommentState.PUBLISHED,
            "hold": CommentState.HELD,
            "reject": CommentState.REJECTED,
        }[decision]
        reason = None
        if decision == "reject":
            reason = ReasonCode(max(flags, key=lambda f: f.severity).reason)
        new = NewComment(
            article_id=target.id,
            author_id=author.id,
            body=text,
            parent_id=parent.id if parent else None,
            root_id=(parent.root_id or parent.id) if parent else None,
            depth=min(parent.depth + 1, MAX_DEPTH) if parent else 0,
        )
        comment = post_new_comment(
            session, new, _flag_rows(flags), to_state, reason, now, take_lock=take_lock
        )
        record_on_commit(session, "comments", to_state.value)
        return PostResult(comment, flags)
    except BaseException:
        activity.forget(author.id, claim)  # not stored, so it does not count as a post
        raise


def _own_comment(session: Session, comment_id: int, author: User) -> Comment:
    comment = get_or_404(
        session,
        Comment,
        comment_id,
        "comment_not_found",
        "Deze reactie bestaat niet.",
        visible=lambda comment: comment.state is not CommentState.DELETED,
    )
    if comment.author_id != author.id:
        raise DomainError("forbidden", "Je kan enkel je eigen reacties aanpassen.", 403)
    return comment


def edit_comment(
    session: Session,
    comment_id: int,
    author: User,
    body: object,
    screener: Screener,
    policy: PostingPolicy,
    now: datetime | None = None,
) -> PostResult:
    """Change one's own comment within the edit window; the new text is screened again.

    An edit that screens to reject is refused and the old text stays; one that screens to hold
    takes a published comment off the page until a moderator approves it.
    """
    now = now or utcnow()
    comment = _own_comment(session, comment_id, author)
    if comment.state not in (CommentState.PUBLISHED, CommentState.HELD):
        raise Conflict("not_editable", "Deze reactie kan je niet meer bewerken.")
    if now - comment.created_at > timedelta(seconds=policy.edit_window_seconds):
        raise Conflict(
            "edit_window_closed",
            f"Je kan een reactie maar {policy.edit_window_seconds // 60} minuten lang bewerken.",
        )
    check_can_post(author, now)
    check_verified(author, policy)
    text = clean_body(body)
    screening = screener(text)
    flags = _screening_flags(screening)
    if screening.decision == "reject":
        raise DomainError(
            "edit_rejected",
            "Deze aanpassing kunnen we niet plaatsen; je reactie bleef ongewijzigd.",
            422,
            details={"comment_id": comment.id, "reasons": [f.reason for f in flags]},
        )
    comment.body = text
    comment.edited_at = now
    touch_article(session, comment.article_id)
    # Context flags (premoderation, duplicates …) still explain why it was held; keep them.
    context_codes = {flag.code for flag in ContextFlag}
    kept = [
        StoredFlag(f.code, f.reason.value, f.severity, f.code, f.detail, f.span_start, f.span_end)
        for f in comment.flags
        if f.code in context_codes
    ]
    _store_flags(comment, kept + flags)
    article = session.get(Article, comment.article_id)
    premoderated = (
        article is not None
        and active_mode(session, article, policy.auto_close_days, now).premoderated
    )
    if comment.state is CommentState.PUBLISHED and (screening.decision == "hold" or premoderated):
        # On a premoderated article every new text is looked at again.
        transition(session, comment, CommentState.HELD, "edit", author, now=now)
    return PostResult(comment, flags)


def own_comment(session: Session, comment_id: int, author: User) -> Comment:
    """One's own comment that is not deleted (what the delete confirmation shows), or 404/403."""
    return _own_comment(session, comment_id, author)


def delete_comment(session: Session, comment_id: int, author: User) -> Comment:
    """Soft-delete one's own comment; its replies stay and it shows as "verwijderd"."""
    comment = _own_comment(session, comment_id, author)
    transition(session, comment, CommentState.DELETED, "delete", author)
    return comment


def _last_deletion(session: Session, comment: Comment) -> tuple[datetime, str | None] | None:
    """When the author last deleted this comment and from which state (its audit row)."""
    row = session.execute(
        select(ModerationAction.created_at, ModerationAction.from_state)
        .where(
            ModerationAction.target_type == "comment",
            ModerationAction.target_id == str(comment.id),
            ModerationAction.action == "delete",
        )
        .order_by(ModerationAction.id.desc())
        .limit(1)
    ).first()
    return (row[0], row[1]) if row else None


def undo_deadline(session: Session, comment: Comment, policy: PostingPolicy) -> datetime | None:
    """Until when the author may take back deleting this comment (None: not deleted by them)."""
    if comment.state is not CommentState.DELETED:
        return None
    deletion = _last_deletion(session, comment)
    return deletion[0] + timedelta(seconds=policy.undo_delete_seconds) if deletion else None


def recently_deleted(
    session: Session, article_id: int, author: User, policy: PostingPolicy, now: datetime
) -> list[tuple[Comment, datetime]]:
    """The author's comments on one article whose deletion they may still undo, each with the
    deadline, newest first (the audit rows of their deletes, by the actor index)."""
    since = now - timedelta(seconds=policy.undo_delete_seconds)
    deleted_at: dict[str, datetime] = {}
    for target_id, created_at in session.execute(
        select(ModerationAction.target_id, ModerationAction.created_at).where(
            ModerationAction.actor_id == author.id,
            ModerationAction.created_at > since,
            ModerationAction.target_type == "comment",
            ModerationAction.action == "delete",
        )
    ):
        deleted_at[target_id] = max(created_at, deleted_at.get(target_id, created_at))
    if not deleted_at:
        return []
    found = session.scalars(
        select(Comment)
        .where(
            Comment.id.in_([int(target_id) for target_id in deleted_at]),
            Comment.article_id == article_id,
            Comment.state == CommentState.DELETED,
        )
        .order_by(Comment.id.desc())
    )
    window = timedelta(seconds=policy.undo_delete_seconds)
    return [(comment, deleted_at[str(comment.id)] + window) for comment in found]


def undelete_comment(
    session: Session,
    comment_id: int,
    author: User,
    policy: PostingPolicy,
    now: datetime | None = None,
) -> Comment:
    """Take back deleting one's own comment within TRIBUNE_UNDO_DELETE_SECONDS: it goes back
    to the state it was deleted from (published or held), through the state machine."""
    now = now or utcnow()
    comment = authors_comment(session, comment_id, author.id)
    deletion = _last_deletion(session, comment) if comment.state is CommentState.DELETED else None
    if deletion is not None and now >= deletion[0] + timedelta(seconds=policy.undo_delete_seconds):
        raise Conflict(
            "undo_window_closed",
            f"Verwijderen ongedaan maken kan maar {policy.undo_delete_seconds // 60} minuten lang.",
        )
    # Not deleted (or not by the author's delete): the state machine refuses the move with 409.
    back_to = deletion[1] if deletion and deletion[1] else CommentState.PUBLISHED.value
    transition(session, comment, CommentState(back_to), "undelete", author, now=now)
    return comment


def reporter_weight(
    session: Session, reporter: User, policy: PostingPolicy, now: datetime
) -> float:
    """How much one reader's report counts: new accounts less, a good track record more."""
    weight = 0.5 if now - reporter.created_at < timedelta(days=policy.new_reporter_days) else 1.0
    rows = session.execute(
        select(Report.outcome, func.count())
        .where(
            Report.reporter_id == reporter.id,
            Report.outcome.in_((ReportOutcome.UPHELD, ReportOutcome.DISMISSED)),
        )
        .group_by(Report.outcome)
    )
    outcomes: dict[ReportOutcome, int] = {outcome: count for outcome, count in rows}
    upheld = outcomes.get(ReportOutcome.UPHELD, 0)
    dismissed = outcomes.get(ReportOutcome.DISMISSED, 0)
    weight += 0.25 * min(upheld, 6) - 0.25 * min(dismissed, 3)
    return max(0.25, min(weight, 2.5))


def report_comment(
    session: Session,
    comment_id: int,
    reporter: User,
    reason: object,
    note: object,
    policy: PostingPolicy,
    now: datetime | None = None,
) -> tuple[Report, bool]:
    """Report a comment (once per reader); returns the report and whether it is new."""
    now = now or utcnow()
    check_verified(reporter, policy)
    try:
        reason_code = ReasonCode(reason)  # type: ignore[arg-type]  # any value: ValueError answers 422
    except ValueError:
        raise Invalid(
            "invalid_reason",
            "Kies een geldige reden.",
            details={"allowed": [code.value for code in ReasonCode]},
        ) from None
    if note is not None and (not isinstance(note, str) or len(note) > REPORT_NOTE_MAX):
        raise Invalid(
            "invalid_note",
            f"Een toelichting heeft hoogstens {REPORT_NOTE_MAX} tekens.",
            details={"field": "note"},
        )
    comment = get_or_404(
        session,
        Comment,
        comment_id,
        "comment_not_found",
        "Deze reactie bestaat niet (meer).",
        visible=lambda comment: comment.state is CommentState.PUBLISHED,
    )
    if comment.author_id == reporter.id:
        raise Conflict("own_comment", "Je kan je eigen reactie niet melden.")
    weight = reporter_weight(session, reporter, policy, now)
    values = dict(
        comment_id=comment.id,
        reporter_id=reporter.id,
        reason=reason_code.value,
        note=(note or None) and note.strip()[:REPORT_NOTE_MAX],
        weight=weight,
        outcome=ReportOutcome.PENDING.value,
        created_at=now,
    )
    # Insert-or-nothing: the unique constraint decides, not a read-then-write race.
    inserted = insert_or_nothing(session, Report, values, ["comment_id", "reporter_id"])
    if inserted is None:
        existing = session.scalars(
            select(Report).where(Report.comment_id == comment.id, Report.reporter_id == reporter.id)
        ).one()
        return existing, False
    report = session.get_one(Report, inserted)
    # Atomic increments: concurrent reports on one comment must all count.
    session.execute(
        update(Comment)
        .where(Comment.id == comment.id)
        .values(report_count=Comment.report_count + 1, report_score=Comment.report_score + weight)
    )
    # The UPDATE holds the row lock: re-read what concurrent reports may have changed.
    session.refresh(comment, ["report_count", "report_score", "queued_at", "state"])
    first_open = comment.report_count == 1
    if first_open:
        mark_reported(session, comment, now)
    if comment.state is CommentState.PUBLISHED and comment.report_score >= policy.report_threshold:
        transition(
            session,
            comment,
            CommentState.HELD,
            "report_threshold",
            None,
            note=f"meldscore {comment.report_score:.2f}",
            now=now,
        )
    events.publish(
        session,
        "report.created",
        report_id=report.id,
        comment_id=comment.id,
        reporter_id=reporter.id,
        reason=reason_code.value,
    )
    return report, True
