"""E-mail verification (issue 17, point 3): registration mails a link; one click on its page
confirms the address; TRIBUNE_REQUIRE_VERIFIED_EMAIL makes posting, replying and reporting
wait for it (403 email_unverified, a resend action); SSO accounts, CLI-made and demo accounts
and accounts older than the migration need nothing."""

from __future__ import annotations

import html
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import Session

from accounts.embed_sessions import issue_embed_session
from accounts.services import Registration, register_user
from app import create_app
from db import session_scope
from demo.seed import seed_demo
from migrations import alembic_config
from models import Article, CommentState, EmbedVia, Role, User, utcnow
from tests.care_mail import Mailbox, link
from tests.conftest import CHEAP_HASH, TEST_PASSWORD, get_user, login
from tests.factories import CLEAN, ORIGIN, create_comment, error_code, post_comment
from tests.mail_server import SmtpSink

VERIFY = "/e-mail-bevestigen/"
UNVERIFIED = "Bevestig eerst je e-mailadres"


@pytest.fixture
def mailbox(app: Flask, smtp_server: SmtpSink) -> Iterator[Mailbox]:
    yield Mailbox(app, smtp_server)


def page_text(response: Any) -> str:
    return html.unescape(response.get_data(as_text=True))


def register(client: FlaskClient, name: str = "Nieuweling") -> Any:
    return client.post(
        "/registreren",
        data={
            "username": name,
            "email": f"{name.lower()}@example.test",
            "password": TEST_PASSWORD,
            "password_repeat": TEST_PASSWORD,
        },
    )


def verify_link(mailbox: Mailbox, address: str) -> str:
    mails = [mail for mail in mailbox.to(address) if mail.kind == "verify_email"]
    assert mails, mailbox.deliver()
    return link(mails[-1], VERIFY)


def test_registration_mails_a_link_whose_page_confirms_the_address_in_one_click(
    client: FlaskClient, db: Session, mailbox: Mailbox
) -> None:
    assert register(client).status_code == 303
    path = verify_link(mailbox, "nieuweling@example.test")

    page = client.get(path)
    assert page.status_code == 200
    assert "Bevestig mijn e-mailadres" in page_text(page)
    assert page.headers["Referrer-Policy"] == "no-referrer"
    # Opening the link (a mail scanner does) confirms nothing.
    assert get_user(db, "Nieuweling").email_verified_at is None

    done = client.post(path)
    assert done.status_code == 200
    assert "Je e-mailadres is bevestigd" in page_text(done)
    db.expire_all()
    assert get_user(db, "Nieuweling").email_verified_at is not None
    # Single use.
    assert client.get(path).status_code == 404
    assert client.post(path).status_code == 404


def test_an_unknown_verification_link_is_the_dutch_dead_link_page(client: FlaskClient) -> None:
    for response in (client.get(VERIFY + "nope"), client.post(VERIFY + "x" * 300)):
        assert response.status_code == 404
        assert "Deze link werkt niet (meer)" in page_text(response)


def test_nothing_is_required_by_default(
    client: FlaskClient, make_user: Callable[..., User], make_article: Callable[..., Article]
) -> None:
    make_article("a1")
    fan = make_user(email_verified_at=None)
    login(client, fan)
    assert post_comment(client, "a1", CLEAN).status_code == 201


# ---------------------------------------------------------------- TRIBUNE_REQUIRE_VERIFIED_EMAIL


@pytest.fixture
def required(app_settings: dict[str, Any]) -> dict[str, Any]:
    app_settings["TRIBUNE_REQUIRE_VERIFIED_EMAIL"] = True
    return app_settings


def test_an_unverified_fan_cannot_post_reply_or_report_and_gets_403_email_unverified(
    required: dict[str, Any],
    client: FlaskClient,
    db: Session,
    make_user: Callable[..., User],
    make_article: Callable[..., Article],
) -> None:
    article = make_article("a1")
    author = make_user(email_verified_at=utcnow())
    comment = create_comment(db, article, author, CommentState.PUBLISHED)
    fan = make_user()
    assert fan.email_verified_at is None
    login(client, fan)

    posted = post_comment(client, "a1", CLEAN)
    assert posted.status_code == 403 and error_code(posted) == "email_unverified"
    reply = post_comment(client, "a1", CLEAN, parent_id=comment.id)
    assert reply.status_code == 403 and error_code(reply) == "email_unverified"
    report = client.post(
        f"/api/v1/comments/{comment.id}/reports", json={"reason": "spam"}, headers=ORIGIN
    )
    assert report.status_code == 403 and error_code(report) == "email_unverified"

    # The article page says why, with the resend action in place of the form.
    page = page_text(client.get("/artikels/a1"))
    assert UNVERIFIED in page
    assert 'action="/profiel/e-mail/opnieuw?next=/artikels/a1"' in page
    assert "Stuur de link opnieuw" in page
    # A post through the page is refused with the same words.
    refused = client.post("/artikels/a1/reacties", data={"body": CLEAN})
    assert refused.status_code == 403
    assert UNVERIFIED in page_text(refused)


def test_a_verified_fan_and_an_sso_account_may_post(
    required: dict[str, Any],
    app: Flask,
    client: FlaskClient,
    make_user: Callable[..., User],
    make_article: Callable[..., Article],
    mailbox: Mailbox,
) -> None:
    make_article("a1")
    assert register(client, "Bevestigd").status_code == 303
    path = verify_link(mailbox, "bevestigd@example.test")
    client.post(path)
    client.post("/login", data={"login": "Bevestigd", "password": TEST_PASSWORD})
    assert post_comment(client, "a1", CLEAN).status_code == 201

    # An SSO account never confirms an address here (its site vouches for it).
    sso = make_user(password_login=False)
    assert sso.email_verified_at is None
    other = app.test_client()
    login_sso = other.post("/login", data={"login": sso.username, "password": TEST_PASSWORD})
    assert login_sso.status_code == 403  # no password login: post as the SSO embed would
    with session_scope(app) as session:
        _, token = issue_embed_session(session, session.get(User, sso.id), EmbedVia.SSO)
    answer = other.post(
        "/api/v1/articles/a1/comments",
        json={"body": CLEAN, "parent_id": None},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 201, answer.get_data(as_text=True)


def test_the_resend_button_mails_a_new_link_and_the_old_one_stops_working(
    required: dict[str, Any],
    client: FlaskClient,
    db: Session,
    mailbox: Mailbox,
    make_article: Callable[..., Article],
) -> None:
    make_article("a1")
    register(client, "Herhaler")
    first = verify_link(mailbox, "herhaler@example.test")
    client.post("/login", data={"login": "Herhaler", "password": TEST_PASSWORD})
    profile = page_text(client.get("/profiel"))
    assert "nog niet bevestigd" in profile and "Stuur de link opnieuw" in profile

    resent = client.post("/profiel/e-mail/opnieuw?next=/artikels/a1")
    assert resent.status_code == 303
    assert resent.headers["Location"] == "/artikels/a1"
    second = verify_link(mailbox, "herhaler@example.test")
    assert second != first
    assert client.get(first).status_code == 404
    assert client.post(second).status_code == 200
    assert post_comment(client, "a1", CLEAN).status_code == 201
    # Confirmed: nothing to send any more.
    again = client.post("/profiel/e-mail/opnieuw")
    assert again.status_code == 303
    assert "hoeft niet" in page_text(client.get("/profiel"))
    assert len([m for m in mailbox.deliver() if m.kind == "verify_email"]) == 2


def test_the_resend_button_is_throttled_per_account(
    app_settings: dict[str, Any], make_user: Callable[..., User]
) -> None:
    app_settings["TRIBUNE_RATELIMIT_ENABLED"] = True
    app_settings["RATELIMIT_STORAGE_URI"] = "memory://"
    app_settings["TRIBUNE_ACCOUNT_MAIL_LIMIT"] = "2 per hour"
    app = create_app(app_settings)
    try:
        session = app.extensions["tribune.sessionmaker"]()
        name = f"fan_{uuid.uuid4().hex[:10]}"
        fan = register_user(
            session, Registration(name, f"{name}@example.test", TEST_PASSWORD), CHEAP_HASH
        )
        session.commit()
        client = app.test_client()
        login(client, fan)
        statuses = [client.post("/profiel/e-mail/opnieuw").status_code for _ in range(3)]
        assert statuses == [303, 303, 429]
        session.close()
    finally:
        app.extensions["tribune.engine"].dispose()


# ---------------------------------------------------------------- accounts that need nothing


def test_accounts_made_by_the_cli_and_the_demo_seed_count_as_verified(
    runner: Any, db: Session
) -> None:
    result = runner.invoke(
        args=["tribune", "create-user", "Beheerd", "--email", "beheerd@example.test"],
        input=TEST_PASSWORD + "\n",
    )
    assert result.exit_code == 0, result.output
    assert get_user(db, "Beheerd").email_verified_at is not None

    seed_demo(db, CHEAP_HASH)
    db.commit()
    users = list(db.scalars(select(User).where(User.role != Role.FAN)))
    assert users and all(user.email_verified_at is not None for user in users)
    fans = list(db.scalars(select(User).where(User.password_login.is_(True))))
    assert all(user.email_verified_at is not None for user in fans)


def test_accounts_older_than_the_migration_count_as_verified(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    config = alembic_config(url)
    command.upgrade(config, "0010")
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO users (username, username_key, email, password_hash, role, "
                    "is_active, created_at, session_version, password_login, published_count, "
                    "held_count, rejected_count) VALUES ('oud', 'oud', 'oud@example.test', 'x', "
                    "'fan', 1, '2026-01-02 03:04:05.000000', 1, 1, 0, 0, 0)"
                )
            )
        command.upgrade(config, "head")
        with engine.connect() as conn:
            created, verified = conn.execute(
                text("SELECT created_at, email_verified_at FROM users WHERE username = 'oud'")
            ).one()
        assert verified is not None and verified == created
    finally:
        engine.dispose()


def test_the_comments_embed_shows_the_refusal_with_a_link_to_the_profile(
    required: dict[str, Any],
    db: Session,
    client: FlaskClient,
    make_user: Callable[..., User],
    make_article: Callable[..., Article],
) -> None:
    make_article("a1")
    fan = make_user()
    _, token = issue_embed_session(db, fan, EmbedVia.LOGIN)
    db.commit()
    bearer = {"Authorization": f"Bearer {token}"}

    page = page_text(client.get("/embed/comments/a1", headers=bearer))
    assert UNVERIFIED in page
    assert 'href="/profiel#e-mail"' in page
    posted = client.post("/embed/comments/a1/reacties", data={"body": CLEAN}, headers=bearer)
    assert posted.status_code == 403
    assert UNVERIFIED in page_text(posted)
