"""The comment state machine: the one place a comment's state changes.

Each transition is checked against the table below (an illegal one is a 409), writes an audit
row, and moves the counters that depend on the state (article tally, author track record,
queue counters) in the same transaction. Counter rows are updated last and always in the same
order (queue counters by name, then the author, then the article) so concurrent transactions
cannot deadlock.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, case, insert, select, text, update
from sqlalchemy.orm import Session

from comments.cache import touch_article
from errors import Conflict
from models import (
    Article,
    Comment,
    CommentState,
    Flag,
    ModerationAction,
    QueueCounter,
    ReasonCode,
    Report,
    ReportOutcome,
    User,
    utcnow,
)
from models.base import UTCDateTime
from moderation.audit import record_action
from writes.driver import DriverInsert, type_processors

NEW = "new"  # a comment being posted has no state yet

# (from, to) → the actions that may make that move.
TRANSITIONS: dict[tuple[str, CommentState], frozenset[str]] = {
    (NEW, CommentState.PUBLISHED): frozenset({"post"}),
    (NEW, CommentState.HELD): frozenset({"post"}),
    (NEW, CommentState.REJECTED): frozenset({"post"}),
    (CommentState.HELD.value, CommentState.PUBLISHED): frozenset({"approve"}),
    (CommentState.HELD.value, CommentState.REJECTED): frozenset({"reject"}),
    (CommentState.PUBLISHED.value, CommentState.HELD): frozenset({"report_threshold", "edit"}),
    (CommentState.PUBLISHED.value, CommentState.REMOVED): frozenset({"remove"}),
    (CommentState.PUBLISHED.value, CommentState.DELETED): frozenset({"delete"}),
    (CommentState.HELD.value, CommentState.DELETED): frozenset({"delete"}),
    (CommentState.REJECTED.value, CommentState.PUBLISHED): frozenset({"restore", "appeal_upheld"}),
    (CommentState.REMOVED.value, CommentState.PUBLISHED): frozenset({"restore", "appeal_upheld"}),
}

# Queue counters by name: one per state, plus "reported" (published with open reports: the
# Gemeld tab), "unreviewed" (published, no moderator looked yet: the Recent tab) and "appeals".
REPORTED = "reported"
UNREVIEWED = "unreviewed"
APPEALS = "appeals"
AUTHOR_COUNTERS = {
    CommentState.PUBLISHED: "published_count",
    CommentState.HELD: "held_count",
    CommentState.REJECTED: "rejected_count",
}


def queue_memberships(comment: Comment | PostedComment) -> set[str]:
    """The queue counters a comment counts in, derived from its columns."""
    if comment.state is None:
        return set()
    names = {comment.state.value}
    if comment.state is CommentState.PUBLISHED:
        if comment.queued_at is not None:
            names.add(REPORTED)
        if comment.reviewed_at is None:
            names.add(UNREVIEWED)
    return names


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
        updated = session.execute(
            update(QueueCounter)
            .where(QueueCounter.name.in_(changes))
            .values(count=QueueCounter.count + case(changes, value=QueueCounter.name, else_=0))
        )
        if updated.rowcount != len(changes):  # type: ignore[attr-defined]
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
) -> None:
    """Move a comment to `to_state` by `action`, or raise 409 if that move is not allowed."""
    now = now or utcnow()
    lock_comment(session, comment)
    from_state = NEW if comment.state is None else comment.state.value
    if action not in allowed_actions(from_state, to_state):
        raise Conflict(
            "illegal_transition",
            f"Een reactie in toestand '{from_state}' kan niet '{action}' naar '{to_state.value}'.",
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
    top_severity: int
    top_reason: str | None
    reviewed_at: datetime | None
    decision_reason: ReasonCode | None
    decision_note: str | None


# A queue's first comment on a fresh database (no counter row yet). Spelled out: the dialects'
# on_conflict_do_update() has no cache key. sqlite3 takes the :name parameter as it is.
_CREATE_QUEUE = (
    "INSERT INTO queue_counters (name, count) VALUES (:name, 1)"
    " ON CONFLICT (name) DO UPDATE SET count = queue_counters.count + 1"
)


def _posting_statements() -> dict[str, Any]:
    """The posting hot path's statements, built once: no ORM unit of work, no per-call
    statement construction, only parameters bound."""
    comments_t, flags_t = Comment.__table__, Flag.__table__
    users_t, articles_t = User.__table__, Article.__table__
    queues_t, actions_t = QueueCounter.__table__, ModerationAction.__table__
    by_author = users_t.c.id == bindparam("author_id")
    authors = {}
    for state, column in AUTHOR_COUNTERS.items():
        values: dict[str, Any] = {column: users_t.c[column] + 1}
        if state is CommentState.REJECTED:
            values["last_rejected_at"] = bindparam("now", type_=UTCDateTime())
        authors[state] = update(users_t).where(by_author).values(values)
    return {
        "comment": insert(comments_t).returning(comments_t.c.id),
        "flags": insert(flags_t),
        "audit": insert(actions_t),
        "queues": update(queues_t)
        .where(queues_t.c.name.in_(bindparam("names", expanding=True)))
        .values(count=queues_t.c.count + 1)
        .returning(queues_t.c.name),
        "create_queue": text(_CREATE_QUEUE),
        "authors": authors,
        # A published post changes the thread readers see: its version goes up here too.
        "article": update(articles_t)
        .where(articles_t.c.id == bindparam("article_id"))
        .values(
            comment_count=articles_t.c.comment_count + 1,
            thread_version=articles_t.c.thread_version + 1,
        ),
    }


_POSTING = _posting_statements()
_COMMENT_COLUMNS = tuple(c.key for c in Comment.__table__.columns if c.key != "id")


def _post_audit_row(
    comment_id: int, to_state: CommentState, reason: ReasonCode | None, now: datetime
) -> dict[str, Any]:
    """The audit row of a post (what record_action writes for transition()'s "post")."""
    return {
        "actor_id": None,
        "target_type": "comment",
        "target_id": str(comment_id),
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

    Writes what transition() writes for a new comment: the comment with its queue columns and
    flags, the audit row, then the counters in the fixed order (queues, author, article): in
    prebuilt Core statements, on SQLite as plain SQL on the driver connection
    (_post_on_sqlite). Returns the stored values, not an ORM object.
    tests/test_comment_states.py holds each path to the rows and counters transition() writes.

    `take_lock` is called once everything is built, right before the first write: the caller
    starts its write transaction there and checks again what could have changed, so the write
    lock is held for the writes alone.
    """
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
        "top_severity": strongest["severity"] if strongest else 0,
        "top_reason": strongest["reason"] if strongest else None,
        "reviewed_at": None,
        "decision_reason": reason if to_state is CommentState.REJECTED else None,
        "decision_note": None,
    }
    comment = PostedComment(id=0, **row)
    names = sorted(queue_memberships(comment))
    dialect = session.connection().dialect
    if dialect.name == "sqlite":
        built = _sqlite_posting(dialect)
        values = built["comment"].values(row)
        article_stamp = built["stamp"](utcnow())
        if take_lock is not None:
            take_lock()
        comment.id = _post_on_sqlite(
            session.connection(), values, article_stamp, new, flags, names, to_state, reason, now
        )
        return comment
    if take_lock is not None:
        take_lock()
    conn = session.connection()
    comment.id = conn.execute(_POSTING["comment"], row).scalar_one()
    if flags:
        rows = [{**flag, "comment_id": comment.id, "created_at": now} for flag in flags]
        conn.execute(_POSTING["flags"], rows)
    conn.execute(_POSTING["audit"], _post_audit_row(comment.id, to_state, reason, now))
    counted = set(conn.execute(_POSTING["queues"], {"names": names}).scalars())
    for name in names:
        if name not in counted:  # a fresh database: the first comment in this queue
            conn.execute(_POSTING["create_queue"], {"name": name})
    conn.execute(_POSTING["authors"][to_state], {"author_id": new.author_id, "now": now})
    # Only a published post changes the thread readers see; its counter update raises the
    # thread version itself, so the article is not touched (no second UPDATE before commit).
    if to_state is CommentState.PUBLISHED:
        conn.execute(_POSTING["article"], {"article_id": new.article_id})
    return comment


_SQLITE_POSTING: dict[str, Any] = {}


def _sqlite_posting(dialect: Any) -> dict[str, Any]:
    """The posting statements for SQLite's driver connection, built once."""
    if not _SQLITE_POSTING:
        flag_columns = [c.key for c in Flag.__table__.columns if c.key != "id"]
        audit_columns = [c.key for c in ModerationAction.__table__.columns if c.key != "id"]
        stamp = type_processors(UTCDateTime(), dialect)[0]
        authors = {}
        for state, column in AUTHOR_COUNTERS.items():
            rejected = ", last_rejected_at = ?" if state is CommentState.REJECTED else ""
            authors[state] = f"UPDATE users SET {column} = {column} + 1{rejected} WHERE id = ?"
        _SQLITE_POSTING.update(
            comment=DriverInsert(Comment.__table__, _COMMENT_COLUMNS, dialect, "id"),
            flags=DriverInsert(Flag.__table__, flag_columns, dialect),
            audit=DriverInsert(ModerationAction.__table__, audit_columns, dialect),
            authors=authors,
            # Core's update() stamped the article's updated_at (its onupdate): so does this.
            article="UPDATE articles SET comment_count = comment_count + 1,"
            " thread_version = thread_version + 1, updated_at = ? WHERE id = ?",
            stamp=stamp,
        )
    return _SQLITE_POSTING


def _post_on_sqlite(
    conn: Any,
    comment_values: tuple[Any, ...],
    article_stamp: Any,
    new: NewComment,
    flags: Sequence[Mapping[str, Any]],
    names: Sequence[str],
    to_state: CommentState,
    reason: ReasonCode | None,
    now: datetime,
) -> int:
    """post_new_comment's writes on SQLite's driver connection, under the write lock.

    The same rows and counters in the same order as the Core statements (and transition());
    SQLAlchemy's execution layer cost about as much as SQLite itself for these seven
    statements, while every other writer waited for the lock. `comment_values` are the
    comment's row as the driver takes it. Returns the comment's id.
    """
    built = _sqlite_posting(conn.dialect)
    cursor = conn.connection.driver_connection.cursor()
    try:
        comment_id = cursor.execute(built["comment"].sql, comment_values).fetchone()[0]
        if flags:
            cursor.executemany(
                built["flags"].sql,
                [
                    built["flags"].values({**flag, "comment_id": comment_id, "created_at": now})
                    for flag in flags
                ],
            )
        audit = _post_audit_row(comment_id, to_state, reason, now)
        cursor.execute(built["audit"].sql, built["audit"].values(audit))
        marks = ", ".join("?" for _ in names)
        counted = {
            name
            for (name,) in cursor.execute(
                f"UPDATE queue_counters SET count = count + 1 WHERE name IN ({marks})"
                " RETURNING name",
                names,
            )
        }
        for name in names:
            if name not in counted:  # a fresh database: the first comment in this queue
                cursor.execute(_CREATE_QUEUE, {"name": name})
        stamp = built["stamp"]
        if to_state is CommentState.REJECTED:
            cursor.execute(built["authors"][to_state], (stamp(now), new.author_id))
        else:
            cursor.execute(built["authors"][to_state], (new.author_id,))
        if to_state is CommentState.PUBLISHED:
            cursor.execute(built["article"], (article_stamp, new.article_id))
    finally:
        cursor.close()
    return comment_id


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


def queue_counts(session: Session) -> dict[str, int]:
    """Every queue counter by name."""
    return {
        name: count
        for name, count in session.execute(select(QueueCounter.name, QueueCounter.count))
    }
