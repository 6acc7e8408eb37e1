"""The comment state machine: the one place a comment's state changes.

Each transition is checked against the table below (an illegal one is a 409), writes an audit
row, and moves the counters that depend on the state (article tally, author track record,
queue counters) in the same transaction. Counter rows are updated last and always in the same
order (queue counters by name, then the author, then the article) so concurrent transactions
cannot deadlock. Posting a new comment (post_new_comment) is the same move from nothing: its
rows are decided here and written by the dialect's post writer (writes.posts). No SQL of any
one dialect lives here.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, case, select, update
from sqlalchemy.orm import Session

import events
from caching import touch_article
from errors import Conflict
from models import (
    Article,
    Comment,
    CommentState,
    QueueCounter,
    ReasonCode,
    Report,
    ReportOutcome,
    User,
    utcnow,
)
from moderation.audit import record_action
from moderation.queue import queue_memberships
from writes.posts import PostRows
from writes.registry import post_writer

NEW = "new"  # a comment being posted has no state yet

# (from, to) → the actions that may make that move.
TRANSITIONS: dict[tuple[str, CommentState], frozenset[str]] = {
    (NEW, CommentState.PUBLISHED): frozenset({"post"}),
    (NEW, CommentState.HELD): frozenset({"post"}),
    (NEW, CommentState.REJECTED): frozenset({"post"}),
    (CommentState.HELD.value, CommentState.PUBLISHED): frozenset({"approve"}),
    (CommentState.HELD.value, CommentState.REJECTED): frozenset({"reject"}),
    # "score_threshold": the operator's model scored it at or above a holding threshold (scoring/).
    (CommentState.PUBLISHED.value, CommentState.HELD): frozenset(
        {"report_threshold", "edit", "score_threshold"}
    ),
    (CommentState.PUBLISHED.value, CommentState.REMOVED): frozenset({"remove"}),
    # "account_deleted": the author deleted the account and chose to take the comments along.
    (CommentState.PUBLISHED.value, CommentState.DELETED): frozenset({"delete", "account_deleted"}),
    (CommentState.HELD.value, CommentState.DELETED): frozenset({"delete", "account_deleted"}),
    # The author takes a deletion back within TRIBUNE_UNDO_DELETE_SECONDS, to the state it left.
    (CommentState.DELETED.value, CommentState.PUBLISHED): frozenset({"undelete"}),
    (CommentState.DELETED.value, CommentState.HELD): frozenset({"undelete"}),
    (CommentState.REJECTED.value, CommentState.PUBLISHED): frozenset({"restore", "appeal_upheld"}),
    (CommentState.REMOVED.value, CommentState.PUBLISHED): frozenset({"restore", "appeal_upheld"}),
}

AUTHOR_COUNTERS = {
    CommentState.PUBLISHED: "published_count",
    CommentState.HELD: "held_count",
    CommentState.REJECTED: "rejected_count",
}


def allowed_actions(from_state: str, to_state: CommentState) -> frozenset[str]:
    """The actions that may move a comment between these states."""
    return TRANSITIONS.get((from_state, to_state), frozenset())


@dataclass
class CounterDelta:
    """Counter changes collected during one transaction, applied last in a fixed order."""

    queues: Counter[str]
    article_comments: Counter[int]
    author_states: dict[tuple[int, str], int]
    # Authors with a comment rejected or removed now: their users.last_rejected_at moves.
    author_rejections: dict[int, datetime] = field(default_factory=dict)

    @classmethod
    def empty(cls) -> CounterDelta:
        return cls(Counter(), Counter(), {})


def _queue_delta(delta: CounterDelta, before: set[str], after: set[str]) -> None:
    for name in before - after:
        delta.queues[name] -= 1
    for name in after - before:
        delta.queues[name] += 1


def _state_delta(delta: CounterDelta, comment: Comment, state: str, sign: int) -> None:
    if state == NEW:
        return
    counter = AUTHOR_COUNTERS.get(CommentState(state))
    if counter:
        key = (comment.author_id, counter)
        delta.author_states[key] = delta.author_states.get(key, 0) + sign
    if state == CommentState.PUBLISHED.value:
        delta.article_comments[comment.article_id] += sign


def apply_counters(session: Session, delta: CounterDelta) -> None:
    """Write the collected counter changes: queues by name, then authors, then articles."""
    session.flush()
    changes = {name: change for name, change in sorted(delta.queues.items()) if change}
    if changes:
        # One statement for every queue counter that moves.
        # An UPDATE's result is a CursorResult (rowcount); Session.execute is typed Result.
        updated = cast(
            "CursorResult[Any]",
            session.execute(
                update(QueueCounter)
                .where(QueueCounter.name.in_(changes))
                .values(count=QueueCounter.count + case(changes, value=QueueCounter.name, else_=0))
            ),
        )
        if updated.rowcount != len(changes):
            existing = set(
                session.scalars(select(QueueCounter.name).where(QueueCounter.name.in_(changes)))
            )
            for name in sorted(set(changes) - existing):
                session.add(QueueCounter(name=name, count=changes[name]))
            session.flush()
    per_author: dict[int, dict[str, Any]] = {}
    for (author_id, column), change in delta.author_states.items():
        if change:
            per_author.setdefault(author_id, {})[column] = getattr(User, column) + change
    for author_id, moment in delta.author_rejections.items():
        per_author.setdefault(author_id, {})["last_rejected_at"] = moment
    for author_id in sorted(per_author):  # one statement per author, in id order
        session.execute(update(User).where(User.id == author_id).values(per_author[author_id]))
    for article_id in sorted(delta.article_comments):
        change = delta.article_comments[article_id]
        if change:
            session.execute(
                update(Article)
                .where(Article.id == article_id)
                .values(comment_count=Article.comment_count + change)
            )


# Moderator decisions settle the open reports: upheld when it goes, dismissed when it stays.
MODERATOR_DECISIONS = frozenset({"approve", "reject", "remove", "restore", "appeal_upheld"})


def _resolve_reports(session: Session, comment: Comment, upheld: bool, now: datetime) -> None:
    if comment.id is None or comment.report_count == 0:
        return
    outcome = ReportOutcome.UPHELD if upheld else ReportOutcome.DISMISSED
    if events.has_subscribers("report.decided"):
        pending = session.execute(
            select(Report.id, Report.reporter_id).where(
                Report.comment_id == comment.id, Report.outcome == ReportOutcome.PENDING
            )
        ).all()
        for report_id, reporter_id in pending:
            events.publish(
                session,
                "report.decided",
                report_id=report_id,
                comment_id=comment.id,
                reporter_id=reporter_id,
                outcome=outcome.value,
            )
    session.execute(
        update(Report)
        .where(Report.comment_id == comment.id, Report.outcome == ReportOutcome.PENDING)
        .values(
            outcome=ReportOutcome.UPHELD if upheld else ReportOutcome.DISMISSED, resolved_at=now
        )
    )
    comment.report_count = 0
    comment.report_score = 0.0


def lock_comment(session: Session, comment: Comment) -> None:
    """Re-read a stored comment under a row lock, so two decisions cannot both apply.

    PostgreSQL takes the row lock (SELECT … FOR UPDATE); on SQLite the write transaction already
    holds the database lock (BEGIN IMMEDIATE). Pending changes are flushed first so none is lost.
    """
    if comment.id is None:
        return
    session.flush()
    session.refresh(comment, with_for_update=True)


def transition(
    session: Session,
    comment: Comment,
    to_state: CommentState,
    action: str,
    actor: User | None,
    reason: ReasonCode | None = None,
    note: str | None = None,
    now: datetime | None = None,
    notice_id: int | None = None,
) -> None:
    """Move a comment to `to_state` by `action`, or raise 409 if that move is not allowed.

    `notice_id` names the DSA notice a decision answers (its event carries it, so the author's
    statement of reasons names the notice's ground)."""
    now = now or utcnow()
    lock_comment(session, comment)
    from_state = NEW if comment.state is None else comment.state.value
    if action not in allowed_actions(from_state, to_state):
        raise Conflict(
            "illegal_transition",
            f"Een reactie in toestand '{from_state}' kan niet '{action}' naar '{to_state.value}'.",
            details={"from": from_state, "to": to_state.value, "action": action},
        )
    if to_state is CommentState.PUBLISHED and comment.body_erased_at is not None:
        raise Conflict(
            "body_erased",
            "De tekst van deze reactie werd gewist; ze kan niet meer online.",
            details={"from": from_state, "to": to_state.value, "action": action},
        )
    delta = CounterDelta.empty()
    before = queue_memberships(comment)
    _state_delta(delta, comment, from_state, -1)
    _state_delta(delta, comment, to_state.value, +1)
    comment.state = to_state
    # queued_at is the time a comment entered the queue it is in now (held, or Gemeld).
    if to_state is CommentState.HELD:
        comment.queued_at = now
    elif to_state is CommentState.PUBLISHED:
        comment.queued_at = None
    if to_state in (CommentState.REJECTED, CommentState.REMOVED):
        comment.decision_reason = reason
        comment.decision_note = note
        # Never before the comment's creation: posting relies on that (rules.py).
        created = comment.created_at
        delta.author_rejections[comment.author_id] = max(now, created) if created else now
    elif to_state is CommentState.PUBLISHED:
        comment.decision_reason = None
        comment.decision_note = None
    if action in MODERATOR_DECISIONS:
        comment.reviewed_at = now
        _resolve_reports(session, comment, upheld=action in ("reject", "remove"), now=now)
    _queue_delta(delta, before, queue_memberships(comment))
    if comment.id is None:
        if comment.created_at is None:  # posted now (else the model default stamps it later)
            comment.created_at = comment.updated_at = now
        session.add(comment)
        session.flush()
    if CommentState.PUBLISHED.value in (from_state, to_state.value):  # what readers see changed
        touch_article(session, comment.article_id)
    record_action(
        session,
        actor,
        "comment",
        comment.id,
        action,
        from_state,
        to_state.value,
        reason.value if reason else None,
        note,
    )
    apply_counters(session, delta)
    if from_state == NEW:
        _publish_created(
            session, comment.id, comment.article_id, comment.author_id, comment.parent_id, to_state
        )
    else:
        source = {"notice_id": notice_id} if notice_id is not None else {}
        events.publish(
            session,
            "comment.state_changed",
            **source,
            comment_id=comment.id,
            article_id=comment.article_id,
            author_id=comment.author_id,
            from_state=from_state,
            to_state=to_state.value,
            action=action,
            actor_id=actor.id if actor else None,
            automated=actor is None,
            reason_code=reason.value if reason else None,
            note=note,
        )


def _publish_created(
    session: Session,
    comment_id: int,
    article_id: int,
    author_id: int,
    parent_id: int | None,
    state: CommentState,
) -> None:
    events.publish(
        session,
        "comment.created",
        comment_id=comment_id,
        article_id=article_id,
        author_id=author_id,
        parent_id=parent_id,
        state=state.value,
    )


@dataclass(frozen=True)
class NewComment:
    """A comment being posted, as the author wrote it and where."""

    article_id: int
    author_id: int
    body: str
    parent_id: int | None = None
    root_id: int | None = None
    depth: int = 0


@dataclass(slots=True)
class PostedComment:
    """A new comment as post_new_comment stored it: its columns, no ORM state to track.

    The author's answer and the queue counters need only these values; building and
    instrumenting a Comment for them cost a few percent of a post.
    """

    id: int
    article_id: int
    author_id: int
    parent_id: int | None
    root_id: int | None
    depth: int
    body: str
    state: CommentState
    created_at: datetime
    updated_at: datetime
    edited_at: datetime | None
    queued_at: datetime | None
    report_score: float
    report_count: int
    reaction_count: int
    top_severity: int
    top_reason: str | None
    reviewed_at: datetime | None
    decision_reason: ReasonCode | None
    decision_note: str | None
    body_erased_at: datetime | None
    featured_at: datetime | None
    featured_by_id: int | None


def _post_audit_row(
    to_state: CommentState, reason: ReasonCode | None, now: datetime
) -> dict[str, Any]:
    """The audit row of a post but its target_id (what record_action writes for transition()'s
    "post"; the writer adds the new comment's id)."""
    return {
        "actor_id": None,
        "target_type": "comment",
        "action": "post",
        "from_state": NEW,
        "to_state": to_state.value,
        "reason_code": reason.value if reason else None,
        "note": None,
        "created_at": now,
    }


def post_new_comment(
    session: Session,
    new: NewComment,
    flags: Sequence[Mapping[str, Any]],
    to_state: CommentState,
    reason: ReasonCode | None,
    now: datetime,
    take_lock: Callable[[], None] | None = None,
) -> PostedComment:
    """The transition from nothing to published, held or rejected, for the posting hot path.

    Decides what transition() decides for a new comment (post_rows) and hands the rows to the
    dialect's post writer (writes.posts), which writes them in transition()'s order: the
    comment and its flags, the audit row, then the counters (queues, author, article).
    Returns the stored values, not an ORM object. tests/test_writes_parity.py holds every post
    writer to the rows and counters transition() writes.

    `take_lock` is called once everything is built, right before the first write: the caller
    starts its write transaction there and checks again what could have changed, so the write
    lock is held for the writes alone.
    """
    comment, rows = post_rows(new, flags, to_state, reason, now)
    comment.id = post_writer(session.connection().dialect).write(session, rows, take_lock)
    _publish_created(
        session, comment.id, comment.article_id, comment.author_id, comment.parent_id, to_state
    )
    return comment


def post_rows(
    new: NewComment,
    flags: Sequence[Mapping[str, Any]],
    to_state: CommentState,
    reason: ReasonCode | None,
    now: datetime,
) -> tuple[PostedComment, PostRows]:
    """What posting a comment writes, as transition() would: the comment (its id still 0), its
    flags, the audit row and the counters that move; 409 for a state a post cannot reach."""
    if "post" not in allowed_actions(NEW, to_state):
        raise Conflict("illegal_transition", f"Een nieuwe reactie kan niet '{to_state.value}'.")
    strongest = max(flags, key=lambda f: f["severity"], default=None)
    row: dict[str, Any] = {
        "article_id": new.article_id,
        "author_id": new.author_id,
        "parent_id": new.parent_id,
        "root_id": new.root_id,
        "depth": new.depth,
        "body": new.body,
        "state": to_state,
        "created_at": now,
        "updated_at": now,
        "edited_at": None,
        "queued_at": now if to_state is CommentState.HELD else None,
        "report_score": 0.0,
        "report_count": 0,
        "reaction_count": 0,
        "top_severity": strongest["severity"] if strongest else 0,
        "top_reason": strongest["reason"] if strongest else None,
        "reviewed_at": None,
        "decision_reason": reason if to_state is CommentState.REJECTED else None,
        "decision_note": None,
        "body_erased_at": None,
        "featured_at": None,  # a new comment is nobody's pick yet (comments.picks)
        "featured_by_id": None,
    }
    comment = PostedComment(id=0, **row)
    rows = PostRows(
        comment=row,
        flags=flags,
        audit=_post_audit_row(to_state, reason, now),
        queues=sorted(queue_memberships(comment)),
        author_counter=AUTHOR_COUNTERS[to_state],
        rejected=to_state is CommentState.REJECTED,
        published=to_state is CommentState.PUBLISHED,
    )
    return comment, rows


def mark_reported(session: Session, comment: Comment, now: datetime | None = None) -> None:
    """A published comment got its first open report: it enters the Gemeld tab."""
    if comment.state is not CommentState.PUBLISHED or comment.queued_at is not None:
        return
    delta = CounterDelta.empty()
    before = queue_memberships(comment)
    comment.queued_at = now or utcnow()
    _queue_delta(delta, before, queue_memberships(comment))
    apply_counters(session, delta)


def dismiss_reports(
    session: Session, comment: Comment, actor: User, note: str | None = None
) -> None:
    """Keep a reported comment published and mark its reports as not upheld."""
    lock_comment(session, comment)
    if comment.state is not CommentState.PUBLISHED or comment.queued_at is None:
        raise Conflict("not_reported", "Deze reactie heeft geen open meldingen.")
    now = utcnow()
    delta = CounterDelta.empty()
    before = queue_memberships(comment)
    _resolve_reports(session, comment, upheld=False, now=now)
    comment.queued_at = None
    comment.reviewed_at = now
    _queue_delta(delta, before, queue_memberships(comment))
    record_action(
        session,
        actor,
        "comment",
        comment.id,
        "dismiss_reports",
        "published",
        "published",
        note=note,
    )
    apply_counters(session, delta)


def mark_reviewed(session: Session, comment: Comment, actor: User) -> None:
    """A moderator looked at a published comment and let it stand (it leaves Recent)."""
    lock_comment(session, comment)
    if comment.state is not CommentState.PUBLISHED or comment.reviewed_at is not None:
        raise Conflict("already_reviewed", "Deze reactie werd al nagekeken.")
    delta = CounterDelta.empty()
    before = queue_memberships(comment)
    comment.reviewed_at = utcnow()
    _queue_delta(delta, before, queue_memberships(comment))
    record_action(session, actor, "comment", comment.id, "mark_reviewed", "published", "published")
    apply_counters(session, delta)


def adjust_queue(session: Session, name: str, change: int) -> None:
    """Move a queue counter that no comment state drives (e.g. pending appeals)."""
    delta = CounterDelta.empty()
    delta.queues[name] += change
    apply_counters(session, delta)
