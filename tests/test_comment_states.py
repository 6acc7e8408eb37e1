"""The comment state machine: every (from, to, action), its audit row and its counters."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from comments.services import report_comment
from db import make_engine
from errors import Conflict
from models import (
    Article,
    Comment,
    CommentState,
    ModerationAction,
    ReasonCode,
    Report,
    ReportOutcome,
    Role,
    User,
)
from moderation.comment_states import TRANSITIONS, transition
from moderation.rules import PostingPolicy
from tallies.recount import recount
from tests.conftest import login
from tests.factories import (
    ORIGIN,
    assert_no_drift,
    audit_trail,
    changes,
    counters,
    create_comment,
    error_code,
    isolate_and_check,
    module_database,
    reload,
    state_change,
)

# docs/design.md "Comments": the only moves, and who makes them.
ALLOWED = {
    ("new", "published", "post"),
    ("new", "held", "post"),
    ("new", "rejected", "post"),
    ("held", "published", "approve"),
    ("held", "rejected", "reject"),
    ("published", "held", "report_threshold"),
    ("published", "held", "edit"),
    ("published", "held", "score_threshold"),
    ("published", "removed", "remove"),
    ("published", "deleted", "delete"),
    ("held", "deleted", "delete"),
    ("rejected", "published", "restore"),
    ("rejected", "published", "appeal_upheld"),
    ("removed", "published", "restore"),
    ("removed", "published", "appeal_upheld"),
    ("deleted", "published", "undelete"),
    ("deleted", "held", "undelete"),
    ("published", "deleted", "account_deleted"),
    ("held", "deleted", "account_deleted"),
}
ACTIONS = (
    "post",
    "approve",
    "reject",
    "report_threshold",
    "score_threshold",
    "edit",
    "remove",
    "delete",
    "restore",
    "appeal_upheld",
    "undelete",
    "account_deleted",
)
FROM_STATES = ("new", *(state.value for state in CommentState))
CASES = [
    (from_state, to_state.value, action)
    for from_state in FROM_STATES
    for to_state in CommentState
    for action in ACTIONS
]
MODERATOR_ACTIONS = {"approve", "reject", "remove", "restore", "appeal_upheld"}
AUTHOR_ACTIONS = {"delete", "edit", "undelete", "account_deleted"}


@pytest.fixture(autouse=True)
def _isolated_and_checked(request: pytest.FixtureRequest) -> Iterator[None]:
    yield from isolate_and_check(request)


@pytest.fixture(scope="module")
def matrix_db(
    request: pytest.FixtureRequest,
    database_template: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Session]:
    """One migrated database for the whole matrix (each case makes its own article and author)."""
    with module_database(request, database_template, tmp_path_factory) as url:
        engine = make_engine(url)
        session = sessionmaker(bind=engine, expire_on_commit=False)()
        yield session
        session.close()
        engine.dispose()


_numbers = itertools.count(1)


def _cast(session: Session) -> tuple[Article, User, User]:
    """A fresh article, author and moderator in the shared matrix database."""
    n = next(_numbers)
    article = Article(cms_id=f"matrix-{n}", title=f"Matrix {n}")
    author = User(
        username=f"auteur{n}",
        username_key=f"auteur{n}",
        email=f"auteur{n}@example.test",
        password_hash="x",
    )
    moderator = User(
        username=f"mod{n}",
        username_key=f"mod{n}",
        email=f"mod{n}@example.test",
        password_hash="x",
        role=Role.MODERATOR,
    )
    session.add_all([article, author, moderator])
    session.commit()
    return article, author, moderator


def _actor(action: str, author: User, moderator: User) -> User | None:
    if action in MODERATOR_ACTIONS:
        return moderator
    if action in AUTHOR_ACTIONS:
        return author
    return None  # posting and the report and score thresholds are the system's doing


def test_the_transition_table_is_the_one_in_the_design() -> None:
    table = {
        (from_state, to_state.value, action)
        for (from_state, to_state), actions in TRANSITIONS.items()
        for action in actions
    }

    assert table == ALLOWED


@pytest.mark.parametrize(
    ("from_state", "to_state", "action"), CASES, ids=["-".join(case) for case in CASES]
)
def test_transition(matrix_db: Session, from_state: str, to_state: str, action: str) -> None:
    session = matrix_db
    article, author, moderator = _cast(session)
    if from_state == "new":
        comment = Comment(article_id=article.id, author_id=author.id, body="Mooie goal van Defour!")
    else:
        comment = create_comment(session, article, author, CommentState(from_state))
    trail_before = audit_trail(session, comment.id) if comment.id else []
    before = counters(session, article, author)
    if comment.id:
        comment = session.get(Comment, comment.id)
    actor = _actor(action, author, moderator)
    reason = ReasonCode.BELEDIGEND if to_state in ("rejected", "removed") else None

    if (from_state, to_state, action) not in ALLOWED:
        with pytest.raises(Conflict) as refused:
            transition(session, comment, CommentState(to_state), action, actor, reason=reason)
        session.rollback()
        assert refused.value.status_code == 409
        assert refused.value.code == "illegal_transition"
        assert refused.value.details == {"from": from_state, "to": to_state, "action": action}
        stored = session.scalars(select(Comment).where(Comment.article_id == article.id)).all()
        assert [c.state.value for c in stored] == ([] if from_state == "new" else [from_state])
        if comment.id:
            assert audit_trail(session, comment.id) == trail_before
        assert changes(before, counters(session, article, author)) == {}
        assert_no_drift(session)
        return

    transition(session, comment, CommentState(to_state), action, actor, reason=reason)
    session.commit()

    stored = reload(session, Comment, comment.id)
    assert stored.state.value == to_state
    expected_row = (action, from_state, to_state, actor.id if actor else None)
    assert audit_trail(session, comment.id) == [*trail_before, expected_row]
    row = session.scalars(
        select(ModerationAction)
        .where(ModerationAction.target_id == str(comment.id))
        .order_by(ModerationAction.id.desc())
    ).first()
    assert row.target_type == "comment"
    assert row.reason_code == (reason.value if reason else None)
    assert stored.decision_reason == reason
    if to_state == "held":
        assert stored.queued_at is not None
    assert changes(before, counters(session, article, author)) == state_change(
        from_state, to_state, action
    )
    assert_no_drift(session)


# ---------------------------------------------------------------- reported comments


@pytest.mark.parametrize(
    ("action", "to_state", "outcome"),
    [
        ("remove", CommentState.REMOVED, ReportOutcome.UPHELD),
        ("delete", CommentState.DELETED, ReportOutcome.PENDING),
        ("report_threshold", CommentState.HELD, ReportOutcome.PENDING),
    ],
)
def test_a_reported_comment_leaving_published_leaves_the_reported_queue(
    db: Session,
    make_user: Callable[..., User],
    make_article: Callable[..., Article],
    action: str,
    to_state: CommentState,
    outcome: ReportOutcome,
) -> None:
    author, reader, moderator = make_user(), make_user(), make_user(Role.MODERATOR)
    article = make_article()
    comment = create_comment(db, article, author, CommentState.PUBLISHED)
    report_comment(db, comment.id, reader, "spam", None, PostingPolicy())
    db.commit()
    before = counters(db, article, author)
    assert before["queue:reported"] == 1

    comment = db.get(Comment, comment.id)
    actor = {"remove": moderator, "delete": author}.get(action)
    transition(db, comment, to_state, action, actor, reason=ReasonCode.SPAM)
    db.commit()

    expected = state_change("published", to_state.value, action)
    expected["queue:reported"] = -1
    assert changes(before, counters(db, article, author)) == expected
    assert db.scalar(select(Report.outcome).where(Report.comment_id == comment.id)) is outcome
    assert_no_drift(db)


def test_approving_a_comment_held_by_reports_dismisses_them(
    db: Session, make_user: Callable[..., User], make_article: Callable[..., Article]
) -> None:
    author, reader, moderator = make_user(), make_user(), make_user(Role.MODERATOR)
    article = make_article()
    comment = create_comment(db, article, author, CommentState.PUBLISHED)
    report_comment(db, comment.id, reader, "beledigend", None, PostingPolicy(report_threshold=0.5))
    db.commit()
    assert reload(db, Comment, comment.id).state is CommentState.HELD

    transition(db, db.get(Comment, comment.id), CommentState.PUBLISHED, "approve", moderator)
    db.commit()

    approved = reload(db, Comment, comment.id)
    assert (approved.state, approved.report_count, approved.report_score) == (
        CommentState.PUBLISHED,
        0,
        0.0,
    )
    assert db.scalar(select(Report.outcome)) is ReportOutcome.DISMISSED
    assert counters(db, article, author)["queue:reported"] == 0
    assert_no_drift(db)


# ---------------------------------------------------------------- through the API


def _delete(client: FlaskClient, comment_id: int) -> Any:
    return client.delete(f"/api/v1/comments/{comment_id}", headers=ORIGIN)


def test_deleting_an_already_deleted_comment_is_not_found(
    client: FlaskClient,
    db: Session,
    make_user: Callable[..., User],
    make_article: Callable[..., Article],
) -> None:
    author = make_user()
    comment = create_comment(db, make_article(), author, CommentState.DELETED)
    login(client, author)

    response = _delete(client, comment.id)

    assert response.status_code == 404
    assert error_code(response) == "comment_not_found"
    assert db.scalar(select(func.count()).select_from(ModerationAction)) == 2  # post, delete
    assert_no_drift(db)


@pytest.mark.parametrize("state", [CommentState.REJECTED, CommentState.REMOVED])
def test_deleting_a_rejected_or_removed_comment_is_an_illegal_transition(
    client: FlaskClient,
    db: Session,
    make_user: Callable[..., User],
    make_article: Callable[..., Article],
    state: CommentState,
) -> None:
    author = make_user()
    comment = create_comment(db, make_article(), author, state)
    login(client, author)

    response = _delete(client, comment.id)

    assert response.status_code == 409
    assert error_code(response) == "illegal_transition"
    assert response.get_json()["error"]["details"] == {
        "from": state.value,
        "to": "deleted",
        "action": "delete",
    }
    assert reload(db, Comment, comment.id).state is state
    assert_no_drift(db)


def test_deleting_a_held_comment_moves_it_out_of_the_held_queue(
    client: FlaskClient,
    db: Session,
    make_user: Callable[..., User],
    make_article: Callable[..., Article],
) -> None:
    author = make_user()
    article = make_article()
    comment = create_comment(db, article, author, CommentState.HELD)
    login(client, author)
    before = counters(db, article, author)

    response = _delete(client, comment.id)

    assert response.status_code == 200
    assert response.get_json() == {"id": comment.id, "state": "deleted"}
    assert changes(before, counters(db, article, author)) == state_change(
        "held", "deleted", "delete"
    )
    assert audit_trail(db, comment.id)[-1] == ("delete", "held", "deleted", author.id)
    assert_no_drift(db)


# ---------------------------------------------------------------- stamps and recounts
# (The posting hot path is held to transition() in tests/test_writes_parity.py.)


@pytest.mark.parametrize(
    ("path", "stamped"),
    [
        ([("post", CommentState.REJECTED)], True),
        ([("post", CommentState.PUBLISHED), ("remove", CommentState.REMOVED)], True),
        ([("post", CommentState.HELD), ("approve", CommentState.PUBLISHED)], False),
        ([("post", CommentState.HELD), ("delete", CommentState.DELETED)], False),
    ],
    ids=["rejected", "removed", "approved", "deleted"],
)
def test_rejections_and_removals_stamp_the_author(
    matrix_db: Session, path: list[tuple[str, CommentState]], stamped: bool
) -> None:
    session = matrix_db
    article, author, moderator = _cast(session)
    comment = Comment(article_id=article.id, author_id=author.id, body="Tekst hier")
    for action, state in path:
        actor = _actor(action, author, moderator)
        transition(session, comment, state, action, actor, reason=ReasonCode.BELEDIGEND)
        session.commit()

    stamp = reload(session, User, author.id).last_rejected_at
    if stamped:
        assert stamp is not None and stamp >= reload(session, Comment, comment.id).created_at
    else:
        assert stamp is None
    assert_no_drift(session)


def test_recount_raises_a_last_rejected_at_that_lies_before_a_rejection(
    matrix_db: Session,
) -> None:
    """Posting skips the rejection-rate query on this column, so recount repairs it."""
    session = matrix_db
    article, author, _ = _cast(session)
    comment = create_comment(session, article, author, CommentState.REJECTED)
    session.execute(update(User).where(User.id == author.id).values(last_rejected_at=None))
    session.commit()

    drifts = [d for d in recount(session) if d.counter == "users.last_rejected_at"]
    session.commit()

    created = reload(session, Comment, comment.id).created_at
    assert [(d.key, d.stored, d.actual) for d in drifts] == [
        (str(author.id), 0, int(created.timestamp()))
    ]
    assert reload(session, User, author.id).last_rejected_at == created


def test_recount_queues_a_held_comment_without_queued_at(matrix_db: Session) -> None:
    """The Wachtrij lists held comments through indexes that hold only queued ones: a held
    comment without queued_at would never be seen, so recount gives it one."""
    from moderation.triage import QueueFilter, list_queue

    session = matrix_db
    article, author, _ = _cast(session)
    comment = create_comment(session, article, author, CommentState.HELD)

    def queued() -> list[int]:
        return [
            item.comment.id for item in list_queue(session, QueueFilter(author=author.username))
        ]

    assert queued() == [comment.id]
    session.execute(update(Comment).where(Comment.id == comment.id).values(queued_at=None))
    session.commit()
    assert queued() == []
    # Its last change, as recount finds it (recount's own write moves updated_at on).
    changed = reload(session, Comment, comment.id).updated_at

    drifts = [d for d in recount(session) if d.counter == "comments.queued_at"]
    session.commit()

    assert [(d.key, d.stored, d.actual) for d in drifts] == [
        (str(comment.id), 0, int(changed.timestamp()))
    ]
    assert reload(session, Comment, comment.id).queued_at == changed
    assert queued() == [comment.id]
