"""Domain events: each is published once, at the one place its thing happens, inside the
transaction that made it happen (what a subscriber writes rolls back with it)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

import events
from comments.services import report_comment
from events import DomainEvent
from models import (
    Article,
    CommentState,
    OutboxMessage,
    Poll,
    ReasonCode,
    Role,
    User,
    utcnow,
)
from moderation import actions
from moderation.rules import PostingPolicy
from outbox import enqueue_mail, run_worker
from polls import services as polls
from tests.conftest import login
from tests.factories import create_comment, fresh, post_comment
from tests.polls_fixtures import create_poll


@pytest.fixture
def heard() -> Iterator[list[DomainEvent]]:
    """Every event published while the test runs."""
    got: list[DomainEvent] = []

    def listen(session: Session, event: DomainEvent) -> None:
        got.append(event)

    for name in events.EVENT_NAMES:
        events.subscribe(name)(listen)
    yield got
    for name in events.EVENT_NAMES:
        events.unsubscribe(name, listen)


def names(heard: list[DomainEvent]) -> list[str]:
    return [event.name for event in heard]


def test_posting_publishes_comment_created(
    app: Flask,
    client: FlaskClient,
    make_user: Callable[..., User],
    make_article: Callable[..., Article],
    heard: list[DomainEvent],
) -> None:
    article = make_article()
    author = make_user()
    login(client, author)
    answer = post_comment(client, article.cms_id, "Mooie goal van Defour gisteren.")
    assert answer.status_code == 201, answer.data
    [event] = heard
    assert event.name == "comment.created"
    assert event.data == {
        "comment_id": answer.get_json()["id"],
        "article_id": article.id,
        "author_id": author.id,
        "parent_id": None,
        "state": "published",
    }


def test_refused_post_publishes_nothing(
    app: Flask,
    client: FlaskClient,
    make_user: Callable[..., User],
    make_article: Callable[..., Article],
    heard: list[DomainEvent],
) -> None:
    article = make_article()
    login(client, make_user())
    assert post_comment(client, article.cms_id, "").status_code == 422
    assert heard == []


def test_moderator_decisions_publish_state_changes_and_report_outcomes(
    db: Session,
    make_user: Callable[..., User],
    make_article: Callable[..., Article],
    heard: list[DomainEvent],
) -> None:
    article = make_article()
    author, reporter, moderator = make_user(), make_user(), make_user(Role.MODERATOR)
    comment = create_comment(db, article, author, CommentState.PUBLISHED)
    heard.clear()
    report, new = report_comment(db, comment.id, reporter, "spam", None, PostingPolicy())
    db.commit()
    assert new and names(heard) == ["report.created"]
    assert heard[0].data == {
        "report_id": report.id,
        "comment_id": comment.id,
        "reporter_id": reporter.id,
        "reason": "spam",
    }
    heard.clear()
    actions.remove(db, moderator, comment.id, ReasonCode.SPAM.value)
    db.commit()
    assert names(heard) == ["report.decided", "comment.state_changed"]
    decided, changed = heard
    assert decided.data["outcome"] == "upheld" and decided.data["reporter_id"] == reporter.id
    assert changed.data["from_state"] == "published" and changed.data["to_state"] == "removed"
    assert changed.data["actor_id"] == moderator.id and changed.data["automated"] is False
    assert changed.data["reason_code"] == "spam"


def test_appeals_publish_created_and_decided(
    db: Session,
    make_user: Callable[..., User],
    make_article: Callable[..., Article],
    heard: list[DomainEvent],
) -> None:
    article = make_article()
    author, moderator = make_user(), make_user(Role.MODERATOR)
    comment = create_comment(db, article, author, CommentState.REJECTED, actor=moderator)
    heard.clear()
    appeal = actions.file_appeal(db, author, comment.id, "Dit was geen spam, echt niet.")
    db.commit()
    assert names(heard) == ["appeal.created"]
    heard.clear()
    actions.decide_appeal(db, moderator, appeal.id, uphold=True)
    db.commit()
    assert names(heard) == ["comment.state_changed", "appeal.decided"]
    assert heard[1].data == {
        "appeal_id": appeal.id,
        "comment_id": comment.id,
        "author_id": author.id,
        "state": "upheld",
    }


def test_suspension_and_its_lifting_publish_user_suspended(
    db: Session, make_user: Callable[..., User], heard: list[DomainEvent]
) -> None:
    fan, moderator = make_user(), make_user(Role.MODERATOR)
    actions.ban(db, moderator, fan.id, "7d", ReasonCode.BELEDIGEND.value)
    db.commit()
    [event] = heard
    assert event.name == "user.suspended" and event.data["permanent"] is False
    assert event.data["until"] > (utcnow() + timedelta(days=6)).isoformat()
    heard.clear()
    actions.lift_ban(db, moderator, fan.id)
    db.commit()
    assert heard[0].data["until"] is None


def test_closed_polls_are_announced_once_by_the_worker(
    app: Flask,
    db: Session,
    make_article: Callable[..., Article],
    heard: list[DomainEvent],
) -> None:
    poll = create_poll(db, make_article())
    sessionmaker = app.extensions["tribune.sessionmaker"]
    run_worker(sessionmaker, app.config, once=True)
    assert "poll.closed" not in names(heard)
    polls.close_poll(db, poll.id, None, utcnow())
    db.commit()
    later = lambda: utcnow() + timedelta(seconds=10)  # noqa: E731  (the job's period passed)
    run_worker(sessionmaker, app.config, once=True, now=later)
    assert [e.data for e in heard if e.name == "poll.closed"] == [
        {"poll_id": poll.id, "article_id": poll.article_id}
    ]
    much_later = lambda: utcnow() + timedelta(seconds=30)  # noqa: E731
    run_worker(sessionmaker, app.config, once=True, now=much_later)
    assert names(heard).count("poll.closed") == 1  # once
    fresh(db)
    assert db.get(Poll, poll.id).closed_announced_at is not None  # type: ignore[union-attr]
    polls.reopen_poll(db, poll.id, None, utcnow())
    db.commit()
    fresh(db)
    assert db.get(Poll, poll.id).closed_announced_at is None  # type: ignore[union-attr]


def test_what_a_subscriber_queues_rolls_back_with_the_event(
    db: Session,
    make_user: Callable[..., User],
    make_article: Callable[..., Article],
) -> None:
    article = make_article()
    author, moderator = make_user(), make_user(Role.MODERATOR)
    comment = create_comment(db, article, author, CommentState.HELD)

    def mail_author(session: Session, event: DomainEvent) -> None:
        enqueue_mail(session, to="a@example.test", template="outbox_test",
                     context={"name": "A"}, kind="test")  # fmt: skip

    events.subscribe("comment.state_changed")(mail_author)
    try:
        actions.approve(db, moderator, comment.id)
        db.rollback()
        assert db.scalar(select(func.count()).select_from(OutboxMessage)) == 0
        actions.approve(db, moderator, comment.id)
        db.commit()
        assert db.scalar(select(func.count()).select_from(OutboxMessage)) == 1
    finally:
        events.unsubscribe("comment.state_changed", mail_author)


def test_muted_blocks_publish_nothing(db: Session, heard: list[DomainEvent]) -> None:
    with events.muted():
        assert events.publish(db, "poll.closed", poll_id=1, article_id=1) is None
        assert not events.has_subscribers("poll.closed")
    assert events.publish(db, "poll.closed", poll_id=1, article_id=1) is not None
    assert names(heard) == ["poll.closed"]


def test_unknown_events_are_refused(db: Session) -> None:
    with pytest.raises(ValueError, match="unknown event"):
        events.publish(db, "comment.liked")
    with pytest.raises(ValueError, match="unknown event"):
        events.subscribe("comment.liked")
