"""The moderation queue's alarm: thresholds on the oldest held comment's wait and on the number
held, a mail to the staff who opted in, the `queue.alert` event, at most once per 15 minutes
however many workers run."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from db import session_scope
from events import DomainEvent, subscribe
from models import Article, CommentState, Delivery, NotificationKind, Role, User, utcnow
from notifications import preferences
from notifications.alerts import ALERT_INTERVAL, QueueState, alarm_reasons, check_queue
from outbox import run_worker
from tests.factories import create_comment, fresh
from tests.mail_server import SmtpSink
from tests.test_notifications import choices, mails_to, text_of, unsubscribe_link, verified

pytestmark = pytest.mark.usefixtures("own_redis_keys")

ALERTS: list[DomainEvent] = []


@subscribe("queue.alert")
def _record_alert(session: Session, event: DomainEvent) -> None:
    ALERTS.append(event)


@pytest.fixture(autouse=True)
def _no_alerts_yet() -> None:
    ALERTS.clear()


def work(app: Flask) -> None:
    run_worker(app.extensions["tribune.sessionmaker"], app.config, once=True)


def check(app: Flask, now: datetime, wait: int = 30, held: int = 50) -> bool:
    """One alarm check, as the worker's job makes it (its own transaction)."""
    with session_scope(app) as session:
        return check_queue(session, now, wait, held)


@pytest.fixture
def staff(db: Session, make_user: Callable[..., User]) -> dict[str, User]:
    """A moderator and an admin who opted in, a moderator who did not, a fan."""
    people = {
        "alert_mod": verified(make_user, Role.MODERATOR, username="Wakker"),
        "alert_admin": verified(make_user, Role.ADMIN, username="Baas"),
        "quiet_mod": verified(make_user, Role.MODERATOR, username="Slaper"),
        "fan": verified(make_user, username="Supporter"),
    }
    for name in ("alert_mod", "alert_admin"):
        preferences.save_choices(
            db, people[name], {NotificationKind.QUEUE_ALERT: Delivery.IMMEDIATE}
        )
    db.commit()
    return people


def hold(db: Session, article: Article, author: User, n: int) -> datetime:
    """Hold `n` comments; returns when the first one entered the queue."""
    first = create_comment(db, article, author, CommentState.HELD)
    for _ in range(n - 1):
        create_comment(db, article, author, CommentState.HELD)
    assert first.queued_at is not None
    return first.queued_at


# ---------------------------------------------------------------- thresholds (pure)


@pytest.mark.parametrize(
    ("held", "waited", "expected"),
    [
        (3, 30, []),  # exactly the limits: not more
        (4, 30, ["held"]),
        (3, 31, ["wait"]),
        (4, 31, ["wait", "held"]),
        (0, None, []),
    ],
)
def test_thresholds(held: int, waited: int | None, expected: list[str]) -> None:
    now = datetime(2026, 12, 7, 20, 0, tzinfo=utcnow().tzinfo)
    oldest = now - timedelta(minutes=waited) if waited is not None else None

    assert alarm_reasons(QueueState(held, oldest), now, 30, 3) == expected


def test_a_threshold_of_zero_is_off() -> None:
    now = utcnow()

    assert alarm_reasons(QueueState(10_000, now - timedelta(days=3)), now, 0, 0) == []


# ---------------------------------------------------------------- the alarm


def test_a_long_wait_mails_the_staff_who_opted_in_and_publishes_the_event(
    mail_settings: dict[str, Any],
    app: Flask,
    db: Session,
    smtp_server: SmtpSink,
    staff: dict[str, User],
    make_article: Callable[..., Article],
) -> None:
    queued = hold(db, make_article(), staff["fan"], 2)

    assert check(app, queued + timedelta(minutes=29)) is False
    assert check(app, queued + timedelta(minutes=31)) is True
    work(app)

    [mail] = mails_to(smtp_server, staff["alert_mod"].email)
    assert mail["Subject"] == "Wachtrij-alarm: 2 reacties wachten, de oudste 31 min"
    text = text_of(mail)
    assert "De oudste reactie wacht al 31 minuten" in text and "langer dan 30 minuten" in text
    assert "http://127.0.0.1:5000/moderatie/" in text
    assert len(mails_to(smtp_server, staff["alert_admin"].email)) == 1
    assert mails_to(smtp_server, staff["quiet_mod"].email) == []
    assert mails_to(smtp_server, staff["fan"].email) == []
    [event] = ALERTS
    assert event.data["held"] == 2 and event.data["reasons"] == ["wait"]
    assert event.data["oldest_wait_minutes"] == 31
    assert event.data["oldest_queued_at"] == queued.isoformat()


def test_too_many_held_raise_the_alarm(
    mail_settings: dict[str, Any],
    app: Flask,
    db: Session,
    smtp_server: SmtpSink,
    staff: dict[str, User],
    make_article: Callable[..., Article],
) -> None:
    queued = hold(db, make_article(), staff["fan"], 3)

    assert check(app, queued + timedelta(minutes=1), held=3) is False
    hold(db, make_article(), staff["fan"], 1)
    assert check(app, queued + timedelta(minutes=1), held=3) is True
    work(app)

    [mail] = mails_to(smtp_server, staff["alert_mod"].email)
    assert "Er wachten 4 reacties op nakijken, meer dan 3." in text_of(mail)
    assert ALERTS[0].data["reasons"] == ["held"]


def test_at_most_one_alarm_per_15_minutes(
    mail_settings: dict[str, Any],
    app: Flask,
    db: Session,
    smtp_server: SmtpSink,
    staff: dict[str, User],
    make_article: Callable[..., Article],
) -> None:
    queued = hold(db, make_article(), staff["fan"], 1)
    first = queued + timedelta(minutes=40)

    fired = [
        check(app, first + timedelta(minutes=minutes)) for minutes in (0, 1, 14, 15, 16, 29, 30)
    ]

    assert fired == [True, False, False, True, False, False, True]
    assert timedelta(minutes=15) == ALERT_INTERVAL
    work(app)
    assert len(mails_to(smtp_server, staff["alert_mod"].email)) == 3
    assert len(ALERTS) == 3


def test_two_workers_at_once_raise_one_alarm(
    app: Flask, db: Session, staff: dict[str, User], make_article: Callable[..., Article]
) -> None:
    moment = hold(db, make_article(), staff["fan"], 1) + timedelta(minutes=45)
    start = threading.Barrier(2)
    results: list[bool] = []

    def worker() -> None:
        start.wait()
        results.append(check(app, moment))

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(results) == [False, True]
    assert len(ALERTS) == 1


def test_the_worker_job_reads_the_settings(
    mail_settings: dict[str, Any],
    app_settings: dict[str, Any],
    app: Flask,
    db: Session,
    smtp_server: SmtpSink,
    staff: dict[str, User],
    make_article: Callable[..., Article],
) -> None:
    queued = hold(db, make_article(), staff["fan"], 1)
    settings = {**app.config, "TRIBUNE_ALERT_WAIT_MINUTES": 5}

    run_worker(app.extensions["tribune.sessionmaker"], settings, once=True, now=lambda: queued)
    assert ALERTS == []
    later = queued + timedelta(minutes=6)
    run_worker(app.extensions["tribune.sessionmaker"], settings, once=True, now=lambda: later)

    assert [event.data["reasons"] for event in ALERTS] == [["wait"]]
    assert len(mails_to(smtp_server, staff["alert_mod"].email)) == 1


def test_the_alarm_mail_unsubscribes_in_one_click_and_a_suspended_moderator_gets_none(
    mail_settings: dict[str, Any],
    app: Flask,
    db: Session,
    smtp_server: SmtpSink,
    staff: dict[str, User],
    make_article: Callable[..., Article],
) -> None:
    queued = hold(db, make_article(), staff["fan"], 1)
    admin = db.get_one(User, staff["alert_admin"].id)
    admin.banned_until = utcnow() + timedelta(days=1)
    db.commit()
    check(app, queued + timedelta(minutes=31))
    work(app)
    [mail] = mails_to(smtp_server, staff["alert_mod"].email)
    assert mails_to(smtp_server, staff["alert_admin"].email) == []

    assert app.test_client().post(unsubscribe_link(mail)).status_code == 200

    assert choices(db, staff["alert_mod"])[NotificationKind.QUEUE_ALERT] is Delivery.NEVER
    check(app, queued + timedelta(minutes=50))
    work(app)
    fresh(db)
    assert len(mails_to(smtp_server, staff["alert_mod"].email)) == 1
    assert len(ALERTS) == 2  # the event fires whoever reads the mail
