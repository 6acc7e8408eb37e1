"""The daily digest: collected notifications go out as one mail per fan, grouped by kind and
article, once a day at TRIBUNE_DIGEST_HOUR Brussels time; each item once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from brussels import BRUSSELS
from db import session_scope
from models import (
    Article,
    CommentState,
    Delivery,
    DigestItem,
    NotificationKind,
    Role,
    User,
    utcnow,
)
from notifications import preferences
from notifications.digest import digest_moment, group_items, latest_digest_moment, send_due_digests
from outbox import run_worker
from tests.conftest import client_for
from tests.factories import HOLD_TEXT, create_comment, fresh, post_comment
from tests.mail_server import SmtpSink
from tests.test_notifications import mails_to, text_of, unsubscribe_link, verified

pytestmark = pytest.mark.usefixtures("own_redis_keys")
JSON = {"Accept": "application/json"}


def brussels_time(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=BRUSSELS).astimezone(UTC)


def work(app: Flask, now: datetime | None = None) -> None:
    """One worker run (at `now`: its jobs see that time, and mail due by then goes out)."""
    moment = now
    run_worker(
        app.extensions["tribune.sessionmaker"],
        app.config,
        once=True,
        **({"now": lambda: moment} if moment else {}),  # type: ignore[arg-type, return-value]
    )


def digests(app: Flask, now: datetime) -> int:
    with session_scope(app) as session:
        return send_due_digests(session, app.config["TRIBUNE_DIGEST_HOUR"], now)


def add_item(
    db: Session, user: User, kind: NotificationKind, title: str, summary: str, at: datetime
) -> None:
    db.add(
        DigestItem(
            user_id=user.id,
            kind=kind,
            article_title=title,
            data={"summary": summary, "path": "/artikels/x"},
            created_at=at,
        )
    )
    db.commit()


# ---------------------------------------------------------------- the timing rule (pure)


def test_the_digest_moment_is_brussels_time_in_winter_and_summer() -> None:
    assert digest_moment(date(2026, 12, 7), 8) == datetime(2026, 12, 7, 7, tzinfo=UTC)
    assert digest_moment(date(2027, 7, 1), 8) == datetime(2027, 7, 1, 6, tzinfo=UTC)
    # 02:00 does not exist on the spring-forward Sunday: the digest goes at 03:00 local.
    assert digest_moment(date(2027, 3, 28), 2) == datetime(2027, 3, 28, 1, tzinfo=UTC)


def test_the_latest_moment_is_today_after_the_hour_and_yesterday_before_it() -> None:
    day = date(2026, 12, 7)

    assert latest_digest_moment(brussels_time(day, 8, 0), 8) == brussels_time(day, 8)
    assert latest_digest_moment(brussels_time(day, 23, 59), 8) == brussels_time(day, 8)
    assert latest_digest_moment(brussels_time(day, 7, 59), 8) == brussels_time(
        day - timedelta(days=1), 8
    )


def test_items_group_by_kind_in_page_order_then_by_article() -> None:
    def row(n: int, kind: NotificationKind, title: str) -> dict[str, Any]:
        at = datetime(2026, 12, 7, 6, n, tzinfo=UTC)
        return {
            "id": n, "kind": kind, "article_title": title, "created_at": at,
            "data": {"summary": f"item {n}", "path": f"/p{n}"},
        }  # fmt: skip

    groups = group_items(
        [
            row(1, NotificationKind.REPORT, "B"),
            row(2, NotificationKind.REPLY, "A"),
            row(3, NotificationKind.REPLY, "B"),
            row(4, NotificationKind.REPLY, "A"),
            row(5, NotificationKind.SUSPENSION, ""),
        ]
    )

    assert [
        (
            group["heading"],
            [(a["title"], [i["summary"] for i in a["entries"]]) for a in group["articles"]],
        )
        for group in groups
    ] == [
        ("Antwoorden op je reacties", [("A", ["item 2", "item 4"]), ("B", ["item 3"])]),
        ("Wat je meldde", [("B", ["item 1"])]),
        ("Je account", [("Je account", ["item 5"])]),
    ]


# ---------------------------------------------------------------- through the outbox


@pytest.fixture
def fan(db: Session, make_user: Callable[..., User]) -> User:
    user = verified(make_user, username="Digestlezer")
    preferences.save_choices(
        db,
        user,
        {NotificationKind.REPLY: Delivery.DAILY, NotificationKind.DECISION: Delivery.DAILY},
    )
    db.commit()
    return user


def test_two_kinds_collected_go_out_as_one_digest_and_only_once(
    mail_settings: dict[str, Any],
    app: Flask,
    db: Session,
    smtp_server: SmtpSink,
    fan: User,
    make_user: Callable[..., User],
    make_article: Callable[..., Article],
) -> None:
    article = make_article("bekerfinale")
    other = client_for(app, verified(make_user, username="Antwoorder"))
    moderator = client_for(app, verified(make_user, Role.MODERATOR))
    parent = create_comment(db, article, fan, CommentState.PUBLISHED)
    assert post_comment(other, article.cms_id, "Sterk punt!", parent.id).status_code == 201
    held = post_comment(client_for(app, fan), article.cms_id, HOLD_TEXT).get_json()["id"]
    moderator.post(
        f"/moderatie/reacties/{held}/afwijzen", data={"reason": "beledigend"}, headers=JSON
    )
    work(app)
    assert mails_to(smtp_server, fan.email) == []  # collected, not sent
    fresh(db)
    assert db.scalar(select(func.count()).select_from(DigestItem)) == 2

    tomorrow = (utcnow() + timedelta(days=1)).astimezone(BRUSSELS).date()
    work(app, brussels_time(tomorrow, 8, 1))  # the worker's digest job, a day later

    [mail] = mails_to(smtp_server, fan.email)
    assert mail["Subject"] == "Je dagelijkse overzicht van Tribune: 2 meldingen"
    text = text_of(mail)
    assert text.index("== Antwoorden op je reacties ==") < text.index("Antwoorder antwoordde")
    assert text.index("Antwoorder antwoordde") < text.index("== Beslissingen over je reacties ==")
    assert "Je reactie werd niet geplaatst (beledigend)" in text
    assert text.count("Artikel 1") == 2  # each kind's group names the article
    assert unsubscribe_link(mail).split("/")[-1].split(".")[1] == "digest"
    fresh(db)
    assert db.scalar(select(func.count()).select_from(DigestItem)) == 0

    assert digests(app, brussels_time(tomorrow + timedelta(days=1), 9)) == 0  # sent once
    work(app, brussels_time(tomorrow + timedelta(days=1), 9))
    assert len(mails_to(smtp_server, fan.email)) == 1


def test_no_items_no_mail(
    mail_settings: dict[str, Any], app: Flask, smtp_server: SmtpSink, fan: User
) -> None:
    assert digests(app, utcnow() + timedelta(days=2)) == 0
    work(app, utcnow() + timedelta(days=2))

    assert smtp_server.messages() == []


def test_an_item_after_the_hour_waits_for_the_next_day(
    mail_settings: dict[str, Any], app: Flask, db: Session, smtp_server: SmtpSink, fan: User
) -> None:
    day = date(2026, 12, 7)
    add_item(db, fan, NotificationKind.REPLY, "Vroeg", "voor acht uur", brussels_time(day, 7, 30))
    add_item(db, fan, NotificationKind.REPLY, "Laat", "na acht uur", brussels_time(day, 8, 30))

    assert digests(app, brussels_time(day, 7, 59)) == 0  # yesterday's digest: nothing that old
    assert digests(app, brussels_time(day, 8, 5)) == 1
    assert digests(app, brussels_time(day, 20, 0)) == 0  # once a day
    assert digests(app, brussels_time(day + timedelta(days=1), 8, 0)) == 1
    work(app)

    first, second = mails_to(smtp_server, fan.email)
    assert "voor acht uur" in text_of(first) and "na acht uur" not in text_of(first)
    assert "na acht uur" in text_of(second)


def test_a_kind_turned_off_since_drops_its_items_and_the_digest_link_turns_them_off(
    mail_settings: dict[str, Any],
    app: Flask,
    db: Session,
    smtp_server: SmtpSink,
    fan: User,
) -> None:
    earlier = utcnow() - timedelta(days=2)
    add_item(db, fan, NotificationKind.REPLY, "A", "een antwoord", earlier)
    add_item(db, fan, NotificationKind.DECISION, "A", "een beslissing", earlier)
    preferences.save_choices(db, fan, {NotificationKind.DECISION: Delivery.NEVER})
    db.commit()

    assert digests(app, utcnow()) == 1
    work(app)

    [mail] = mails_to(smtp_server, fan.email)
    assert "een antwoord" in text_of(mail) and "een beslissing" not in text_of(mail)
    client: FlaskClient = app.test_client()
    assert client.post(unsubscribe_link(mail)).status_code == 200
    fresh(db)
    assert (
        preferences.current_choices(db, db.get_one(User, fan.id))[NotificationKind.REPLY]
        is Delivery.NEVER
    )


def test_nothing_is_collected_for_a_kind_set_to_never_or_an_account_without_address(
    app: Flask, db: Session, make_user: Callable[..., User], make_article: Callable[..., Article]
) -> None:
    article = make_article()
    silent, sso = verified(make_user), make_user()
    preferences.save_choices(db, silent, {NotificationKind.REPLY: Delivery.NEVER})
    preferences.save_choices(db, sso, {NotificationKind.REPLY: Delivery.DAILY})
    sso.password_login = False  # an SSO account whose site sent no address
    db.commit()
    replier = client_for(app, verified(make_user))

    for parent_author, body in ((silent, "Hallo daar"), (sso, "Goeiedag aan jou")):
        parent = create_comment(db, article, parent_author, CommentState.PUBLISHED)
        assert post_comment(replier, article.cms_id, body, parent.id).status_code == 201

    fresh(db)
    assert db.scalar(select(func.count()).select_from(DigestItem)) == 0
