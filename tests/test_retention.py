"""The retention purge: ballots' IP hashes after TRIBUNE_RETAIN_IP_DAYS, the text of rejected and
removed comments after TRIBUNE_RETAIN_REJECTED_DAYS; `flask --app app tribune purge`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from config import DEFAULTS
from errors import DomainError
from models import (
    Appeal,
    Article,
    Ballot,
    Comment,
    CommentState,
    Flag,
    ModerationAction,
    ReasonCode,
    Role,
    User,
    utcnow,
)
from moderation.actions import decide_appeal, file_appeal, restore
from outbox.worker import registered_jobs, run_due_jobs
from privacy.retention import (
    ERASED_AFTER_RETENTION,
    PURGE_EVERY_SECONDS,
    RetentionPolicy,
    purge_expired,
)
from tests.conftest import client_for
from tests.factories import CLEAN_TEXTS, REJECT_TEXT, create_comment, fresh
from tests.polls_fixtures import create_poll, vote

POLICY = RetentionPolicy(ip_days=90, rejected_days=180)


def age(db: Session, model: Any, row_id: int, column: str, days: float) -> None:
    """Make one row's timestamp `days` old."""
    db.execute(
        update(model).where(model.id == row_id).values({column: utcnow() - timedelta(days=days)})
    )
    db.commit()


def purge(db: Session, policy: RetentionPolicy = POLICY, now: datetime | None = None) -> Any:
    fresh(db)
    report = purge_expired(db, now or utcnow(), policy)
    db.commit()
    return report


@pytest.fixture
def ballots(
    app: Flask, db: Session, make_user: Callable[..., User], make_article: Callable[..., Article]
) -> tuple[int, int]:
    """Two ballots with an IP hash (an old and a recent one); their ids."""
    poll = create_poll(db, make_article())
    for name in ("oud", "nieuw"):
        response = vote(client_for(app, make_user(username=name)), poll.id, [poll.options[0].id])
        assert response.status_code == 201
    rows = list(db.scalars(select(Ballot).where(Ballot.poll_id == poll.id).order_by(Ballot.id)))
    assert all(row.ip_hash for row in rows)
    age(db, Ballot, rows[0].id, "created_at", 91)
    return rows[0].id, rows[1].id


def test_the_defaults_are_90_and_180_days() -> None:
    assert DEFAULTS["TRIBUNE_RETAIN_IP_DAYS"] == 90
    assert DEFAULTS["TRIBUNE_RETAIN_REJECTED_DAYS"] == 180
    assert RetentionPolicy.from_config(DEFAULTS) == POLICY


def test_old_ip_hashes_are_erased(db: Session, ballots: tuple[int, int]) -> None:
    old, recent = ballots

    report = purge(db)

    assert report.ip_hashes_erased == 1
    fresh(db)
    assert db.get(Ballot, old).ip_hash is None  # type: ignore[union-attr]
    assert db.get(Ballot, recent).ip_hash is not None  # type: ignore[union-attr]
    assert db.get(Ballot, old).quarantined_at is None  # still counted  # type: ignore[union-attr]
    assert purge(db).ip_hashes_erased == 0  # nothing twice


def test_zero_days_keeps_ip_hashes(db: Session, ballots: tuple[int, int]) -> None:
    report = purge(db, RetentionPolicy(ip_days=0, rejected_days=0))

    assert report.ip_hashes_erased == 0 and report.bodies_erased == 0
    fresh(db)
    assert db.get(Ballot, ballots[0]).ip_hash is not None  # type: ignore[union-attr]


class Comments:
    def __init__(self, db: Session, make_user: Callable[..., User], article: Article) -> None:
        self.author = make_user(username="auteur")
        self.moderator = make_user(Role.MODERATOR, username="moderator")
        make = create_comment
        self.old_rejected = make(db, article, self.author, CommentState.REJECTED, REJECT_TEXT)
        self.old_removed = make(
            db, article, self.author, CommentState.REMOVED, CLEAN_TEXTS[0], actor=self.moderator
        )
        self.old_published = make(db, article, self.author, CommentState.PUBLISHED, CLEAN_TEXTS[1])
        self.recent_rejected = make(db, article, self.author, CommentState.REJECTED, REJECT_TEXT)
        self.appealed = make(db, article, self.author, CommentState.REJECTED, REJECT_TEXT)
        db.add(
            Flag(
                comment_id=self.old_rejected.id,
                code="slur",
                reason=ReasonCode.RACISME,
                severity=3,
                detail="makakken",
                span_start=6,
                span_end=14,
            )
        )
        db.commit()
        file_appeal(db, self.author, self.appealed.id, "Dit was geen racisme.")
        db.commit()
        for comment in (self.old_rejected, self.old_removed, self.old_published, self.appealed):
            age(db, Comment, comment.id, "updated_at", 181)


@pytest.fixture
def comments(
    db: Session, make_user: Callable[..., User], make_article: Callable[..., Article]
) -> Comments:
    return Comments(db, make_user, make_article(cms_id="bewaartermijn"))


def test_old_rejected_and_removed_texts_are_erased(db: Session, comments: Comments) -> None:
    report = purge(db)

    assert report.bodies_erased == 2
    fresh(db)
    rejected = db.get(Comment, comments.old_rejected.id)
    removed = db.get(Comment, comments.old_removed.id)
    assert rejected is not None and removed is not None
    for comment, state, reason in (
        (rejected, CommentState.REJECTED, ReasonCode.RACISME),
        (removed, CommentState.REMOVED, ReasonCode.SPAM),
    ):
        assert comment.body == ERASED_AFTER_RETENTION and comment.body_erased_at is not None
        assert comment.state is state and comment.decision_reason is reason
    flag = db.scalar(select(Flag).where(Flag.comment_id == rejected.id))
    assert flag is not None and flag.reason is ReasonCode.RACISME
    assert flag.span_start is None and flag.span_end is None
    audit = db.scalars(
        select(ModerationAction.action).where(
            ModerationAction.target_type == "comment",
            ModerationAction.target_id == str(rejected.id),
        )
    ).all()
    assert "erase_body" in audit


def test_published_recent_and_appealed_comments_keep_their_text(
    db: Session, comments: Comments
) -> None:
    purge(db)

    fresh(db)
    for comment in (comments.old_published, comments.recent_rejected, comments.appealed):
        stored = db.get(Comment, comment.id)
        assert stored is not None and stored.body_erased_at is None and stored.body == comment.body


def test_a_decided_appeal_no_longer_holds_the_text(db: Session, comments: Comments) -> None:
    appeal = db.scalar(select(Appeal).where(Appeal.comment_id == comments.appealed.id))
    assert appeal is not None
    decide_appeal(db, comments.moderator, appeal.id, uphold=False)
    db.commit()
    age(db, Comment, comments.appealed.id, "updated_at", 181)

    assert purge(db).bodies_erased == 3


def test_an_erased_comment_cannot_come_back(db: Session, comments: Comments) -> None:
    purge(db)
    fresh(db)
    moderator = db.get(User, comments.moderator.id)
    author = db.get(User, comments.author.id)
    assert moderator is not None and author is not None

    with pytest.raises(DomainError) as restored:
        restore(db, moderator, comments.old_rejected.id)
    db.rollback()
    with pytest.raises(DomainError) as appealed:
        file_appeal(db, author, comments.old_removed.id, "Toch graag opnieuw bekijken.")
    db.rollback()

    assert (restored.value.code, restored.value.status_code) == ("body_erased", 409)
    assert (appealed.value.code, appealed.value.status_code) == ("not_appealable", 409)


def test_the_author_sees_the_placeholder(app: Flask, db: Session, comments: Comments) -> None:
    purge(db)

    client: FlaskClient = client_for(app, comments.author)
    page = client.get("/artikels/bewaartermijn").get_data(as_text=True)
    mine = client.get("/api/v1/me/comments").get_json()["comments"]

    assert ERASED_AFTER_RETENTION in page
    assert ERASED_AFTER_RETENTION in {comment["body"] for comment in mine}


def test_the_cli_purges_with_the_settings(
    app: Flask, db: Session, comments: Comments, ballots: tuple[int, int]
) -> None:
    app.config["TRIBUNE_RETAIN_REJECTED_DAYS"] = 365  # nothing is that old yet

    first = app.test_cli_runner().invoke(args=["tribune", "purge"])
    app.config["TRIBUNE_RETAIN_REJECTED_DAYS"] = 30
    second = app.test_cli_runner().invoke(args=["tribune", "purge"])

    assert first.exit_code == 0, first.output
    assert "1 IP-hashes en 0 reactieteksten gewist." in first.output
    assert "0 IP-hashes en 2 reactieteksten gewist." in second.output
    fresh(db)
    stored = db.get(Comment, comments.old_rejected.id)
    assert stored is not None and stored.body == ERASED_AFTER_RETENTION


def test_the_worker_runs_the_purge_every_hour(app: Flask, db: Session, comments: Comments) -> None:
    factory = app.extensions["tribune.sessionmaker"]
    assert "retention_purge" in {job.name for job in registered_jobs()}

    first = run_due_jobs(factory, app.config, only={"retention_purge"})
    again = run_due_jobs(factory, app.config, only={"retention_purge"})
    later = run_due_jobs(
        factory,
        app.config,
        now=lambda: utcnow() + timedelta(seconds=PURGE_EVERY_SECONDS + 1),
        only={"retention_purge"},
    )

    assert first == ["retention_purge"] and again == [] and later == ["retention_purge"]
    fresh(db)
    stored = db.get(Comment, comments.old_rejected.id)
    assert stored is not None and stored.body == ERASED_AFTER_RETENTION
