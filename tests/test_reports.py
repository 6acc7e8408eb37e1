"""Readers' reports: one per reader, weighted, and the threshold that hides a comment."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from comments.services import report_comment
from db import begin_write
from errors import DomainError
from models import (
    Article,
    Comment,
    CommentState,
    ReasonCode,
    Report,
    ReportOutcome,
    User,
    utcnow,
)
from moderation.rules import PostingPolicy
from tests.conftest import login
from tests.factories import (
    CLEAN_TEXTS,
    ORIGIN,
    SharedApp,
    assert_no_drift,
    audit_rows,
    audit_trail,
    changes,
    comments_url,
    counters,
    create_comment,
    error_code,
    fresh,
    isolate_and_check,
    module_database,
    reload,
    shared_app,
    state_change,
)

ALL_REASONS = [code.value for code in ReasonCode]


@pytest.fixture(autouse=True)
def _isolated_and_checked(request: pytest.FixtureRequest) -> Iterator[None]:
    yield from isolate_and_check(request)


@pytest.fixture(scope="module")
def shared(
    request: pytest.FixtureRequest,
    database_template: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[SharedApp]:
    """One app for the refused reports below: none of them may store a report."""
    with (
        module_database(request, database_template, tmp_path_factory) as url,
        shared_app(url) as shared,
    ):
        yield shared


def _no_reports(shared: SharedApp) -> None:
    fresh(shared.db)
    assert shared.db.scalar(select(func.count()).select_from(Report)) == 0
    stored = shared.db.get(Comment, shared.comment.id)
    assert (stored.state, stored.report_count, stored.queued_at) == (
        CommentState.PUBLISHED,
        0,
        None,
    )
    assert_no_drift(shared.db)


@pytest.fixture
def article(make_article: Callable[..., Article]) -> Article:
    return make_article()


@pytest.fixture
def author(make_user: Callable[..., User]) -> User:
    return make_user()


@pytest.fixture
def comment(db: Session, article: Article, author: User) -> Comment:
    return create_comment(db, article, author, CommentState.PUBLISHED)


def _report(client: FlaskClient, comment_id: int, reason: object = "beledigend", **extra: Any):
    return client.post(
        f"/api/v1/comments/{comment_id}/reports",
        json={"reason": reason, **extra},
        headers=ORIGIN,
    )


def _reader(app: Flask, user: User) -> FlaskClient:
    reader = app.test_client()
    login(reader, user)
    return reader


def _old(make_user: Callable[..., User]) -> User:
    """A reader whose account is a month old (full weight)."""
    return make_user(created_at=utcnow() - timedelta(days=30))


# ---------------------------------------------------------------- one report per reader


def test_first_report_is_201_and_the_comment_stays_published_in_the_reported_queue(
    client: FlaskClient,
    db: Session,
    make_user: Callable[..., User],
    article: Article,
    author: User,
    comment: Comment,
) -> None:
    reader = make_user()
    login(client, reader)
    before = counters(db, article, author)

    response = _report(client, comment.id, "spam", note="  Reclame voor een goksite  ")

    assert response.status_code == 201
    body = response.get_json()
    assert (body["comment_id"], body["reason"], body["outcome"]) == (comment.id, "spam", "pending")
    report = reload(db, Report, body["id"])
    assert (report.reporter_id, report.reason, report.note) == (
        reader.id,
        ReasonCode.SPAM,
        "Reclame voor een goksite",
    )
    stored = reload(db, Comment, comment.id)
    assert (stored.state, stored.report_count, stored.report_score) == (
        CommentState.PUBLISHED,
        1,
        0.5,
    )
    assert stored.queued_at is not None
    assert changes(before, counters(db, article, author)) == {"queue:reported": 1}
    assert counters(db, article, author)["queue:reported"] == 1
    listing = client.get(comments_url(article.cms_id)).get_json()
    assert [c["id"] for c in listing["comments"]] == [comment.id]
    assert_no_drift(db)


def test_a_repeat_report_is_200_with_the_same_report(
    client: FlaskClient,
    db: Session,
    make_user: Callable[..., User],
    article: Article,
    author: User,
    comment: Comment,
) -> None:
    login(client, make_user())
    first = _report(client, comment.id, "beledigend")
    before = counters(db, article, author)

    again = _report(client, comment.id, "spam", note="toch spam")

    assert first.status_code == 201
    assert again.status_code == 200
    assert again.get_json()["id"] == first.get_json()["id"]
    assert again.get_json()["reason"] == "beledigend"
    assert db.scalar(select(func.count()).select_from(Report)) == 1
    stored = reload(db, Comment, comment.id)
    assert (stored.report_count, stored.report_score) == (1, 0.5)
    assert changes(before, counters(db, article, author)) == {}
    assert_no_drift(db)


def test_a_second_reader_adds_to_the_count_but_not_to_the_reported_queue(
    app: Flask,
    db: Session,
    make_user: Callable[..., User],
    article: Article,
    author: User,
    comment: Comment,
) -> None:
    for _ in range(2):
        assert _report(_reader(app, make_user()), comment.id).status_code == 201

    stored = reload(db, Comment, comment.id)
    assert (stored.state, stored.report_count, stored.report_score) == (
        CommentState.PUBLISHED,
        2,
        1.0,
    )
    assert counters(db, article, author)["queue:reported"] == 1
    assert_no_drift(db)


def test_reporting_ones_own_comment_is_409(shared: SharedApp) -> None:
    writer = _reader(shared.app, shared.writer)

    response = _report(writer, shared.comment.id)

    assert response.status_code == 409
    assert error_code(response) == "own_comment"
    _no_reports(shared)


@pytest.mark.parametrize("reason", ["grof", "", None, 3, "BELEDIGEND", ["spam"]])
def test_an_unknown_reason_is_422_with_the_allowed_codes(shared: SharedApp, reason: object) -> None:
    response = _report(shared.client, shared.comment.id, reason)

    assert response.status_code == 422
    assert error_code(response) == "invalid_reason"
    assert response.get_json()["error"]["details"]["allowed"] == ALL_REASONS
    _no_reports(shared)


@pytest.mark.parametrize("note", ["x" * 501, 42, ["lang"]])
def test_an_invalid_note_is_422(shared: SharedApp, note: object) -> None:
    response = _report(shared.client, shared.comment.id, note=note)

    assert response.status_code == 422
    assert error_code(response) == "invalid_note"
    _no_reports(shared)


@pytest.mark.parametrize(
    "state",
    [CommentState.HELD, CommentState.REJECTED, CommentState.REMOVED, CommentState.DELETED],
)
def test_only_published_comments_can_be_reported(
    client: FlaskClient,
    db: Session,
    make_user: Callable[..., User],
    article: Article,
    author: User,
    state: CommentState,
) -> None:
    hidden = create_comment(db, article, author, state)
    login(client, make_user())

    response = _report(client, hidden.id)

    assert response.status_code == 404
    assert error_code(response) == "comment_not_found"
    assert db.scalar(select(func.count()).select_from(Report)) == 0


def test_reporting_a_missing_comment_is_404(shared: SharedApp) -> None:
    response = _report(shared.client, 987654)

    assert response.status_code == 404
    assert error_code(response) == "comment_not_found"


def test_anonymous_cannot_report_401(shared: SharedApp) -> None:
    response = _report(shared.anonymous(), shared.comment.id)

    assert response.status_code == 401
    assert error_code(response) == "login_required"
    _no_reports(shared)


# ---------------------------------------------------------------- the weighted threshold


def test_three_full_weight_reports_hold_the_comment(
    app: Flask,
    db: Session,
    make_user: Callable[..., User],
    article: Article,
    author: User,
    comment: Comment,
) -> None:
    readers = [_reader(app, _old(make_user)) for _ in range(3)]
    for reader in readers[:2]:
        assert _report(reader, comment.id).status_code == 201
    assert reload(db, Comment, comment.id).state is CommentState.PUBLISHED
    assert counters(db, article, author)["queue:reported"] == 1
    before = counters(db, article, author)

    response = _report(readers[2], comment.id)

    assert response.status_code == 201
    stored = reload(db, Comment, comment.id)
    assert (stored.state, stored.report_count, stored.report_score) == (
        CommentState.HELD,
        3,
        3.0,
    )
    assert audit_trail(db, comment.id)[-1] == ("report_threshold", "published", "held", None)
    assert audit_rows(db, comment.id)[-1].note == "meldscore 3.00"
    expected = state_change("published", "held", "report_threshold")
    expected["queue:reported"] = -1
    assert changes(before, counters(db, article, author)) == expected
    listing = readers[0].get(comments_url(article.cms_id)).get_json()
    assert listing["comments"] == []
    assert listing["count"] == 0
    assert_no_drift(db)


def test_new_accounts_weigh_half_so_their_reports_alone_need_six_readers(
    app: Flask,
    db: Session,
    make_user: Callable[..., User],
    article: Article,
    author: User,
    comment: Comment,
) -> None:
    readers = [_reader(app, make_user()) for _ in range(6)]
    for reader in readers[:5]:
        assert _report(reader, comment.id).status_code == 201

    stored = reload(db, Comment, comment.id)
    assert (stored.state, stored.report_count, stored.report_score) == (
        CommentState.PUBLISHED,
        5,
        2.5,
    )
    assert counters(db, article, author)["queue:reported"] == 1
    assert db.scalars(select(Report.weight)).all() == [0.5] * 5

    assert _report(readers[5], comment.id).status_code == 201

    assert reload(db, Comment, comment.id).state is CommentState.HELD
    assert counters(db, article, author)["queue:reported"] == 0
    assert audit_trail(db, comment.id)[-1] == ("report_threshold", "published", "held", None)
    assert_no_drift(db)


def _track_record(
    db: Session,
    reporter: User,
    make_user: Callable[..., User],
    make_article: Callable[..., Article],
    upheld: int,
    dismissed: int,
) -> None:
    """Earlier reports by `reporter` that moderators settled."""
    if not upheld and not dismissed:
        return
    writer, elsewhere = make_user(), make_article()
    outcomes = [ReportOutcome.UPHELD] * upheld + [ReportOutcome.DISMISSED] * dismissed
    for number, outcome in enumerate(outcomes):
        target = create_comment(
            db, elsewhere, writer, CommentState.PUBLISHED, body=CLEAN_TEXTS[number % 13]
        )
        db.add(
            Report(
                comment_id=target.id,
                reporter_id=reporter.id,
                reason=ReasonCode.BELEDIGEND,
                weight=1.0,
                outcome=outcome,
                resolved_at=utcnow(),
            )
        )
    db.commit()


@pytest.mark.parametrize(
    ("age_days", "upheld", "dismissed", "weight"),
    [
        (30, 0, 0, 1.0),
        (1, 0, 0, 0.5),
        (30, 4, 0, 2.0),
        (30, 10, 0, 2.5),
        (1, 2, 0, 1.0),
        (30, 0, 2, 0.5),
        (1, 0, 3, 0.25),
        (30, 2, 1, 1.25),
    ],
)
def test_a_reporters_weight_follows_account_age_and_track_record(
    app: Flask,
    db: Session,
    make_user: Callable[..., User],
    make_article: Callable[..., Article],
    comment: Comment,
    age_days: int,
    upheld: int,
    dismissed: int,
    weight: float,
) -> None:
    reporter = make_user(created_at=utcnow() - timedelta(days=age_days))
    _track_record(db, reporter, make_user, make_article, upheld, dismissed)

    response = _report(_reader(app, reporter), comment.id)

    assert response.status_code == 201
    assert reload(db, Report, response.get_json()["id"]).weight == weight
    assert reload(db, Comment, comment.id).report_score == weight
    assert_no_drift(db)


def test_two_readers_with_upheld_reports_are_enough_to_hold(
    app: Flask,
    db: Session,
    make_user: Callable[..., User],
    make_article: Callable[..., Article],
    article: Article,
    author: User,
    comment: Comment,
) -> None:
    trusted = [_old(make_user) for _ in range(2)]
    for reporter in trusted:
        _track_record(db, reporter, make_user, make_article, upheld=4, dismissed=0)

    first = _report(_reader(app, trusted[0]), comment.id)
    assert reload(db, Comment, comment.id).state is CommentState.PUBLISHED
    second = _report(_reader(app, trusted[1]), comment.id)

    assert (first.status_code, second.status_code) == (201, 201)
    stored = reload(db, Comment, comment.id)
    assert (stored.state, stored.report_score) == (CommentState.HELD, 4.0)
    assert audit_trail(db, comment.id)[-1] == ("report_threshold", "published", "held", None)
    assert_no_drift(db)


@pytest.fixture
def threshold_of_one(app_settings: dict[str, Any]) -> None:
    app_settings["TRIBUNE_REPORT_THRESHOLD"] = 1


def test_the_threshold_comes_from_the_settings(
    threshold_of_one: None,
    app: Flask,
    db: Session,
    make_user: Callable[..., User],
    article: Article,
    author: User,
    comment: Comment,
) -> None:
    response = _report(_reader(app, _old(make_user)), comment.id)

    assert response.status_code == 201
    assert reload(db, Comment, comment.id).state is CommentState.HELD
    assert_no_drift(db)


# Sessions of this test's database that wait for a lock (other tests share the server).
WAITING_HERE = text(
    "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
    " WHERE NOT l.granted AND a.datname = current_database()"
)


def _wait_until_blocked(db: Session, seconds: float = 5.0) -> None:
    """Give the other transaction time to reach its lock wait (PostgreSQL: until it waits)."""
    if db.get_bind().dialect.name != "postgresql":
        time.sleep(0.5)  # SQLite: the other writer waits in BEGIN IMMEDIATE
        return
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        fresh(db)
        if db.scalar(WAITING_HERE):
            return
        time.sleep(0.02)
    raise AssertionError("the second report never waited for the first")


def test_two_reports_crossing_the_threshold_at_once_hold_the_comment_once(
    app: Flask,
    db: Session,
    make_user: Callable[..., User],
    article: Article,
    author: User,
    comment: Comment,
) -> None:
    policy = PostingPolicy(report_threshold=1.0)
    # Plain ids: the thread must not touch rows loaded by this thread's session.
    first_id, second_id, comment_id = _old(make_user).id, _old(make_user).id, comment.id
    sessions = app.extensions["tribune.sessionmaker"]
    outcome: dict[str, str] = {}

    def second_report() -> None:
        with sessions() as second:
            begin_write(second)
            try:
                reporter = second.get(User, second_id)
                report_comment(second, comment_id, reporter, "spam", None, policy)
                second.commit()
                outcome["second"] = "reported"
            except DomainError as exc:
                second.rollback()
                outcome["second"] = exc.code

    first = sessions()
    begin_write(first)
    report_comment(first, comment_id, first.get(User, first_id), "spam", None, policy)
    worker = threading.Thread(target=second_report)
    worker.start()
    try:
        _wait_until_blocked(db)
    finally:
        first.commit()
        first.close()
        worker.join(30)

    assert outcome["second"] in ("reported", "comment_not_found")
    assert reload(db, Comment, comment_id).state is CommentState.HELD
    thresholds = [row for row in audit_trail(db, comment_id) if row[0] == "report_threshold"]
    assert thresholds == [("report_threshold", "published", "held", None)]
    assert_no_drift(db)
